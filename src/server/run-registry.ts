import type { OpenRunOptions } from '../engine/run.js';
import type { RunListEntry, RunsResponse } from './api-types.js';
import { HttpError } from './http-error.js';
import { discoverRuns, type CatalogEntry } from './run-catalog.js';
import { RunHandle } from './run-handle.js';

export interface RunRegistryOptions {
  /** The served directory (or a single log file), already resolved to its real path; none: no local runs (a fleet's dashboard). */
  root: string | undefined;
  /** Watched runs look for appended data this often (default 250 ms). */
  pollMs?: number;
  /** The runs list is rescanned at most this often (default 1 s). */
  catalogTtlMs?: number;
  /**
   * Runs kept open at once (default 3): each holds a DuckDB database of its own, with a memory
   * limit of its own. The least recently used run nobody watches is closed beyond this; reopening
   * it from the cached index reads only what was appended meanwhile.
   */
  maxOpenRuns?: number;
  /** A run nobody watches or asks anything of for this long is closed (default 10 min). */
  idleCloseMs?: number;
  /** Where run indexes are cached (Run.open's `cache`: a directory, or false for temporary ones). */
  cache?: string | false;
  /** Size of the parts large JSON lines files are read in, each charted as it is indexed (Run.open's `chunkBytes`). */
  chunkBytes?: number;
  /** A run idle this long hands DuckDB's cached blocks back (default 5 s). */
  releaseAfterMs?: number;
  log?: (message: string) => void;
}

/** The runs under the served directory and the ones opened so far. */
export class RunRegistry {
  readonly root: string | undefined;
  private readonly handles = new Map<string, RunHandle>();
  private cached: { at: number; entries: CatalogEntry[] } | undefined;
  private indexing: Promise<unknown> = Promise.resolve();
  private readonly pollMs: number;
  private readonly log: (message: string) => void;
  private readonly openOptions: Pick<OpenRunOptions, 'cache' | 'chunkBytes'>;
  private readonly idleTimer: NodeJS.Timeout;

  constructor(private readonly options: RunRegistryOptions) {
    this.root = options.root;
    this.pollMs = options.pollMs ?? 250;
    this.log = options.log ?? ((m) => process.stderr.write(`${m}\n`));
    this.openOptions = { cache: options.cache, chunkBytes: options.chunkBytes };
    const idleMs = options.idleCloseMs ?? 10 * 60_000;
    this.idleTimer = setInterval(
      () => void this.closeIdle(idleMs),
      Math.max(50, Math.min(60_000, idleMs / 4)),
    );
    this.idleTimer.unref();
  }

  catalog(): CatalogEntry[] {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > (this.options.catalogTtlMs ?? 1000))
      this.cached = { at: now, entries: this.root === undefined ? [] : discoverRuns(this.root) };
    return this.cached.entries;
  }

  /** The handle of a listed run; 404 naming the runs there are when the id is unknown. */
  handle(id: string): RunHandle {
    const existing = this.handles.get(id);
    if (existing) return existing;
    let entry = this.catalog().find((e) => e.id === id);
    if (!entry) {
      this.cached = undefined; // a run created a moment ago
      entry = this.catalog().find((e) => e.id === id);
    }
    if (!entry) {
      const ids = this.catalog().map((e) => e.id);
      throw new HttpError(404, `no run "${id}" under the served directory`, {
        hint: ids.length ? 'runs are listed by /api/runs' : 'the served directory holds no log files yet',
        valid: ids.slice(0, 50),
      });
    }
    const handle = new RunHandle(entry, {
      pollMs: this.pollMs,
      queue: (work) => this.queueIndexing(work),
      log: this.log,
      open: this.openOptions,
      releaseAfterMs: this.options.releaseAfterMs,
      onUse: (busy) => this.releaseOthers(busy),
    });
    this.handles.set(id, handle);
    return handle;
  }

  list(): RunsResponse {
    const runs = this.catalog().map((entry): RunListEntry => {
      const handle = this.handles.get(entry.id);
      const open = handle?.state === 'ready';
      return {
        id: entry.id,
        kind: entry.kind,
        files: entry.files,
        bytes: entry.bytes,
        modified: entry.modified,
        profile: (open && handle.profile) || entry.profile,
        profileGuessed: !open,
        state: handle?.state ?? 'closed',
        rows: handle?.rows ?? null,
        progress: handle?.progress,
        partial: handle?.state === 'indexing' ? handle.partial : undefined,
        error: handle?.state === 'error' ? handle.error : undefined,
      };
    });
    return { root: this.root ?? '', runs };
  }

  private queueIndexing<T>(work: () => Promise<T>): Promise<T> {
    const result = this.indexing.then(async () => {
      await this.evict();
      return work();
    });
    this.indexing = result.catch(() => {});
    return result;
  }

  /** Keeps at most maxOpenRuns − 1 open before another opens: closes the least recently used unwatched ones. */
  private async evict(): Promise<void> {
    const max = Math.max(1, this.options.maxOpenRuns ?? 3);
    const open = [...this.handles.values()]
      .filter((h) => h.state === 'ready' && !h.watched)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    const openCount = [...this.handles.values()].filter((h) => h.state === 'ready').length;
    for (let i = 0; i < openCount - (max - 1) && i < open.length; i++) await open[i].close();
  }

  /**
   * One run's DuckDB at work at a time holds its cached blocks: the others that have been idle a
   * second hand theirs back (each has a memory limit of its own; together they would add up).
   */
  private releaseOthers(busy: RunHandle): void {
    const now = Date.now();
    for (const handle of this.handles.values())
      if (handle !== busy && handle.state === 'ready' && now - handle.lastUsed > 1_000) handle.releaseNow();
  }

  /** Closes the open runs nobody has watched or asked anything of for `idleMs`. */
  private async closeIdle(idleMs: number): Promise<void> {
    const now = Date.now();
    for (const handle of this.handles.values())
      if (handle.state === 'ready' && !handle.watched && now - handle.lastUsed > idleMs) await handle.close();
  }

  /** The ids of the runs open now (all of them read), least recently used first. */
  openRuns(): string[] {
    return [...this.handles.values()]
      .filter((h) => h.state === 'ready')
      .sort((a, b) => a.lastUsed - b.lastUsed)
      .map((h) => h.id);
  }

  async close(): Promise<void> {
    clearInterval(this.idleTimer);
    await Promise.all([...this.handles.values()].map((h) => h.close(true)));
    this.handles.clear();
  }
}
