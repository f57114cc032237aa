import { closeSync, fsync, fsyncSync } from 'node:fs';

/**
 * When written lines are forced to disk. 'never': the OS decides (survives a process crash, not a
 * power loss); 'always': after every write (sync API) or before flush() resolves (buffered);
 * { everyMs }: at most that long after a write.
 */
export type FsyncPolicy = 'never' | 'always' | { everyMs: number };

/** Runs fsyncs for one writer: synchronous ones, coalesced asynchronous ones, and a periodic one. */
export class Durability {
  private dirty = false;
  private tail: Promise<void> = Promise.resolve();
  private queued: { fd: number; promise: Promise<void> } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly policy: FsyncPolicy,
    private readonly currentFd: () => number,
    private readonly onError: (error: Error) => void,
  ) {
    if (typeof policy === 'object') {
      if (!(policy.everyMs > 0))
        throw new RangeError(`fsync.everyMs must be a positive number, got ${policy.everyMs}`);
      this.timer = setInterval(() => this.periodic(), policy.everyMs);
      this.timer.unref();
    }
  }

  /** After a synchronous write: fsync now ('always') or mark for the next periodic fsync. */
  afterWriteSync(): void {
    if (this.policy === 'always') fsyncSync(this.currentFd());
    else this.dirty = true;
  }

  /** After a buffered write: the promise resolves when the data is as durable as the policy asks. */
  afterWriteAsync(): Promise<void> {
    if (this.policy === 'always') return this.fsyncAsync(this.currentFd());
    this.dirty = true;
    return Promise.resolve();
  }

  /** fsync regardless of the policy (explicit sync(), close, rotation). */
  fsyncAsync(fd: number): Promise<void> {
    if (this.queued?.fd === fd) return this.queued.promise; // not started yet: it will cover this write too
    const entry = { fd, promise: Promise.resolve() };
    entry.promise = this.tail.then(() => {
      if (this.queued === entry) this.queued = undefined;
      return new Promise<void>((resolve, reject) =>
        fsync(fd, (error) => (error ? reject(error) : resolve())),
      );
    });
    this.queued = entry;
    this.tail = entry.promise.catch(() => undefined);
    return entry.promise;
  }

  syncNow(fd: number): void {
    if (this.policy !== 'never') fsyncSync(fd);
    this.dirty = false;
  }

  /** Closes an fd once the fsyncs already asked of it have finished. */
  retire(fd: number): void {
    void this.tail.then(() => {
      try {
        closeSync(fd);
      } catch {
        // already closed: nothing to release
      }
    });
  }

  /** Waits for every fsync asked so far. */
  settled(): Promise<void> {
    return this.tail;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private periodic(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.fsyncAsync(this.currentFd()).catch((error: Error) => this.onError(error));
  }
}
