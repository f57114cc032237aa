import { createReadStream, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LineSplitter } from '../live/line-splitter.js';
import { listRotatedSet } from './rotation.js';

export interface RotatedLine {
  file: string;
  line: number;
  text: string;
}

export interface ReadRotatedOptions {
  /** Called for a file whose last line has no "\n": a writer crashed there; the bytes are not data. */
  onPartialLine?: (file: string, line: number, bytes: number) => void;
}

/**
 * Every complete line of a rotated set, oldest file first (see listRotatedSet), `.gz` files
 * decompressed as streams. Memory stays bounded by the chunk size and the longest line.
 */
export async function* readRotatedSet(
  path: string,
  options: ReadRotatedOptions = {},
): AsyncGenerator<RotatedLine> {
  for (const file of await listRotatedSet(path)) {
    const opened = await openLogFile(file);
    if (!opened) continue; // rotated away between listing and opening, and already counted under its new name
    const splitter = new LineSplitter();
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) {
      for (const { text, line } of splitter.push(chunk)) yield { file: opened.path, line, text };
    }
    if (splitter.partialBytes > 0) {
      options.onPartialLine?.(opened.path, splitter.position.line, splitter.partialBytes);
    }
  }
}

/** Opens a file of the set; a `.N` compressed meanwhile is read as its `.N.gz`. */
async function openLogFile(path: string): Promise<{ path: string; stream: Readable } | undefined> {
  const candidates = path.endsWith('.gz') ? [path] : [path, `${path}.gz`];
  for (const candidate of candidates) {
    const stream = await openStream(candidate);
    if (!stream) continue;
    if (!candidate.endsWith('.gz')) return { path: candidate, stream };
    const gunzip = createGunzip();
    stream.on('error', (error) => gunzip.destroy(error));
    return { path: candidate, stream: stream.pipe(gunzip) };
  }
  return undefined;
}

function openStream(path: string): Promise<ReadStream | undefined> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream(path);
    stream.once('open', () => resolve(stream));
    stream.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? resolve(undefined) : reject(error),
    );
  });
}
