import fs from 'node:fs';
import { parseJsonRecord } from '../formats/json-record.js';
import type { LogFile } from '../formats/log-file.js';
import type { FileProbe } from '../formats/probe.js';
import { isPlainObject } from '../formats/record.js';
import type { IndexedFile } from './index-db.js';
import type { PartialLine } from './run-index.js';

/** Byte ranges (not whole files) are read from temporary copies of at most this size. */
export const COPY_BYTES = 1 << 30;

/**
 * The bytes of a whole file DuckDB reads with a typed read: all of it, after a byte order mark,
 * without a partial last line. Undefined when only the JS readers can read it.
 */
export function fullRange(
  file: LogFile,
  size: number,
  probe: FileProbe,
):
  | {
      range: { path: string; start: number; end: number };
      layout: 'jsonl' | 'array';
      partial?: Omit<PartialLine, 'fileId'>;
    }
  | undefined {
  if (probe.layout !== 'jsonl' && probe.layout !== 'array') return undefined;
  if (file.gzip)
    return probe.bom ? undefined : { range: { path: file.path, start: 0, end: size }, layout: probe.layout };
  const start = probe.bom ? 3 : 0;
  if (probe.layout === 'array' || probe.endsWithNewline)
    return { range: { path: file.path, start, end: size }, layout: probe.layout };
  const tail = lastLine(file.path, size);
  if (!tail || isCompleteRecord(tail.text))
    return { range: { path: file.path, start, end: size }, layout: 'jsonl' };
  return {
    range: { path: file.path, start, end: Math.max(start, tail.start) },
    layout: 'jsonl',
    partial: { line: 0, bytes: size - tail.start },
  };
}

/** The bytes appended to a JSON lines file that are complete lines, and a partial last line. */
export function appendRange(known: IndexedFile, size: number): { end: number; partial?: PartialLine } {
  const tail = lastLine(known.path, size, known.indexedBytes);
  if (!tail || isCompleteRecord(tail.text)) return { end: size };
  return { end: tail.start, partial: { fileId: known.fileId, line: 0, bytes: size - tail.start } };
}

/** The first offset after a newline at or after `from` (or `end`). */
export function lineEndAfter(path: string, from: number, end: number): number {
  if (from >= end) return end;
  const fd = fs.openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    for (let at = from; at < end; at += buffer.length) {
      const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at);
      if (n <= 0) break;
      const newline = buffer.subarray(0, n).indexOf(10);
      if (newline >= 0) return at + newline + 1;
    }
    return end;
  } finally {
    fs.closeSync(fd);
  }
}

/** The text after the last newline of a file (undefined when it ends with one). */
export function lastLine(path: string, size: number, from = 0): { start: number; text: string } | undefined {
  const fd = fs.openSync(path, 'r');
  try {
    const block = 1 << 16;
    let end = size;
    const parts: Buffer[] = [];
    while (end > from) {
      const start = Math.max(from, end - block);
      const buffer = Buffer.alloc(end - start);
      fs.readSync(fd, buffer, 0, buffer.length, start);
      const newline = buffer.lastIndexOf(10);
      if (newline >= 0) {
        if (newline === buffer.length - 1 && parts.length === 0) return undefined;
        parts.unshift(buffer.subarray(newline + 1));
        return { start: start + newline + 1, text: Buffer.concat(parts).toString('utf8') };
      }
      parts.unshift(buffer);
      end = start;
      if (size - end > 256 << 20) break;
    }
    return { start: from, text: Buffer.concat(parts).toString('utf8') };
  } finally {
    fs.closeSync(fd);
  }
}

export function isCompleteRecord(text: string): boolean {
  try {
    return isPlainObject(parseJsonRecord(text.trim()));
  } catch {
    return false;
  }
}
