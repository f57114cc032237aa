import fs from 'node:fs';
import { Run } from '../engine/run.js';
import type { IndexProgress, LiveStateEvent, LiveUpdateEvent, RunState } from './api-types.js';
import { ResultCache } from './result-cache.js';
import type { CatalogEntry } from './run-catalog.js';
import { WorkQueue } from './work-queue.js';

export type LiveEvent = { type: 'state'; data: LiveStateEvent } | { type: 'update'; data: LiveUpdateEvent };

export interface RunHandleOptions {
  /** How often a watched run looks for appended data. */
  pollMs: number;
  /** Serialises indexing: only one run is indexed at a time on a small machine. */
  queue: <T>(work: () => Promise<T>) => Promise<T>;
  log: (message: string) => void;
}

/**
 * One run of the catalogue: opened on first use (indexing shows progress), then kept open. Every
 * query and refresh goes through one queue per run, so DuckDB never sees two at once. While someone
 * watches (a live stream is connected), it polls for appended data and tells the watchers.
 */
export class RunHandle {
  state: RunState = 'closed';
  progress: IndexProgress | undefined;
  error: string | undefined;
  /** Increases each time a refresh read new data. */
  version = 0;
  updatedAt = 0;
  indexMs = 0;
  lastUsed = Date.now();
  private run: Run | undefined;
  private opening: Promise<Run> | undefined;
  private failedAt = 0;
  private readonly queue = new WorkQueue();
  private readonly cache = new ResultCache();
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: fs.FSWatcher | undefined;
  private nudge: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAgain = false;
  private lastRefresh = 0;
  private closed = false;

  constructor(
    readonly entry: CatalogEntry,
    private readonly options: RunHandleOptions,
  ) {}

  get id(): string {
    return this.entry.id;
  }

  get watched(): boolean {
    return this.listeners.size > 0;
  }

  get profile(): Run['profile'] | undefined {
    return this.run?.profile;
  }

  get rows(): number | null {
    return this.run ? this.run.ingest.rows : null;
  }

  /** Starts opening the run if nobody has yet; resolves when it is ready. */
  open(): Promise<Run> {
    if (this.run) return Promise.resolve(this.run);
    if (this.opening) return this.opening;
    if (this.state === 'error' && Date.now() - this.failedAt < 5_000)
      return Promise.reject(new Error(this.error));
    this.setState('queued');
    this.opening = this.options.queue(() => this.index());
    this.opening.catch(() => {}); // reported through state; callers that await see it too
    return this.opening;
  }

  private async index(): Promise<Run> {
    const started = Date.now();
    let lastEmit = 0;
    this.progress = undefined;
    this.setState('indexing');
    try {
      const run = await Run.open(this.entry.path, {
        live: true,
        onProgress: (p) => {
          this.progress = { ...p, elapsedMs: Date.now() - started };
          const now = Date.now();
          if (now - lastEmit >= 200) {
            lastEmit = now;
            this.emitState();
          }
        },
      });
      if (this.closed) {
        run.close();
        throw new Error('the server is shutting down');
      }
      this.run = run;
      this.indexMs = Date.now() - started;
      this.updatedAt = Date.now();
      this.lastRefresh = Date.now();
      this.progress = undefined;
      this.setState('ready');
      if (this.watched) this.startPolling();
      return run;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.failedAt = Date.now();
      this.setState('error');
      throw error;
    } finally {
      this.opening = undefined;
    }
  }

  /**
   * Runs `work` against the open run, alone (`heavy`: after the quick work queued with it). A run
   * nobody watches is refreshed first (at most every poll period), so what is asked for is never
   * staler than the files.
   */
  async use<T>(work: (run: Run) => Promise<T>, options: { heavy?: boolean } = {}): Promise<T> {
    this.lastUsed = Date.now();
    const run = this.run ?? (await this.open());
    return this.queue.run(async () => {
      if (!this.watched && Date.now() - this.lastRefresh > this.options.pollMs) await this.refreshNow(run);
      return work(run);
    }, options);
  }

  /**
   * An API answer as JSON text, computed once per version of the run and request `key` (NaN and
   * ±Infinity become null).
   */
  async answer(
    key: string,
    work: (run: Run) => Promise<unknown>,
    options: { heavy?: boolean } = {},
  ): Promise<string> {
    if (!this.watched && Date.now() - this.lastRefresh > this.options.pollMs && this.run)
      await this.queue.run(() => this.refreshNow(this.run!));
    return this.cache.get(this.version, key, () =>
      this.use(async (run) => JSON.stringify(await work(run), finiteOrNull), options),
    );
  }

  /** Listens to state changes and updates; polling runs while anyone listens. Returns the unsubscribe. */
  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.run) this.startPolling();
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) this.stopPolling();
    };
  }

  stateEvent(): LiveStateEvent {
    return {
      id: this.id,
      state: this.state,
      progress: this.progress,
      error: this.state === 'error' ? this.error : undefined,
      version: this.version,
      rows: this.rows ?? undefined,
    };
  }

  private setState(state: RunState): void {
    this.state = state;
    this.emitState();
  }

  private emitState(): void {
    this.emit({ type: 'state', data: this.stateEvent() });
  }

  private emit(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /**
   * Polls every pollMs, and sooner when fs.watch reports a change (most writes arrive within a few
   * milliseconds that way; polling covers file systems where watching does not work).
   */
  private startPolling(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
    try {
      this.watcher = fs.watch(
        this.entry.path,
        { recursive: this.entry.kind === 'directory', persistent: false },
        () => {
          if (this.nudge) return;
          this.nudge = setTimeout(() => {
            this.nudge = undefined;
            void this.poll();
          }, 15);
        },
      );
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      // polling alone
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.nudge) clearTimeout(this.nudge);
    this.nudge = undefined;
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopWatching();
  }

  private async poll(): Promise<void> {
    const run = this.run;
    if (this.polling || !run) return;
    this.polling = true;
    try {
      await this.queue.run(() => this.refreshNow(run));
    } catch (error) {
      this.options.log(
        `runlens serve: refreshing ${this.id}: ${error instanceof Error ? error.message : error}`,
      );
    } finally {
      this.polling = false;
    }
  }

  private async refreshNow(run: Run): Promise<void> {
    if (this.closed) return;
    this.lastRefresh = Date.now();
    const result = await run.refresh();
    if (result.newRows === 0 && !result.newFiles.length && !result.reread.length) return;
    this.version++;
    this.updatedAt = Date.now();
    this.emit({
      type: 'update',
      data: {
        id: this.id,
        version: this.version,
        rows: run.ingest.rows,
        newRows: result.newRows,
        newFiles: result.newFiles,
        reread: result.reread,
        at: this.updatedAt,
      },
    });
  }

  /** Closes the run (after any query in flight); it reopens on next use unless the server is closing. */
  async close(final = false): Promise<void> {
    if (final) this.closed = true;
    this.stopPolling();
    await this.queue.idle();
    const run = this.run;
    this.run = undefined;
    if (run) {
      run.close();
      this.state = 'closed';
      this.version++;
    }
  }
}

function finiteOrNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
