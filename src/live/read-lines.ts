import { open, type FileHandle } from 'node:fs/promises';
import { LineSplitter, type CompleteLine, type LineSplitterOptions } from './line-splitter.js';

export const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface ReadLinesResult {
  /** Where the next complete line starts: pass it back in to continue later. */
  offset: number;
  line: number;
  /** Bytes after `offset` that do not end in "\n" yet (a line still being written, or truncated). */
  partialBytes: number;
}

/**
 * Reads the complete lines of a file from a byte offset to its current end, in chunks (bounded
 * memory), calling `onLines` once per chunk that completes lines. The incomplete last line is not
 * delivered; the result says where to resume once it is complete.
 */
export async function readCompleteLines(
  path: string,
  from: { offset: number; line: number },
  onLines: (lines: CompleteLine[]) => void | Promise<void>,
  options: LineSplitterOptions & { chunkBytes?: number } = {},
): Promise<ReadLinesResult> {
  const handle = await open(path, 'r');
  try {
    const splitter = new LineSplitter(from, options);
    const end = (await handle.stat()).size;
    await readRange(handle, from.offset, end, splitter, onLines, options.chunkBytes);
    return { ...splitter.position, partialBytes: splitter.partialBytes };
  } finally {
    await handle.close();
  }
}

/** Feeds the bytes [start, end) of an open file through a splitter, one chunk at a time. */
export async function readRange(
  handle: FileHandle,
  start: number,
  end: number,
  splitter: LineSplitter,
  onLines: (lines: CompleteLine[]) => void | Promise<void>,
  chunkBytes = DEFAULT_CHUNK_BYTES,
  shouldStop: () => boolean = () => false,
): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(end - start, 1)));
  let position = start;
  while (position < end && !shouldStop()) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const lines = splitter.push(buffer.subarray(0, bytesRead));
    if (lines.length > 0) await onLines(lines);
  }
  return position;
}

/** Number of "\n" bytes before `end` (the line number of the line starting at `end`, minus one). */
export async function countNewlines(
  handle: FileHandle,
  end: number,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(end, 1)));
  let count = 0;
  let position = 0;
  while (position < end) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
    if (bytesRead === 0) break;
    position += bytesRead;
    let index = -1;
    while ((index = buffer.indexOf(10, index + 1)) !== -1 && index < bytesRead) count++;
  }
  return count;
}

/**
 * Offset where the last `count` complete lines of the file start, reading backwards from the end
 * in chunks. Bytes after the last "\n" (a partial line) are not counted; `count` 0 gives the offset
 * just after the last "\n". Blank lines count as lines.
 */
export async function offsetOfLastLines(
  handle: FileHandle,
  size: number,
  count: number,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(size, 1)));
  let end = size;
  let newlinesSeen = 0;
  while (end > 0) {
    const start = Math.max(0, end - buffer.length);
    const { bytesRead } = await handle.read(buffer, 0, end - start, start);
    for (let i = start + bytesRead - 1; i >= start; i--) {
      if (buffer[i - start] !== 10) continue;
      // The first "\n" from the end closes the last complete line; each further one starts a line.
      if (newlinesSeen === count) return i + 1;
      newlinesSeen++;
    }
    end = start;
  }
  return 0;
}
