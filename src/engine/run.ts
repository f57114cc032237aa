import { discoverRun, type DiscoverOptions, type RunLocation } from '../formats/discover.js';
import type { Profile } from '../formats/profile.js';
import {
  HIDDEN_COLUMNS,
  Ingestor,
  KEY_COLUMNS,
  TASK_CANDIDATES,
  X_CANDIDATES,
  type IngestOptions,
  type IngestResult,
  type RefreshResult,
} from './ingest.js';
import os from 'node:os';
import {
  canIngestOnWorker,
  createIngestor,
  ingestOnWorker,
  suitsIngestWorker,
  suitsParallelIngest,
} from './ingest-tables.js';
import { quoteIdentifier, Session, type SessionOptions } from './session.js';
import { chooseXAxis, type XAxis } from './x-axis.js';

export interface OpenRunOptions extends DiscoverOptions, Omit<IngestOptions, 'xCandidates' | 'firstFile'> {
  /** Field to use as x (`--x`), or "ordinal". */
  x?: string;
  session?: SessionOptions;
  /** Runs larger than this many bytes are indexed in a temporary on-disk database. */
  onDiskAboveBytes?: number;
  /**
   * Read and parse on a worker thread while this one appends to DuckDB (`ingestOnWorker`):
   * by default for runs of at least WORKER_INGEST_MIN_BYTES that are not live and gain from it
   * (`suitsIngestWorker`), when the compiled worker is there; `RUNLENS_INGEST_WORKER=0` turns it
   * off. A run read so cannot `refresh`.
   */
  ingestWorker?: boolean;
  /**
   * Read on this many worker threads, each a contiguous part of the files (`ingestOnWorker`);
   * 0: on this thread. Without this or `ingestWorker`, runs of at least WORKER_INGEST_MIN_BYTES
   * in several files that gain from it (`suitsParallelIngest`) use one per core, at most
   * MAX_INGEST_WORKERS. `RUNLENS_INGEST_WORKERS=N` sets the count for every run that is not live.
   */
  ingestWorkers?: number;
}

/**
 * Most workers a parallel ingest starts. Each adds its heap and parse buffers: RL 2.68 GB `report`
 * peaked at 629-698 MB on two workers against 446 MB on this thread (2026-12-03). Two is what was
 * measured; more would need measuring against the 1 GB bound first.
 */
export const MAX_INGEST_WORKERS = 2;

/**
 * Below this, a run is read on the calling thread: starting the worker and loading its modules
 * (~0.1 s) would cost more than the overlap gains.
 */
export const WORKER_INGEST_MIN_BYTES = 32 * 1024 * 1024;

export type XRange = {
  min: number | null;
  max: number | null;
  integer: boolean;
};

export interface RunSummary {
  profile: Profile;
  files: number;
  rows: number;
  uidRows: number;
  uidIndexedRows: number;
  bytes: number;
  x: XAxis & { min: number | null; max: number | null; rowsWithoutX: number };
  uids: number;
  problems: number;
  truncated: number;
}

/**
 * An indexed run: its files read into DuckDB, with views that every analysis builds on:
 * `events` (rows + `ord`, the global row ordinal, and `x`), `uid_events` (uid_rows + line, x, ord, task),
 * `files` (per-file counts and ordinal offsets).
 */
export class Run {
  private constructor(
    readonly session: Session,
    private currentLocation: RunLocation,
    /** Undefined when the run was read on a worker thread: `ingest` is then final. */
    private readonly ingestor: Ingestor | undefined,
    private readonly ingestResult: IngestResult | undefined,
    readonly profile: Profile,
    readonly x: XAxis,
    readonly taskColumn: string | undefined,
    private readonly input: string | undefined,
    private readonly options: OpenRunOptions,
  ) {}

  get location(): RunLocation {
    return this.currentLocation;
  }

  /** What was read: per-file reports, problems, fields, row counts. */
  get ingest(): IngestResult {
    return this.ingestor?.result() ?? this.ingestResult!;
  }

  static async open(input: string | undefined, options: OpenRunOptions = {}): Promise<Run> {
    const location = discoverRun(input, options);
    const bytes = location.files.reduce((sum, f) => sum + f.bytes, 0);
    const onDisk = bytes > (options.onDiskAboveBytes ?? 256 * 1024 * 1024);
    const session = onDisk
      ? await Session.createOnDisk(options.session)
      : await Session.create(options.session);
    try {
      const xCandidates =
        options.x && !X_CANDIDATES.includes(options.x) ? [...X_CANDIDATES, options.x] : X_CANDIDATES;
      const keyX = options.x === 'ordinal' || options.x === 'row' ? undefined : options.x;
      const ingestOptions = { ...options, xCandidates, keyX };
      let ingestor: Ingestor | undefined;
      let ingest: IngestResult;
      const workers = ingestWorkers(options, location.files, bytes);
      if (workers > 0) {
        ingest = await ingestOnWorker(session, location.files, ingestOptions, workers);
      } else {
        ingestor = await createIngestor(session, ingestOptions);
        await ingestor.ingestAll(location.files);
        ingest = ingestor.result();
      }
      const x = chooseXAxis(ingest.order, ingest.rows, options.x);
      const profile = runProfile(ingest);
      const taskColumn = TASK_CANDIDATES.find((c) =>
        ingest.fields.all().some((f) => f.path === c && f.role === 'scalar'),
      );
      const run = new Run(
        session,
        location,
        ingestor,
        ingestor ? undefined : ingest,
        profile,
        x,
        taskColumn,
        input,
        options,
      );
      await run.createViews();
      await session.releaseMemory();
      return run;
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /** SQL expression of x over `rows`, when x is a column. */
  private get xExpression(): string {
    return `CAST(${quoteIdentifier(this.x.column ?? 'rec')} AS DOUBLE)`;
  }

  /** Whether `uid_rows` carries its events' x (KEY_COLUMNS), set by createViews. */
  private uidXCopied = false;

  /**
   * SQL expression of x over the `uid_rows` of one file, whose first event has run order
   * `firstOrd`, as `uid_events` computes it; undefined when `uid_events` takes x from a join.
   */
  uidRowsX(firstOrd: number): string | undefined {
    if (!this.uidXCopied) return undefined;
    return this.x.column === undefined ? `CAST(${firstOrd} + rec AS DOUBLE)` : quoteIdentifier(KEY_COLUMNS.x);
  }

  private readonly columnCache = new Map<string, Set<string>>();

  storedColumns(table: 'rows' | 'uid_rows'): Set<string> {
    return this.columnCache.get(table) ?? new Set();
  }

  /**
   * Reads what the run's writers added since the last read (new lines, new files, rewritten
   * files) and updates the views. The x axis and profile chosen at open stay as they are.
   */
  async refresh(): Promise<RefreshResult> {
    if (!this.ingestor) {
      throw new Error(
        'Run.refresh: this run was read on a worker thread; open it with `live: true` to follow it',
      );
    }
    const location = discoverRun(this.input, this.options);
    const result = await this.ingestor.refresh(location.files);
    this.currentLocation = location;
    if (result.newRows > 0 || result.newFiles.length > 0 || result.reread.length > 0) {
      this.summaryCache = undefined;
      this.xRangeCache = undefined;
      await this.createViews();
    }
    return result;
  }

  private async createViews(): Promise<void> {
    const s = this.session;
    const files = this.ingest.files;
    let before = 0;
    const values = files
      .map((f) => {
        const row = `(${f.fileId}, ${before}, ${f.rows})`;
        before += f.rows;
        return row;
      })
      .join(', ');
    await s.run('CREATE OR REPLACE TABLE files (file_id INTEGER, first_ord BIGINT, rows BIGINT)');
    if (values) await s.run(`INSERT INTO files VALUES ${values}`);
    const rowTypes = new Map<string, string>();
    for (const table of ['rows', 'uid_rows'] as const) {
      const columns = await s.all<{ name: string; type: string }>(
        `SELECT name, type FROM pragma_table_info('${table}')`,
      );
      if (table === 'rows') for (const c of columns) rowTypes.set(c.name, c.type);
      this.columnCache.set(table, new Set(columns.map((c) => c.name).filter((c) => !HIDDEN_COLUMNS.has(c))));
    }
    const storedTask =
      this.taskColumn && this.storedColumns('rows').has(this.taskColumn) ? this.taskColumn : undefined;
    const task = storedTask === undefined ? 'NULL' : quoteIdentifier(storedTask);
    const ordinalX = (alias: string) => `CAST(f.first_ord + ${alias}.rec AS DOUBLE)`;
    await s.run(`CREATE OR REPLACE VIEW events AS
      SELECT r.*, CAST(f.first_ord + r.rec AS BIGINT) AS ord, ${this.x.column === undefined ? ordinalX('r') : this.xExpression} AS x,
             CAST(${task} AS VARCHAR) AS task
      FROM rows r JOIN files f USING (file_id)`);
    const hidden = (alias: string, columns: string[]) =>
      `${alias}.* EXCLUDE (${columns.map(quoteIdentifier).join(', ')})`;
    const uidHidden = hidden('u', Object.values(KEY_COLUMNS));
    const indexedHidden = hidden('i', [KEY_COLUMNS.x]);
    this.uidXCopied = this.keysCopied(rowTypes, storedTask);
    if (this.uidXCopied) {
      // The per-uid rows carry their event's x, line and task (KEY_COLUMNS): no join but the
      // one with `files`, a row per file.
      const x = (alias: string) =>
        this.x.column === undefined ? ordinalX(alias) : `${alias}.${quoteIdentifier(KEY_COLUMNS.x)}`;
      await s.run('DROP TABLE IF EXISTS event_keys');
      await s.run(`CREATE OR REPLACE VIEW uid_events AS
        SELECT ${uidHidden}, u.${quoteIdentifier(KEY_COLUMNS.line)} AS line, ${x('u')} AS x,
               CAST(f.first_ord + u.rec AS BIGINT) AS ord, u.${quoteIdentifier(KEY_COLUMNS.task)} AS task
        FROM uid_rows u JOIN files f USING (file_id)`);
      await s.run(`CREATE OR REPLACE VIEW uid_indexed_events AS
        SELECT ${indexedHidden}, ${x('i')} AS x, CAST(f.first_ord + i.rec AS BIGINT) AS ord
        FROM uid_indexed i JOIN files f USING (file_id)`);
      return;
    }
    // Otherwise they join a compact key table, built once per (re)index, rather than the events
    // view with all its columns and expressions: per-uid queries on large runs are several times faster.
    await s.run(`CREATE OR REPLACE TABLE event_keys AS SELECT file_id, rec, line, ord, x, task FROM events`);
    await s.run(`CREATE OR REPLACE VIEW uid_events AS
      SELECT ${uidHidden}, k.line, k.x, k.ord, k.task FROM uid_rows u JOIN event_keys k USING (file_id, rec)`);
    await s.run(`CREATE OR REPLACE VIEW uid_indexed_events AS
      SELECT ${indexedHidden}, k.x, k.ord FROM uid_indexed i JOIN event_keys k USING (file_id, rec)`);
  }

  /**
   * Whether the copies of x and task in the per-uid rows (KEY_COLUMNS) equal what the events view
   * computes: the ingest copied the fields that became the x axis and the task, and `rows` stores
   * them as numbers and as text (so the view's casts change nothing).
   */
  private keysCopied(rowTypes: ReadonlyMap<string, string>, storedTask: string | undefined): boolean {
    const keys = this.ingest.uidKeys;
    if (!keys.decided) return true; // no per-uid rows at all
    const xCopied =
      this.x.column === undefined || (this.x.column === keys.x && rowTypes.get(keys.x) === 'DOUBLE');
    const taskCopied =
      storedTask === undefined
        ? keys.task === undefined || !rowTypes.has(keys.task)
        : keys.task === storedTask && rowTypes.get(storedTask) === 'VARCHAR';
    return xCopied && taskCopied;
  }

  private xRangeCache: Promise<XRange> | undefined;

  /**
   * x over every event with a finite x: min, max, all integers. Every chart over x bins this
   * range (binSpec), so the charts of one run line up and the scanner can bin as it reads.
   */
  xRange(): Promise<XRange> {
    this.xRangeCache ??= this.session
      .one<XRange>(
        `SELECT min(x) AS min, max(x) AS max, coalesce(bool_and(x = round(x)), false) AS integer
         FROM events WHERE x IS NOT NULL AND isfinite(x)`,
      )
      .then((r) => r ?? { min: null, max: null, integer: false });
    return this.xRangeCache;
  }

  private summaryCache: Promise<RunSummary> | undefined;

  /** Rows, files, x range, uids, problems: computed once per (re)index (it scans every uid row). */
  summary(): Promise<RunSummary> {
    this.summaryCache ??= this.computeSummary();
    return this.summaryCache;
  }

  private async computeSummary(): Promise<RunSummary> {
    const xs = await this.session.one<{ min: number | null; max: number | null; missing: number }>(
      `SELECT min(x) AS min, max(x) AS max, CAST(count(*) FILTER (WHERE x IS NULL OR NOT isfinite(x)) AS INTEGER) AS missing FROM events`,
    );
    const uids = await this.session.one<{ n: number }>(
      `SELECT CAST(count(DISTINCT uid) AS INTEGER) AS n FROM (SELECT uid FROM uid_rows UNION ALL SELECT uid FROM uid_indexed)`,
    );
    return {
      profile: this.profile,
      files: this.location.files.length,
      rows: this.ingest.rows,
      uidRows: this.ingest.uidRows,
      uidIndexedRows: this.ingest.uidIndexedRows,
      bytes: this.location.files.reduce((sum, f) => sum + f.bytes, 0),
      x: { ...this.x, min: xs?.min ?? null, max: xs?.max ?? null, rowsWithoutX: xs?.missing ?? 0 },
      uids: uids?.n ?? 0,
      problems: this.ingest.problemCount,
      truncated: this.ingest.files.reduce((sum, f) => sum + (f.problems.truncated ?? 0), 0),
    };
  }

  close(): void {
    this.session.close();
  }
}

function runProfile(ingest: IngestResult): Profile {
  return profileOfFiles(ingest.files);
}

/** A run's profile: the one with the most rows over its files' profiles. */
export function profileOfFiles(files: readonly { profile: Profile; rows: number }[]): Profile {
  const weight: Record<Profile, number> = { filetao: 0, openvalidators: 0, rl: 0, generic: 0 };
  for (const file of files) weight[file.profile] += file.rows;
  let best: Profile = 'generic';
  for (const profile of ['filetao', 'openvalidators', 'rl'] as const)
    if (weight[profile] > weight[best]) best = profile;
  if (best === 'generic')
    for (const profile of ['filetao', 'openvalidators', 'rl'] as const)
      if (weight[profile] > 0) return profile;
  return best;
}

/** How many worker threads Run.open reads on (0: this one; see OpenRunOptions.ingestWorker(s)). */
function ingestWorkers(options: OpenRunOptions, files: RunLocation['files'], bytes: number): number {
  if (options.live || !canIngestOnWorker()) return 0;
  if (options.ingestWorkers !== undefined) return options.ingestWorkers;
  // A count of workers, whatever the run (benchmarks, tests of the CLI).
  const forced = process.env.RUNLENS_INGEST_WORKERS;
  if (forced !== undefined && /^\d+$/.test(forced)) return Number(forced);
  if (options.ingestWorker !== undefined) return options.ingestWorker ? 1 : 0;
  if (process.env.RUNLENS_INGEST_WORKER === '0' || bytes < WORKER_INGEST_MIN_BYTES) return 0;
  const parallel = Math.min(os.availableParallelism(), MAX_INGEST_WORKERS, files.length);
  if (parallel > 1 && suitsParallelIngest(files)) return parallel;
  return suitsIngestWorker(files) ? 1 : 0;
}
