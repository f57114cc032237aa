import fs from 'node:fs';
import zlib from 'node:zlib';
import type { LogFile } from './log-file.js';

export const CHUNK_BYTES = 1 << 20;

/** The file's bytes as a stream of chunks (decompressed when gzip), read with bounded memory. */
export function openByteStream(file: Pick<LogFile, 'path' | 'gzip'>, start = 0): AsyncIterable<Buffer> {
  const raw = fs.createReadStream(file.path, { highWaterMark: CHUNK_BYTES, start });
  if (!file.gzip) return raw;
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK_BYTES });
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

export function stripBom(buffer: Buffer): Buffer {
  return buffer.length >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf
    ? buffer.subarray(3)
    : buffer;
}
