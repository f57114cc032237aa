import { spawnSync } from 'node:child_process';
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

/** Ranges above this are fed through two pipes, so that DuckDB reads them on two threads. */
const SPLIT_ABOVE = 64 << 20;

/**
 * Runs `work` with paths DuckDB can read each range from. A range that is a whole file is the
 * file itself; any other (a file without its partial last line, what was appended since the last
 * read, a file after its byte order mark) is fed through a named pipe by this process while DuckDB
 * reads it: no copy on disk. Large ranges are split at a line end into two pipes. Where named pipes
 * cannot be made, the bytes are copied to a temporary file.
 */
export async function withByteRanges<T>(
  ranges: readonly ByteRange[],
  work: (paths: string[][]) => Promise<T>,
): Promise<T> {
  const pieces: { index: number; range: ByteRange; whole: boolean; target?: string }[] = [];
  ranges.forEach((range, index) => {
    const size = fs.statSync(range.path).size;
    if (range.start === 0 && range.end === size) pieces.push({ index, range, whole: true });
    else for (const part of splitRange(range)) pieces.push({ index, range: part, whole: false });
  });
  const pathsOf = (): string[][] => {
    const paths: string[][] = ranges.map(() => []);
    for (const piece of pieces) paths[piece.index].push(piece.target ?? piece.range.path);
    return paths;
  };
  const fed = pieces.filter((p) => !p.whole);
  if (!fed.length) return work(pathsOf());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-feed-'));
  trackTemp(dir);
  try {
    const pipes = makePipes(dir, fed.length);
    fed.forEach((piece, i) => (piece.target = pipes?.[i] ?? path.join(dir, `part-${i}.jsonl`)));
    if (!pipes) {
      for (const piece of fed) await copyRange(piece.range, piece.target!).done;
      return await work(pathsOf());
    }
    const writers = fed.map((piece) => copyRange(piece.range, piece.target!));
    try {
      return await work(pathsOf());
    } finally {
      // A writer still waiting to open its pipe (the query failed before DuckDB opened it) gets on
      // once a reader exists; it is stopped, and the reading end closed after it.
      const readers = fed.map((piece) => openReadEnd(piece.target!));
      for (const writer of writers) writer.stop();
      await Promise.all(writers.map((w) => w.done.catch(() => undefined)));
      for (const fd of readers) if (fd !== undefined) fs.closeSync(fd);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    untrackTemp(dir);
  }
}

/** A large range cut at a line end near its middle (both halves end with a newline). */
function splitRange(range: ByteRange): ByteRange[] {
  if (range.end - range.start <= SPLIT_ABOVE) return [range];
  const middle = Math.floor((range.start + range.end) / 2);
  const fd = fs.openSync(range.path, 'r');
  try {
    const probe = Buffer.alloc(1 << 20);
    for (let at = middle; at < range.end; at += probe.length) {
      const n = fs.readSync(fd, probe, 0, Math.min(probe.length, range.end - at), at);
      const newline = probe.subarray(0, n).indexOf(10);
      if (newline >= 0) {
        const cut = at + newline + 1;
        if (cut >= range.end) break;
        return [
          { ...range, end: cut },
          { ...range, start: cut },
        ];
      }
      if (n === 0) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  return [range];
}

let pipesWork: boolean | undefined;

/** `count` named pipes in `dir`, or undefined where mkfifo is not available. */
function makePipes(dir: string, count: number): string[] | undefined {
  if (pipesWork === false || process.platform === 'win32') return undefined;
  const paths = Array.from({ length: count }, (_, i) => path.join(dir, `part-${i}.jsonl`));
  const made = spawnSync('mkfifo', paths, { stdio: 'ignore' });
  pipesWork = made.status === 0;
  return pipesWork ? paths : undefined;
}

/** Copies a range into `target` (a pipe or a file); `stop` abandons the copy. */
function copyRange(range: ByteRange, target: string): { done: Promise<void>; stop: () => void } {
  const sink = fs.createWriteStream(target);
  if (range.end <= range.start) {
    const done = new Promise<void>((resolve, reject) => {
      sink.on('error', reject);
      sink.end(resolve);
    });
    return { done, stop: () => sink.destroy() };
  }
  const source = fs.createReadStream(range.path, { start: range.start, end: range.end - 1, highWaterMark: 1 << 20 });
  return {
    done: pipeline(source, sink),
    stop: () => {
      source.destroy();
      sink.destroy();
    },
  };
}

/** The reading end of a pipe, opened without waiting (undefined when it is gone). */
function openReadEnd(pipe: string): number | undefined {
  try {
    return fs.openSync(pipe, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}
