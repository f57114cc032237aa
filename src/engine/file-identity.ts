import crypto from 'node:crypto';
import fs from 'node:fs';
import type { LogFile } from '../formats/log-file.js';
import type { IndexedFile } from './index-db.js';

/**
 * What identifies the bytes of a file the index has read, so a later look can tell an append
 * (the same bytes, more after them) from a rewrite, and find a file a rotation renamed.
 */
const IDENTITY_BYTES = 1024;

/** Hashes of the first and last KiB of a file's first `indexed` bytes: what identifies what was read of it. */
export function identity(path: string, indexed: number): { headHash: string; tailHash: string } {
  return {
    headHash: hashBytes(path, 0, Math.min(IDENTITY_BYTES, indexed)),
    tailHash: hashBytes(path, Math.max(0, indexed - IDENTITY_BYTES), Math.min(IDENTITY_BYTES, indexed)),
  };
}

/**
 * The same file at another path, or the same path grown: the bytes indexed of it are still its
 * first bytes (the first and last KiB of them unchanged).
 */
export function sameStart(known: IndexedFile, file: LogFile, stat: fs.Stats): boolean {
  if (stat.size < known.indexedBytes || known.gzip !== file.gzip) return false;
  const now = identity(file.path, known.indexedBytes);
  return now.headHash === known.headHash && now.tailHash === known.tailHash;
}

function hashBytes(path: string, position: number, length: number): string {
  const fd = fs.openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.max(0, length));
    const n = fs.readSync(fd, buffer, 0, buffer.length, position);
    return crypto.createHash('sha1').update(buffer.subarray(0, n)).digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

/** Same size, modification time and inode as when it was read. */
export function unchanged(known: IndexedFile, stat: fs.Stats): boolean {
  return stat.size === known.size && stat.mtimeMs === known.mtimeMs && stat.ino === known.ino;
}

export function statOrUndefined(path: string): fs.Stats | undefined {
  try {
    return fs.statSync(path);
  } catch {
    return undefined;
  }
}
