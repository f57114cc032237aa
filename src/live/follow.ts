import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { LineSplitter, type CompleteLine } from './line-splitter.js';
import { countNewlines, DEFAULT_CHUNK_BYTES, offsetOfLastLines, readRange } from './read-lines.js';

/** A complete line of the followed file. */
export interface FollowedLine extends CompleteLine {
  file: string;
  /** 0 for the file as first opened; +1 after each rotation or truncation (line numbers restart at 1). */
  generation: number;
}

/** Something the reader noticed that is not a line: say it to the user, then carry on. */
export type FollowNotice =
  | { kind: 'waiting'; file: string }
  | { kind: 'truncated'; file: string; offset: number; size: number }
  | { kind: 'rotated'; file: string }
  | { kind: 'removed'; file: string }
  | { kind: 'partial-line'; file: string; line: number; offset: number; bytes: number }
  | { kind: 'line-too-long'; file: string; line: number; offset: number; bytes: number }
  | { kind: 'error'; file: string; error: Error };

export interface FollowOptions {
  /** Where to begin: the first byte, after the last complete line, the last N lines, or an offset. */
  from?: 'start' | 'end' | { lastLines: number } | { offset: number; line?: number };
  /** Polling period; fs.watch makes most updates arrive sooner. Default 250 ms. */
  pollMs?: number;
  chunkBytes?: number;
  maxLineBytes?: number;
  /** Use fs.watch as well as polling (default true). */
  watch?: boolean;
  /** Keep the process alive while following (default true). */
  keepAlive?: boolean;
  signal?: AbortSignal;
  onNotice?: (notice: FollowNotice) => void;
}

export interface Follower {
  /** Stops following; resolves once no more lines will be delivered (may be called inside onLines). */
  stop(): Promise<void>;
  /** Settles when the follower stops: resolves after stop(), rejects if onLines threw. */
  readonly done: Promise<void>;
}

interface OpenFile {
  handle: FileHandle;
  ino: number;
  dev: number;
  offset: number;
}

/**
 * Follows a growing file and delivers its complete lines in order, reading only new bytes.
 *
 * - A partial last line is held back until its "\n" arrives.
 * - Truncation (size below the read offset) restarts from byte 0 and is reported.
 * - Rotation (the path now names another inode, or is gone) finishes the old file to its end, reports
 *   an incomplete last line there, then reads the new file from byte 0.
 * - CRLF and a UTF-8 BOM are removed; reading is in chunks, so memory is bounded.
 * - `onLines` is awaited before reading further (backpressure).
 *
 * A truncation followed by growth past the old offset between two polls cannot be seen by size; writers
 * that truncate in place (copytruncate) should be avoided in favour of rename-based rotation.
 */
export function followFile(
  path: string,
  onLines: (lines: FollowedLine[]) => void | Promise<void>,
  options: FollowOptions = {},
): Follower {
  const pollMs = options.pollMs ?? 250;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const notify = (notice: FollowNotice): void => options.onNotice?.(notice);
  let generation = 0;
  const splitter = new LineSplitter(undefined, {
    maxLineBytes: options.maxLineBytes,
    onTooLong: (line, offset, bytes) => notify({ kind: 'line-too-long', file: path, line, offset, bytes }),
  });
  let current: OpenFile | undefined;
  let firstOpen = true;
  let waitingReported = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let polling: Promise<void> | undefined;
  let pollAgain = false;
  let delivering = false;
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

  const deliver = async (lines: CompleteLine[]): Promise<void> => {
    const gen = generation;
    delivering = true;
    try {
      await onLines(lines.map((line) => ({ ...line, file: path, generation: gen })));
    } catch (error) {
      throw new OnLinesError(error);
    } finally {
      delivering = false;
    }
  };

  const readToEnd = async (file: OpenFile, end: number): Promise<void> => {
    file.offset = await readRange(
      file.handle,
      file.offset,
      end,
      splitter,
      deliver,
      chunkBytes,
      () => stopped,
    );
  };

  const startPosition = async (
    handle: FileHandle,
    size: number,
  ): Promise<{ offset: number; line: number }> => {
    const from = options.from ?? 'start';
    if (from === 'start') return { offset: 0, line: 1 };
    let offset: number;
    if (from === 'end') offset = await offsetOfLastLines(handle, size, 0, chunkBytes);
    else if ('lastLines' in from) offset = await offsetOfLastLines(handle, size, from.lastLines, chunkBytes);
    else offset = Math.min(from.offset, size);
    const line =
      typeof from === 'object' && 'line' in from && from.line !== undefined ? from.line : undefined;
    return { offset, line: line ?? (await countNewlines(handle, offset, chunkBytes)) + 1 };
  };

  const openCurrent = async (): Promise<boolean> => {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    const info = await handle.stat();
    const start = firstOpen ? await startPosition(handle, info.size) : { offset: 0, line: 1 };
    firstOpen = false;
    splitter.reset(start);
    current = { handle, ino: info.ino, dev: info.dev, offset: start.offset };
    startWatching();
    return true;
  };

  const finishOld = async (file: OpenFile): Promise<void> => {
    await readToEnd(file, Number.MAX_SAFE_INTEGER);
    if (splitter.partialBytes > 0)
      notify({ kind: 'partial-line', file: path, ...splitter.position, bytes: splitter.partialBytes });
    await file.handle.close();
    current = undefined;
    stopWatching();
  };

  const pollOnce = async (): Promise<void> => {
    const named = await stat(path).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    if (current && (!named || named.ino !== current.ino || named.dev !== current.dev)) {
      await finishOld(current);
      if (stopped) return;
      generation++;
      notify({ kind: named ? 'rotated' : 'removed', file: path });
      waitingReported = !named; // "removed" already says we wait for it
    }
    if (!current) {
      if (!named || !(await openCurrent())) {
        if (!waitingReported) notify({ kind: 'waiting', file: path });
        waitingReported = true;
        firstOpen = false; // everything in a file that appears later is new: read it from the start
        return;
      }
      waitingReported = false;
    }
    const file = current!;
    const size = (await file.handle.stat()).size;
    if (size < file.offset) {
      notify({ kind: 'truncated', file: path, offset: file.offset, size });
      generation++;
      file.offset = 0;
      splitter.reset();
    }
    if (size > file.offset) await readToEnd(file, size);
  };

  const poll = (): void => {
    if (stopped) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    clearTimeout(timer);
    polling = pollOnce()
      .catch((error: unknown) => {
        if (error instanceof OnLinesError) throw error;
        notify({
          kind: 'error',
          file: path,
          error: error instanceof Error ? error : new Error(String(error)),
        });
      })
      .then(
        () => {
          polling = undefined;
          if (stopped) return;
          if (pollAgain) {
            pollAgain = false;
            poll();
          } else schedule();
        },
        (error: unknown) => {
          polling = undefined;
          void shutdown().then(() => settle.reject((error as OnLinesError).cause));
        },
      );
  };

  const schedule = (): void => {
    timer = setTimeout(poll, pollMs);
    if (options.keepAlive === false) timer.unref();
  };

  const startWatching = (): void => {
    if (options.watch === false || watcher) return;
    try {
      watcher = watch(path, { persistent: false }, () => poll());
      watcher.on('error', () => stopWatching());
    } catch {
      watcher = undefined; // polling alone still works
    }
  };

  const stopWatching = (): void => {
    watcher?.close();
    watcher = undefined;
  };

  const shutdown = async (): Promise<void> => {
    stopped = true;
    clearTimeout(timer);
    stopWatching();
    options.signal?.removeEventListener('abort', onAbort);
    const closeFile = async (): Promise<void> => {
      const file = current;
      current = undefined;
      await file?.handle.close().catch(() => undefined);
    };
    // Called from inside onLines: the poll waits for onLines, so do not wait for the poll.
    if (delivering && polling) void polling.catch(() => undefined).then(closeFile);
    else {
      await polling?.catch(() => undefined);
      await closeFile();
    }
  };

  const stop = async (): Promise<void> => {
    if (!stopped) await shutdown().then(() => settle.resolve());
    await done.catch(() => undefined);
  };

  const onAbort = (): void => void stop();
  if (options.signal?.aborted) void stop();
  else {
    options.signal?.addEventListener('abort', onAbort);
    poll();
  }
  return { stop, done };
}

/** The same as followFile, as an async iterator: `for await (const line of followLines(path)) …`. */
export async function* followLines(path: string, options: FollowOptions = {}): AsyncGenerator<FollowedLine> {
  let batch: FollowedLine[] | undefined;
  let taken: (() => void) | undefined;
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: { error: unknown } | undefined;
  const follower = followFile(
    path,
    (lines) =>
      new Promise<void>((resolve) => {
        batch = lines;
        taken = resolve;
        wake?.();
      }),
    options,
  );
  follower.done.then(
    () => {
      finished = true;
      wake?.();
    },
    (error: unknown) => {
      failure = { error };
      wake?.();
    },
  );
  try {
    for (;;) {
      if (batch) {
        const lines = batch;
        batch = undefined;
        yield* lines;
        taken?.();
        taken = undefined;
        continue;
      }
      if (failure) throw failure.error;
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    taken?.();
    await follower.stop();
  }
}

class OnLinesError extends Error {
  constructor(override readonly cause: unknown) {
    super('onLines failed');
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
