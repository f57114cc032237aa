import { Run, type OpenRunOptions } from '../engine/run.js';
import type { IndexProgress, LiveStateEvent, LiveUpdateEvent, PartialInfo, RunState } from './api-types.js';
import { ChangeWatch } from './change-watch.js';
import { catalogueKept } from './metrics.js';
import { partialInfo } from './partial-info.js';
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
  /** What the partial run holds, while the run is read and a part of it is already indexed. */
  partial: PartialInfo | undefined;
  error: string | undefined;
  /** Increases each time what the run answers from changed (a part read, appended data, a reopen). */
  version = 0;
  updatedAt = 0;
  indexMs = 0;
  lastUsed = Date.now();
  private run: Run | undefined;
  private partialRun: Run | undefined;
  /** Parts were charted and the whole run is being finished: what is asked for waits for it. */
  private finishing = false;
  /** Each partial run's facts and version (a newer part may come while an answer is computed). */
  private readonly partials = new WeakMap<Run, { info: PartialInfo; version: number }>();
  private opening: Promise<Run> | undefined;
  private failedAt = 0;
  private readonly queue = new WorkQueue();
  private readonly cache = new ResultCache();
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private readonly changes: ChangeWatch;
  private releaseTimer: NodeJS.Timeout | undefined;
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
    return Boolean(this.run ?? this.partialRun) || this.finishing;
  }

  get profile(): Run['profile'] | undefined {
    return this.run?.profile;
  }

  get rows(): number | null {
    const run = this.run ?? this.partialRun;
    return run ? run.ingest.rows : null;
  }

  /** What opening read from the logs: 0 bytes when the cached index was up to date. */
  get opened(): { bytesRead: number; cached: boolean } | undefined {
    return this.run && { bytesRead: this.openedBytes, cached: this.run.cacheDir !== undefined };
  }

  private openedBytes = 0;
  private catalogueMeasured = false;

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
        if (p.bytesDone >= p.bytesTotal) this.endPartials();
        const now = Date.now();
        if (now - lastEmit >= 200) {
          lastEmit = now;
          this.emitState();
        }
      },
    };
    try {
      return await Run.open(this.entry.path, { ...options, onPartial: (partial) => this.acceptPartial(partial) });
    } catch (error) {
      if (!this.finishing && !this.partialRun) throw error;
      this.endPartials();
      this.options.log(
        `runlens serve: reading ${this.id} failed while parts of it were charted (${error instanceof Error ? error.message : error}); reading the rest again`,
      );
      return await Run.open(this.entry.path, options);
    }
  }

  private async index(): Promise<Run> {
    const started = Date.now();
    this.progress = undefined;
    this.setState('indexing');
    try {
      const run = await this.openRun(started);
      if (this.closed) {
        run.close();
        throw new Error('the server is shutting down');
      }
      const shown = this.partial;
      this.endPartials();
      this.finishing = false;
      this.run = run;
      this.openedBytes = run.lastChange.bytesRead;
      // Up to date: the field catalogue was measured by an earlier look and is kept in the index.
      this.catalogueMeasured = run.lastChange.bytesRead === 0;
      if (this.catalogueMeasured) catalogueKept(run);
      this.indexMs = Date.now() - started;
      this.updatedAt = Date.now();
      this.lastRefresh = Date.now();
      this.progress = undefined;
      if (shown) {
        // Charts of the partial run are drawn: they are asked for again, now of all of it.
        this.partial = undefined;
        this.version++;
        this.emitUpdate(run.ingest.rows - shown.rows, [], []);
      }
      this.setState('ready');
      if (this.watched) this.startPolling();
      this.releaseWhenIdle();
      return run;
    } catch (error) {
      this.endPartials();
      this.finishing = false;
      this.partial = undefined;
      this.error = error instanceof Error ? error.message : String(error);
      this.failedAt = Date.now();
      this.setState('error');
      throw error;
    } finally {
      this.opening = undefined;
    }
  }

  /** A newer part is indexed: answers come from it from now on, the previous one closes when idle. */
  private acceptPartial(partial: Run): void {
    const info = partialInfo(partial, this.progress);
    // All of it read (a run read in one part, or the last part): the whole run follows at once.
    if (this.closed || this.run || this.finishing || info.bytesRead >= info.bytesTotal) {
      partial.close();
      return;
    }
    const previous = this.partialRun;
    this.partialRun = partial;
    this.partial = info;
    this.version++;
    this.partials.set(partial, { info, version: this.version });
    this.updatedAt = Date.now();
    if (previous) this.retire(previous);
    this.emitUpdate(partial.ingest.rows - (previous?.ingest.rows ?? 0), [], []);
  }

  /** The version of what `run` answers (the current one, or that of the part it holds). */
  versionOf(run: Run): number {
    return this.partials.get(run)?.version ?? this.version;
  }

  /** What a partial run holds (undefined for a run read completely). */
  partialOf(run: Run): PartialInfo | undefined {
    return this.partials.get(run)?.info;
  }

  /**
   * No more answers from parts: the query of a part in flight is interrupted (what asked for it
   * waits for the whole run instead), so that the read's last steps (views, checkpoint, handing
   * memory back) have DuckDB to themselves.
   */
  private endPartials(): void {
    const partial = this.partialRun;
    if (!partial) return;
    this.partialRun = undefined;
    this.finishing = true;
    try {
      partial.session.connection.interrupt();
    } catch {
      // nothing running
    }
    this.retire(partial);
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
    return complete ? this.run : (this.run ?? this.partialRun);
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
      this.releaseWhenIdle();
    }
  }

  /** Work asked for and not answered yet (queued or running). */
  private busy = 0;

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
          return await work(run);
        } catch (error) {
          // A part's query interrupted as the whole run arrives: asked again of the whole run.
          if (run.partial && this.partialRun !== run) return NO_RUN;
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

  /**
   * Once a run has been idle a moment: its field catalogue is measured and kept in the index if it
   * is not yet (a run just read answers from a scan meanwhile; the next look, after a restart too,
   * reads it for free), and a little later DuckDB's cached blocks go back to the system (it keeps
   * what queries read up to its memory limit, and with several runs open that adds up; the next
   * query reads them again from the index file, mostly from the page cache).
   */
  private releaseWhenIdle(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    const release = this.options.releaseAfterMs ?? 5_000;
    this.releaseTimer = setTimeout(
      () => {
        this.releaseTimer = undefined;
        void this.queue
          .run(
            async () => {
              const run = this.run;
              if (!run || this.opening || this.busy) return;
              if (this.catalogueMeasured) {
                this.releasedAt = Date.now();
                return run.session.releaseMemory();
              }
              await run.fieldCatalog();
              this.catalogueMeasured = true;
              catalogueKept(run);
              this.releaseWhenIdle();
            },
            { heavy: true },
          )
          .catch(() => {});
      },
      this.catalogueMeasured ? release : Math.min(1_000, release),
    );
    this.releaseTimer.unref();
  }

  /**
   * Hands DuckDB's cached blocks back now (another run is at work: the two pools together would
   * be the server's peak), after the work queued here.
   */
  releaseNow(): void {
    if (this.busy || this.releasedAt >= this.lastUsed) return;
    this.releasedAt = Date.now();
    void this.queue
      .run(async () => {
        if (this.run && !this.opening && !this.busy) await this.run.session.releaseMemory();
      })
      .catch(() => {});
  }

  private releasedAt = 0;

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
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
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
