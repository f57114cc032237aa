const PNG_SIGNATURE_LENGTH = 8;
const IHDR_CHUNK_LENGTH = 4 + 4 + 13 + 4;
const METRES_PER_INCH = 0.0254;
const PNG_START = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
  Buffer.from('IHDR', 'latin1'),
]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG (and zlib) define it. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Pixels per metre for a resolution in dots per inch (300 DPI → 11811). */
export function pixelsPerMetre(dpi: number): number {
  return Math.round(dpi / METRES_PER_INCH);
}

/**
 * Returns a copy of `png` that declares `dpi` in a pHYs chunk right after IHDR, replacing any
 * pHYs chunk already present.
 */
export function setPngDpi(png: Uint8Array, dpi: number): Buffer {
  if (!Buffer.from(png.subarray(0, 16)).equals(PNG_START)) {
    throw new Error('setPngDpi: expected PNG bytes (signature, then an IHDR chunk)');
  }
  const withoutPhys = removeChunks(png, 'pHYs');
  const ppm = pixelsPerMetre(dpi);
  const chunk = Buffer.alloc(4 + 4 + 9 + 4);
  chunk.writeUInt32BE(9, 0);
  chunk.write('pHYs', 4, 'latin1');
  chunk.writeUInt32BE(ppm, 8);
  chunk.writeUInt32BE(ppm, 12);
  chunk.writeUInt8(1, 16); // unit: metre
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 17)), 17);
  const insertAt = PNG_SIGNATURE_LENGTH + IHDR_CHUNK_LENGTH;
  return Buffer.concat([withoutPhys.subarray(0, insertAt), chunk, withoutPhys.subarray(insertAt)]);
}

/** Reads the pHYs chunk: pixels per unit and the unit (1 = metre), or undefined if absent. */
export function readPngPhys(png: Uint8Array): { x: number; y: number; unit: number } | undefined {
  for (const chunk of pngChunks(png)) {
    if (chunk.type !== 'pHYs') continue;
    const data = Buffer.from(png.buffer, png.byteOffset + chunk.start + 8, 9);
    return { x: data.readUInt32BE(0), y: data.readUInt32BE(4), unit: data.readUInt8(8) };
  }
  return undefined;
}

interface ChunkPosition {
  type: string;
  start: number;
  end: number;
}

function* pngChunks(png: Uint8Array): Generator<ChunkPosition> {
  const bytes = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  let offset = PNG_SIGNATURE_LENGTH;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const end = offset + 12 + length;
    yield { type: bytes.toString('latin1', offset + 4, offset + 8), start: offset, end };
    offset = end;
  }
}

function removeChunks(png: Uint8Array, type: string): Buffer {
  const kept: Buffer[] = [Buffer.from(png.subarray(0, PNG_SIGNATURE_LENGTH))];
  for (const chunk of pngChunks(png)) {
    if (chunk.type !== type) kept.push(Buffer.from(png.subarray(chunk.start, chunk.end)));
  }
  return Buffer.concat(kept);
}
