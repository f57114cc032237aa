import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { trackTemp, untrackTemp } from '../temp-files.js';

/** Bytes [start, end) of a plain file, as DuckDB should read them. */
export interface ByteRange {
  path: string;
  start: number;
  end: number;
}

/**
 * Runs `work` with a path DuckDB can read each range from: the file itself when the range is the
 * whole file; otherwise (what was appended since the last read, a file without its partial last
 * line or its byte order mark, one part of a large file) a temporary copy of those bytes, removed
 * after. (A named pipe would spare the copy, but DuckDB keeps what it reads from a pipe in memory,
 * beyond its limit for large ranges.) Callers keep ranges to a bounded size.
 */
export async function withByteRanges<T>(
  ranges: readonly ByteRange[],
  work: (paths: string[]) => Promise<T>,
): Promise<T> {
  const copies = ranges.map((range) => !isWholeFile(range));
  if (!copies.some((c) => c)) return work(ranges.map((r) => r.path));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-range-'));
  trackTemp(dir);
  try {
    const paths: string[] = [];
    for (const [i, range] of ranges.entries()) {
      if (!copies[i]) {
        paths.push(range.path);
        continue;
      }
      const target = path.join(dir, `part-${i}.jsonl`);
      await copyRange(range, target);
      paths.push(target);
    }
    return await work(paths);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    untrackTemp(dir);
  }
}

export function isWholeFile(range: ByteRange): boolean {
  return range.start === 0 && range.end === fs.statSync(range.path).size;
}

async function copyRange(range: ByteRange, target: string): Promise<void> {
  if (range.end <= range.start) {
    fs.writeFileSync(target, '');
    return;
  }
  await pipeline(
    fs.createReadStream(range.path, { start: range.start, end: range.end - 1, highWaterMark: 1 << 20 }),
    fs.createWriteStream(target),
  );
}
