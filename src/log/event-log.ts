import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { openAppendFile, PartialWriteError, writeWhole, type AppendFile } from './append-file.js';
import { Durability, type FsyncPolicy } from './durability.js';
import { encodeEvent, isSystemEvent } from './encode-event.js';
import { registerForExit, unregisterForExit } from './exit-flush.js';
import { RotatedCompressor } from './rotated-compressor.js';
import { rotateFiles, type RotateOptions } from './rotation.js';
import { EventValidationError, type EventSchema } from './schema.js';

export interface BufferOptions {
  /** Write once this many events are queued (default 1000). */
  maxEvents?: number;
  /** … or once this many bytes are queued (default 1 MiB). */
  maxBytes?: number;
  /** … or this long after the first queued event (default 1000 ms). */
  flushEveryMs?: number;
}

export interface EventLogOptions<E extends object> {
  /** Queue events in memory and write them in batches (default: write each event at once). */
  buffer?: boolean | BufferOptions;
  /** When data is forced to disk (default 'never': safe against a crash, not a power loss). */
  fsync?: FsyncPolicy;
  /** Size-based rotation; single-writer only (see docs/logging.md). */
  rotate?: RotateOptions;
  schema?: EventSchema<E>;
  /** Check every event against `schema` before writing; a bad event throws EventValidationError. */
  validate?: boolean;
  /** Create the directory if missing (default true). */
  mkdir?: boolean;
  /** File mode for a new file (default 0o644). */
  mode?: number;
  /** Write queued events when the process exits normally (default true). */
  flushOnExit?: boolean;
  /** Errors of background work (timed flushes, periodic fsync, compression). Without it, the next
   * write(), flush() or close() throws the error. */
  onError?: (error: Error) => void;
}

export interface EventLogStats {
  /** Events written to the file (not counting queued ones). */
  events: number;
  bytes: number;
  rotations: number;
  queued: number;
}

/** Largest single write(); a batch above it is written as several writes, each of whole lines. */
export const MAX_WRITE_BYTES = 1 << 20;
const NEWLINE = Buffer.from('\n');

/**
 * Appends events to a JSON lines file, whole lines only: every write() system call carries complete
 * lines ending in "\n" on a file opened with O_APPEND, so a crash leaves at worst a partial last line.
 * NaN and ±Infinity are written as the bare tokens Python writes. See docs/logging.md.
 */
export class EventLog<E extends object = object> {
  readonly path: string;
  private file: AppendFile;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private separatorNeeded = false;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly durability: Durability;
  private readonly compressor: RotatedCompressor | undefined;
  private readonly batching: Required<BufferOptions> | undefined;
  private readonly counters = { events: 0, bytes: 0, rotations: 0 };

  /** Opens the log after creating its directory asynchronously. */
  static async open<E extends object = object>(
    path: string,
    options: EventLogOptions<E> = {},
  ): Promise<EventLog<E>> {
    if (options.mkdir !== false) await mkdir(dirname(path), { recursive: true });
    return new EventLog<E>(path, { ...options, mkdir: false });
  }

  constructor(
    path: string,
    private readonly options: EventLogOptions<E> = {},
  ) {
    if (options.validate && !options.schema) {
      throw new TypeError(
        'validate: true needs a schema, for example { schema: fileTaoEvents, validate: true }',
      );
    }
    checkRotateOptions(options.rotate);
    this.path = path;
    this.batching = batchingOptions(options.buffer);
    this.file = openAppendFile(path, options);
    const policy = options.fsync ?? 'never';
    this.durability = new Durability(
      policy,
      () => this.file.fd,
      (error) => this.fail(error),
    );
    if (options.rotate?.gzip) {
      this.compressor = new RotatedCompressor(path, (error) => this.fail(error), policy !== 'never');
      this.compressor.recover();
    }
    if (options.flushOnExit !== false) registerForExit(this);
  }

  /**
   * Writes one event: at once (one write() call; with fsync 'always' also fsynced before returning),
   * or, buffered, queued for the next batch. Throws EventValidationError for a bad event with
   * `validate: true`, and write errors in unbuffered mode.
   */
  write(event: E): void {
    if (this.closing) throw new Error(`EventLog ${this.path} is closed; events can no longer be written`);
    this.throwFailure();
    const schema = this.options.schema;
    if (this.options.validate && schema && !isSystemEvent(event)) {
      const problems = schema.check(event);
      if (problems.length > 0) throw new EventValidationError(schema.name, problems);
    }
    const line = encodeEvent(event);
    if (!this.batching) {
      this.writeLines([line], false);
      this.durability.afterWriteSync();
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (this.queue.length >= this.batching.maxEvents || this.queuedBytes >= this.batching.maxBytes) {
      this.flushInBackground();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flushInBackground(), this.batching.flushEveryMs);
      this.timer.unref();
    }
  }

  /** Writes the queued events; resolves once they are written (and fsynced if the policy says 'always'). */
  async flush(): Promise<void> {
    this.throwFailure();
    const wrote = this.writeQueue();
    if (wrote) await this.durability.afterWriteAsync();
    await this.durability.settled();
  }

  /** flush(), then fsync whatever the policy. */
  async sync(): Promise<void> {
    await this.flush();
    await this.durability.fsyncAsync(this.file.fd);
  }

  /** Writes the queued events synchronously (and fsyncs unless the policy is 'never'). For exit handlers. */
  flushSync(): void {
    if (this.writeQueue()) this.durability.syncNow(this.file.fd);
  }

  /** Flushes, fsyncs (unless 'never'), closes the file and waits for background compression. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        this.throwFailure();
        this.writeQueue();
      } finally {
        this.release();
        await this.durability.settled();
        if (this.durability.policy !== 'never') fsyncSync(this.file.fd);
        closeSync(this.file.fd);
      }
      await this.compressor?.settled();
      this.throwFailure();
    })();
    return this.closing;
  }

  /** Synchronous close: writes the queue, fsyncs (unless 'never'), closes. Compression may be left to the next open. */
  closeSync(): void {
    if (this.closing) return;
    this.closing = Promise.resolve();
    try {
      this.writeQueue();
    } finally {
      this.release();
      this.durability.syncNow(this.file.fd);
      this.durability.retire(this.file.fd);
    }
  }

  /** True once close() or closeSync() was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  get stats(): EventLogStats {
    return { ...this.counters, queued: this.queue.length };
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.durability.stop();
    unregisterForExit(this);
  }

  private flushInBackground(): void {
    this.flush().catch((error: Error) => this.fail(error));
  }

  private fail(error: Error): void {
    if (this.options.onError) this.options.onError(error);
    else this.failure ??= error;
  }

  private throwFailure(): void {
    const failure = this.failure;
    if (!failure) return;
    this.failure = undefined;
    throw failure;
  }

  /** Writes everything queued; returns whether anything was written. Unwritten lines stay queued on error. */
  private writeQueue(): boolean {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return false;
    const lines = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.writeLines(lines, true);
    return true;
  }

  private writeLines(lines: Buffer[], requeueOnError: boolean): void {
    let next = 0;
    try {
      while (next < lines.length) next = this.writeBatch(lines, next);
    } catch (error) {
      if (requeueOnError && next < lines.length) {
        const rest = lines.slice(next);
        this.queue = rest.concat(this.queue);
        this.queuedBytes = this.queue.reduce((sum, line) => sum + line.length, 0);
      }
      throw error;
    }
  }

  /** Writes lines[from…] up to the size limits with one write(); returns the index of the first line left. */
  private writeBatch(lines: Buffer[], from: number): number {
    const rotate = this.options.rotate;
    if (rotate && this.file.size > 0 && this.file.size + lines[from].length > rotate.maxBytes)
      this.rotate(rotate);
    const limit = Math.min(MAX_WRITE_BYTES, rotate ? rotate.maxBytes - this.file.size : Infinity);
    let end = from + 1;
    let bytes = lines[from].length;
    while (end < lines.length && bytes + lines[end].length <= limit) bytes += lines[end++].length;
    const separator = this.separatorNeeded ? 1 : 0;
    const parts = separator ? [NEWLINE, ...lines.slice(from, end)] : lines.slice(from, end);
    const chunk = parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes + separator);
    try {
      writeWhole(this.file, chunk);
    } catch (error) {
      if (!(error instanceof PartialWriteError)) throw error;
      // Lines wholly written count as written; a line cut short must be followed by a separator.
      let written = error.written - separator;
      if (written >= 0) this.separatorNeeded = false;
      let done = from;
      while (done < end && written >= lines[done].length) written -= lines[done++].length;
      if (written > 0) this.separatorNeeded = true;
      this.counters.events += done - from;
      throw error.cause instanceof Error ? error.cause : error;
    }
    this.separatorNeeded = false;
    this.counters.events += end - from;
    this.counters.bytes += chunk.length;
    return end;
  }

  private rotate(options: RotateOptions): void {
    const old = this.file.fd;
    this.durability.syncNow(old);
    rotateFiles(this.path, options, this.compressor);
    this.file = openAppendFile(this.path, { mkdir: false, mode: this.options.mode });
    this.durability.retire(old);
    if (this.durability.policy !== 'never') syncDirectory(dirname(this.path));
    this.counters.rotations++;
  }
}

function batchingOptions(buffer: EventLogOptions<object>['buffer']): Required<BufferOptions> | undefined {
  if (!buffer) return undefined;
  const options = buffer === true ? {} : buffer;
  return {
    maxEvents: options.maxEvents ?? 1000,
    maxBytes: options.maxBytes ?? MAX_WRITE_BYTES,
    flushEveryMs: options.flushEveryMs ?? 1000,
  };
}

function checkRotateOptions(rotate: RotateOptions | undefined): void {
  if (!rotate) return;
  if (!(rotate.maxBytes > 0))
    throw new RangeError(`rotate.maxBytes must be a positive number, got ${rotate.maxBytes}`);
  if (!Number.isInteger(rotate.keep) || rotate.keep < 0) {
    throw new RangeError(`rotate.keep must be a whole number ≥ 0, got ${rotate.keep}`);
  }
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
