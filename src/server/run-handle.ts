import { Run, type OpenRunOptions } from '../engine/run.js';
import type { IndexProgress, LiveStateEvent, LiveUpdateEvent, PartialInfo, RunState } from './api-types.js';
import { ChangeWatch } from './change-watch.js';
import { IdleUpkeep } from './idle-upkeep.js';
import { partialInfo } from './partial-info.js';
import { PartialRuns } from './partial-runs.js';
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
  /** Passed on to Run.open: where the index is cached, and the size of the parts large files are read in. */
  open?: Pick<OpenRunOptions, 'cache' | 'chunkBytes'>;
  /** A run idle this long hands DuckDB's cached blocks back to the system (default 5 s). */
  releaseAfterMs?: number;
  /** Told when work on this run starts (the registry then has the other runs hand memory back). */
  onUse?: (handle: RunHandle) => void;
}

/** Work that found no run to run on (closed meanwhile): it is tried again after reopening. */
const NO_RUN = Symbol('no run');

/**
 * One run of the catalogue: opened on first use (indexing shows progress, and what is indexed so
 * far answers as a partial run while the rest is read), then kept open until the registry closes it.
 * Every query and refresh goes through one queue per run, so DuckDB never sees two at once. While
 * someone watches (a live stream is connected), it polls for appended data and tells the watchers.
 */
export class RunHandle {
  state: RunState = 'closed';
  progress: IndexProgress | undefined;
  error: string | undefined;
  /** Increases each time what the run answers from changed (a part read, appended data, a reopen). */
  version = 0;
  updatedAt = 0;
  indexMs = 0;
  lastUsed = Date.now();
  private run: Run | undefined;
  private readonly parts = new PartialRuns((run) => this.retire(run));
  private readonly upkeep: IdleUpkeep;
  /** Work asked for and not answered yet (queued or running). */
  private busy = 0;
  private opening: Promise<Run> | undefined;
  private failedAt = 0;
  private readonly queue = new WorkQueue();
  private readonly cache = new ResultCache();
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private readonly changes: ChangeWatch;
  private polling = false;
  private lastRefresh = 0;
  private closed = false;

  constructor(
    readonly entry: CatalogEntry,
    private readonly options: RunHandleOptions,
  ) {
    this.changes = new ChangeWatch(entry.path, {
      recursive: entry.kind === 'directory',
      pollMs: options.pollMs,
      check: () => void this.poll(),
    });
    this.upkeep = new IdleUpkeep({
      queue: this.queue,
      releaseAfterMs: options.releaseAfterMs,
      run: () => (this.opening ? undefined : this.run),
      busy: () => this.busy,
      lastUsed: () => this.lastUsed,
    });
  }

  get id(): string {
    return this.entry.id;
  }

  get watched(): boolean {
    return this.listeners.size > 0;
  }

  /**
   * Something can be answered: the run is open, or a part of it is indexed (or was, and the whole
   * run follows in a moment: what is asked for then waits for it).
   */
  get answerable(): boolean {
    return Boolean(this.run ?? this.parts.current) || this.parts.finishing;
  }

  /** What the part shown holds, while the run is read and a part of it is already indexed. */
  get partial(): PartialInfo | undefined {
    return this.parts.info;
  }

  get profile(): Run['profile'] | undefined {
    return this.run?.profile;
  }

  get rows(): number | null {
    const run = this.run ?? this.parts.current;
    return run ? run.ingest.rows : null;
  }

  /** What opening read from the logs: 0 bytes when the cached index was up to date. */
  get opened(): { bytesRead: number; cached: boolean } | undefined {
    return this.run && { bytesRead: this.openedBytes, cached: this.run.cacheDir !== undefined };
  }

  private openedBytes = 0;

  /** Starts opening the run if nobody has yet; resolves when it is ready (all of it). */
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

  /**
   * Opens the run, charting each part as it is indexed. Should the read fail after parts were shown
   * (a query of a part and the read share one DuckDB and its memory limit), it is opened once more:
   * the parts already committed to the cached index are not read again.
   */
  private async openRun(started: number): Promise<Run> {
    let lastEmit = 0;
    const options = {
      ...this.options.open,
      live: true,
      onProgress: (p: Omit<IndexProgress, 'elapsedMs'>) => {
        this.progress = { ...p, elapsedMs: Date.now() - started };
        // All bytes read: the whole run follows once its views are made; no query of a part may run then.
        if (p.bytesDone >= p.bytesTotal) this.parts.end();
        const now = Date.now();
        if (now - lastEmit >= 200) {
          lastEmit = now;
          this.emitState();
        }
      },
    };
    try {
      return await Run.open(this.entry.path, {
        ...options,
        onPartial: (partial) => this.acceptPartial(partial),
      });
    } catch (error) {
      if (!this.parts.finishing && !this.parts.current) throw error;
      this.parts.end();
      this.options.log(
        `runlens serve: reading ${this.id} failed while parts of it were charted (${error instanceof Error ? error.message : error}); reading the rest again`,
      );
      return await Run.open(this.entry.path, options);
    }
  }

  private async index(): Promise<Run> {
    const started = Date.now();
    this.options.onUse?.(this); // reading takes memory too: the other runs hand theirs back
    this.progress = undefined;
    this.setState('indexing');
    try {
      const run = await this.openRun(started);
      if (this.closed) {
        run.close();
        throw new Error('the server is shutting down');
      }
      const shown = this.parts.info;
      this.parts.clear();
      this.run = run;
      this.openedBytes = run.lastChange.bytesRead;
      this.indexMs = Date.now() - started;
      this.updatedAt = Date.now();
      this.lastRefresh = Date.now();
      this.progress = undefined;
      if (shown) {
        // Charts of the partial run are drawn: they are asked for again, now of all of it.
        this.version++;
        this.emitUpdate(run.ingest.rows - shown.rows, [], []);
      }
      this.setState('ready');
      if (this.watched) this.startPolling();
      this.upkeep.opened(run);
      return run;
    } catch (error) {
      this.parts.clear();
      this.error = error instanceof Error ? error.message : String(error);
      this.failedAt = Date.now();
      this.setState('error');
      throw error;
    } finally {
      this.opening = undefined;
    }
  }

  /** A newer part is indexed: answers come from it from now on (see PartialRuns). */
  private acceptPartial(partial: Run): void {
    const info = partialInfo(partial, this.progress);
    // All of it read (a run read in one part, or the last part): the whole run follows at once.
    if (this.closed || this.run || !this.parts.wanted(info)) {
      partial.close();
      return;
    }
    this.version++;
    this.updatedAt = Date.now();
    const previous = this.parts.show(partial, info, this.version);
    this.emitUpdate(partial.ingest.rows - (previous?.ingest.rows ?? 0), [], []);
  }

  /** The version of what `run` answers (the current one, or that of the part it holds). */
  versionOf(run: Run): number {
    return this.parts.versionOf(run) ?? this.version;
  }

  /** What a partial run holds (undefined for a run read completely). */
  partialOf(run: Run): PartialInfo | undefined {
    return this.parts.infoOf(run);
  }

  /** Closes a run nobody answers from any more, after the work in flight (which may be using it). */
  private retire(run: Run): void {
    void this.queue.run(async () => {
      try {
        run.close();
      } catch {
        // its database closed with it (the read failed)
      }
    });
  }

  /** The run work is done on: all of it, or (unless `complete`) what is indexed so far. */
  private pick(complete: boolean | undefined): Run | undefined {
    return complete ? this.run : (this.run ?? this.parts.current);
  }

  /**
   * Runs `work` against the run, alone (`heavy`: after the quick work queued with it). Unless
   * `complete` is asked for, a run still being read answers from what is indexed so far. A run
   * nobody watches is refreshed first (at most every poll period), so what is asked for is never
   * staler than the files.
   */
  async use<T>(
    work: (run: Run) => Promise<T>,
    options: { heavy?: boolean; complete?: boolean } = {},
  ): Promise<T> {
    this.lastUsed = Date.now();
    this.options.onUse?.(this);
    this.busy++;
    try {
      return await this.useRun(work, options);
    } finally {
      this.busy--;
      this.lastUsed = Date.now();
      this.upkeep.schedule();
    }
  }

  private async useRun<T>(
    work: (run: Run) => Promise<T>,
    options: { heavy?: boolean; complete?: boolean },
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (!this.pick(options.complete)) await this.open();
      const result = await this.queue.run(async () => {
        const run = this.pick(options.complete);
        if (!run) return NO_RUN;
        if (!run.partial && !this.watched && Date.now() - this.lastRefresh > this.options.pollMs)
          await this.refreshNow(run);
        try {
          const answer = await work(run);
          // A part's query interrupted as the whole run arrives: asked again of the whole run.
          return this.parts.wasInterrupted(run) ? NO_RUN : answer;
        } catch (error) {
          if (this.parts.wasInterrupted(run)) return NO_RUN;
          throw error;
        }
      }, options);
      if (result !== NO_RUN) return result as T;
      if (attempt >= 2) throw new Error(`run ${this.id} was closed while answering; ask again`);
    }
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
    this.lastUsed = Date.now();
    if (!this.watched && this.run && Date.now() - this.lastRefresh > this.options.pollMs)
      await this.queue.run(async () => {
        if (this.run) await this.refreshNow(this.run);
      });
    return this.cache.get(this.version, key, () =>
      this.use(async (run) => JSON.stringify(await work(run), finiteOrNull), options),
    );
  }

  /** Hands DuckDB's cached blocks back now: another run is at work (see IdleUpkeep). */
  releaseNow(): void {
    this.upkeep.releaseNow();
  }

  /** Listens to state changes and updates; polling runs while anyone listens. Returns the unsubscribe. */
  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.run) this.startPolling();
    return () => {
      this.listeners.delete(listener);
      this.lastUsed = Date.now();
      if (!this.listeners.size) this.stopPolling();
    };
  }

  stateEvent(): LiveStateEvent {
    return {
      id: this.id,
      state: this.state,
      progress: this.progress,
      partial: this.state === 'indexing' ? this.partial : undefined,
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

  private emitUpdate(newRows: number, newFiles: string[], reread: string[]): void {
    this.emit({
      type: 'update',
      data: {
        id: this.id,
        version: this.version,
        rows: this.rows ?? 0,
        newRows,
        newFiles,
        reread,
        at: this.updatedAt,
        partial: this.partial,
      },
    });
  }

  private emit(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private startPolling(): void {
    if (!this.closed) this.changes.start();
  }

  private stopPolling(): void {
    this.changes.stop();
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.run) return;
    this.polling = true;
    try {
      await this.queue.run(async () => {
        if (this.run) await this.refreshNow(this.run);
      });
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
    this.emitUpdate(result.newRows, result.newFiles, result.reread);
  }

  /** Closes the run (after any query in flight); it reopens on next use unless the server is closing. */
  async close(final = false): Promise<void> {
    if (final) this.closed = true;
    this.stopPolling();
    this.upkeep.cancel();
    await this.queue.idle();
    const run = this.run;
    this.run = undefined;
    this.cache.clear();
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
