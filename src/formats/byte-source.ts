import fs from 'node:fs';
import zlib from 'node:zlib';
import type { LogFile } from './log-file.js';

export const CHUNK_BYTES = 1 << 20;

/** A file's bytes as chunks; `diskBytes()` counts bytes read from disk (compressed bytes for gzip). */
export interface ByteStream extends AsyncIterable<Buffer> {
  diskBytes(): number;
}

/** The file's bytes as a stream of chunks (decompressed when gzip), read with bounded memory. */
export function openByteStream(file: Pick<LogFile, 'path' | 'gzip'>, start = 0): ByteStream {
  const raw = fs.createReadStream(file.path, { highWaterMark: CHUNK_BYTES, start });
  const diskBytes = (): number => raw.bytesRead;
  if (!file.gzip) return Object.assign(raw, { diskBytes });
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK_BYTES });
  raw.on('error', (error) => gunzip.destroy(error));
  return Object.assign(raw.pipe(gunzip), { diskBytes });
}

export function stripBom(buffer: Buffer): Buffer {
  return buffer.length >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf
    ? buffer.subarray(3)
    : buffer;
}
