import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const NEWLINE = Buffer.from('\n');

/** A file opened for appending whole lines: every write lands at the current end of the file. */
export interface AppendFile {
  fd: number;
  /** Size as this writer knows it (its own writes added; other processes' writes are not seen). */
  size: number;
}

/**
 * Opens (creating it, and its directory if asked) a file with O_APPEND. If the file is not empty and
 * its last byte is not "\n" — a previous writer crashed in the middle of a line — a single "\n" is
 * written first, so that broken line stays on its own line and the next event is not glued to it.
 */
export function openAppendFile(path: string, options: { mkdir?: boolean; mode?: number } = {}): AppendFile {
  if (options.mkdir !== false) mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
    options.mode ?? 0o644,
  );
  try {
    const file = { fd, size: fstatSync(fd).size };
    if (file.size > 0 && !endsWithNewline(path, file.size)) writeWhole(file, NEWLINE);
    return file;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function endsWithNewline(path: string, size: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 10;
  } finally {
    closeSync(fd);
  }
}

/** Thrown when a write failed part-way; `written` bytes of the buffer reached the file. */
export class PartialWriteError extends Error {
  constructor(
    readonly written: number,
    override readonly cause: unknown,
  ) {
    super(`write failed after ${written} bytes: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * Writes the whole buffer with one write() call. Regular files on local filesystems only return a
 * short count on errors such as a full disk; then the rest is retried and, if that fails, a
 * PartialWriteError says how much was written.
 */
export function writeWhole(file: AppendFile, buffer: Buffer): void {
  let written = 0;
  try {
    while (written < buffer.length) written += writeSync(file.fd, buffer, written, buffer.length - written);
  } catch (error) {
    throw new PartialWriteError(written, error);
  } finally {
    file.size += written;
  }
}
