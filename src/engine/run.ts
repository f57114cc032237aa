import { duckdb, type Dialect } from './dialect.js';
import { Answers } from './answers.js';
import type { QueryableRun, XRange } from './queryable.js';
import path from 'node:path';
import { discoverRun, expandHome, type DiscoverOptions, type RunLocation } from '../formats/discover.js';
import type { LogFile } from '../formats/log-file.js';
import { formatProblem, type ProblemKind, type ReadProblem } from '../formats/problems.js';
import { headRecordBytes } from '../formats/probe.js';
import type { Profile } from '../formats/profile.js';
import { UserError } from '../errors.js';
import { TASK_CANDIDATES, X_CANDIDATES, type OrderStat } from './candidates.js';
import { fieldCatalog, type FieldStat } from './field-catalog.js';
import { fileStatus, type FileStatus } from './file-status.js';
import { createViews, type ViewColumns } from './index-views.js';
import { cacheLimit, cacheRoot, evict, INDEX_FILE, markUsed, runCacheDir } from './run-cache.js';
import { RunIndex, type IndexChange, type IndexProgress } from './run-index.js';
import {
  boundedMemoryLimit,
  rowGroupRows,
  Session,
  type QuerySession,
  type SessionOptions,
} from './session.js';
import { ident, sql } from './sql.js';
import { uidCount } from './uid-count.js';
import { chooseXAxis, type XAxis } from './x-axis.js';

export type { IndexProgress as IngestProgress } from './run-index.js';

export interface OpenRunOptions extends DiscoverOptions {
  /** Field to use as x (`--x`), or "ordinal". */
  x?: string;
  /** Any corrupt record is fatal (a truncated last line still is not). */
  strict?: boolean;
  /** A run still being written: a partial last line is held back rather than reported. */
  live?: boolean;
  onProgress?: (progress: IndexProgress) => void;
  /**
   * Where the index is kept: the cache directory (default: cacheRoot()), or false for an index
   * of this command only (`--no-cache`).
   */
  cache?: string | false;
  session?: SessionOptions;
  /** At most this many problems are kept with their details (all are counted). */
  maxProblemDetails?: number;
  /**
   * While a large run is read: called with a run of what is indexed so far, after each part is
   * committed (plain JSON lines files are read in parts of `chunkBytes`, many files in batches of
   * that many bytes). That run queries on a
   * connection of its own, so it answers while the rest is read; close it when done with it.
   */
  onPartial?: (run: Run) => void;
  /**
   * Parts of large JSON lines files and batches of smaller files (default: whole files, batches of
   * at most 1 GiB; 256 MB with onPartial).
   */
  chunkBytes?: number;
}

/** Parts a large file is read in when what is read so far is shown (onPartial). */
const PARTIAL_CHUNK_BYTES = 256 * 1024 * 1024;

export type { XRange } from './queryable.js';

export interface FileReport {
  fileId: number;
  /** Position in file order. */
  order: number;
  name: string;
  path: string;
  container: LogFile['container'];
  gzip: boolean;
  bytes: number;
  profile: Profile;
  /** Good records read (each becomes one row). */
  rows: number;
  /** Hash of the file's first KiB as indexed: a rewritten file has another (a fleet push compares it). */
  headHash: string;
  /** Problems by kind: corrupt, truncated, not-an-object, unreadable, too-long. */
  problems: Partial<Record<ProblemKind, number>>;
  status: FileStatus;
}

/** What the index holds of the run: its files, rows and problems. */
export interface IngestResult {
  files: FileReport[];
  problems: ReadProblem[];
  problemCount: number;
  rows: number;
  uidRows: number;
}

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

export interface RefreshResult {
  newRows: number;
  newFiles: string[];
  /** Files read again from the start (rewritten, truncated or rotated). */
  reread: string[];
}

/** Runs smaller than this are indexed in memory when there is no cache. */
const IN_MEMORY_BYTES = 256 * 1024 * 1024;

/**
 * An indexed run: its files read by DuckDB into the run's index (kept in the cache, so the next
 * look reads only what changed), with the views every aggregate reads: `events`, `uid_events`,
 * `uid_indexed_events` (index-views.ts).
 */
export class Run implements QueryableRun {
  /** Its views are queried in DuckDB's SQL. */
  readonly dialect: Dialect = duckdb;
  readonly profile: Profile;
  readonly x: XAxis;
  readonly taskColumn: string | undefined;
  private facts: IngestResult;
  private view: ViewColumns;
  /**
   * Where the aggregates query: the session, with the answers of slow queries kept in the cached
   * index for the next look at the same rows (answers.ts). A temporary index keeps none.
   */
  readonly answers: QuerySession;

  private constructor(
    readonly session: Session,
    private readonly index: RunIndex,
    private currentLocation: RunLocation,
    state: Prepared,
    private readonly input: string | undefined,
    private readonly options: OpenRunOptions,
    /** Where the index is cached (undefined: a temporary index). */
    readonly cacheDir: string | undefined,
    /** What the last update read. */
    public lastChange: IndexChange,
    /** A run of what was indexed so far while the rest is read (Run.open's onPartial). */
    readonly partial = false,
  ) {
    this.facts = state.facts;
    this.profile = state.profile;
    this.x = state.x;
    this.taskColumn = state.taskColumn;
    this.view = state.view;
    this.answers = new Answers(
      session,
      () => (cacheDir === undefined ? undefined : index.answerState()),
      (span) => index.rangeState(span, session),
      cacheDir,
    );
  }

  get location(): RunLocation {
    return this.currentLocation;
  }

  /** What the index holds: per-file reports, problems, row counts. */
  get ingest(): IngestResult {
    return this.facts;
  }

  /** The view's columns: fields with their types, per-uid vectors, uid-indexed kinds. */
  get columns(): ViewColumns {
    return this.view;
  }

  static async open(input: string | undefined, options: OpenRunOptions = {}): Promise<Run> {
    const location = discoverRun(input, options);
    const { session, cacheDir } = await openSession(location, input, options);
    try {
      const index = await RunIndex.open(session);
      const onPartial = options.onPartial;
      const change = await index.update(location.files, {
        live: options.live,
        onProgress: options.onProgress,
        chunkBytes: options.chunkBytes ?? (onPartial ? PARTIAL_CHUNK_BYTES : undefined),
        onChunk: onPartial
          ? async () => {
              const state = await prepare(index, location, options);
              const fork = await session.fork();
              const run = new Run(
                fork,
                index,
                location,
                state,
                input,
                options,
                cacheDir,
                emptyChange(),
                true,
              );
              onPartial(run);
            }
          : undefined,
      });
      const state = await prepare(index, location, options);
      if (options.strict) rejectProblems(state.facts);
      const run = new Run(session, index, location, state, input, options, cacheDir, change);
      if (cacheDir) {
        // Written to the database file now, so its size counts (another connection may be busy).
        await session.run('CHECKPOINT').catch(() => undefined);
        evict(cacheRoot(options.cache || undefined), cacheLimit(), cacheDir);
      }
      await session.releaseMemory();
      return run;
    } catch (error) {
      session.close();
      throw error;
    }
  }

  get fileCount(): number {
    return this.location.files.length;
  }

  filesWithRows(): Promise<number> {
    return Promise.resolve(new Set(this.facts.files.filter((f) => f.rows > 0).map((f) => f.fileId)).size);
  }

  /** Column names of the `rows` view (fields of the log) or of `uid_rows` (uid and per-uid vectors). */
  storedColumns(table: 'rows' | 'uid_rows'): Set<string> {
    if (table === 'rows') return new Set([...this.view.scalars.keys()]);
    return this.facts.uidRows > 0 ? new Set(['uid', ...this.view.perUid.keys()]) : new Set();
  }

  /**
   * Reads what the run's writers added since the last read (new lines, new files, rewritten
   * files) and updates the views. The x axis and profile chosen at open stay as they are.
   */
  async refresh(): Promise<RefreshResult> {
    const location = discoverRun(this.input, this.options);
    const change = await this.index.update(location.files, { live: this.options.live });
    this.currentLocation = location;
    this.lastChange = change;
    const changed =
      change.newRows > 0 ||
      change.newFiles.length > 0 ||
      change.reread.length > 0 ||
      change.dropped.length > 0;
    if (changed) await this.reread();
    else this.facts = await readFacts(this.index, location, this.options);
    return { newRows: change.newRows, newFiles: change.newFiles, reread: change.reread };
  }

  /**
   * Reads every record of the files read with declared columns for members the index has no column
   * for (see RunIndex.checkMembers), reads those files again declaring them, and returns the fields
   * found. Costs a second full parse of what was not checked before; `inspect` does it.
   */
  async checkMembers(): Promise<string[]> {
    const files = this.location.files;
    const found = await this.index.checkMembers(files);
    if (!found.length) return found;
    const before = new Set(this.index.indexedFiles().map((f) => f.path));
    await this.index.update(files, { live: this.options.live });
    await this.index.markMembersChecked(files.map((f) => f.path).filter((p) => !before.has(p)));
    await this.reread();
    return found;
  }

  /** After the index changed: its facts again, the cached answers dropped, the views rebuilt. */
  private async reread(): Promise<void> {
    this.facts = await readFacts(this.index, this.location, this.options);
    this.summaryCache = undefined;
    this.xRangeCache = undefined;
    this.catalogCache = undefined;
    this.view = await createViews(this.index, {
      xColumn: this.x.column,
      taskColumn: this.taskColumn,
      fileOrder: this.facts.files.map((f) => ({ fileId: f.fileId, rows: f.rows })),
    });
  }

  private catalogCache: Promise<{ fields: FieldStat[]; conflicts: Map<string, number> }> | undefined;

  /** Every field with its role, events and value types, and the type conflicts per column. */
  fieldCatalog(): Promise<{ fields: FieldStat[]; conflicts: Map<string, number> }> {
    this.catalogCache ??= fieldCatalog(this.index);
    return this.catalogCache;
  }

  private xRangeCache: Promise<XRange> | undefined;

  /**
   * x over every event with a finite x: min, max, all integers. Every chart over x bins this
   * range (binSpec), so the charts of one run line up.
   */
  xRange(): Promise<XRange> {
    this.xRangeCache ??= this.answers
      .one<XRange>(
        `SELECT min(x) AS min, max(x) AS max, coalesce(bool_and(x = round(x)), false) AS integer
         FROM events WHERE x IS NOT NULL AND isfinite(x)`,
      )
      .then((r) => r ?? { min: null, max: null, integer: false });
    return this.xRangeCache;
  }

  private summaryCache: Promise<RunSummary> | undefined;

  /** Rows, files, x range, uids, problems: computed once per update (it scans every uid row). */
  summary(): Promise<RunSummary> {
    this.summaryCache ??= this.computeSummary();
    return this.summaryCache;
  }

  private async computeSummary(): Promise<RunSummary> {
    const xs = await this.answers.one<{ min: number | null; max: number | null; missing: number }>(
      `SELECT min(x) AS min, max(x) AS max, CAST(count(*) FILTER (WHERE x IS NULL OR NOT isfinite(x)) AS DOUBLE) AS missing FROM events`,
    );
    const uids = await uidCount(this);
    return {
      profile: this.profile,
      files: this.location.files.length,
      rows: this.facts.rows,
      uidRows: this.facts.uidRows,
      uidIndexedRows: uids.indexedValues,
      bytes: this.location.files.reduce((sum, f) => sum + f.bytes, 0),
      x: { ...this.x, min: xs?.min ?? null, max: xs?.max ?? null, rowsWithoutX: xs?.missing ?? 0 },
      uids: uids.uids,
      problems: this.facts.problemCount,
      truncated: this.facts.files.reduce((sum, f) => sum + (f.problems.truncated ?? 0), 0),
    };
  }

  close(): void {
    this.session.close();
    // The index is no longer in use by this process.
    if (this.cacheDir && !this.partial) markUsed(this.cacheDir, runPath(this.location, this.input), false);
  }
}

/** What a run shows of its index: facts, x axis, profile, task field, views. */
interface Prepared {
  facts: IngestResult;
  x: XAxis;
  profile: Profile;
  taskColumn: string | undefined;
  view: ViewColumns;
}

/** Reads a run's facts from its index and makes its views anew. */
async function prepare(index: RunIndex, location: RunLocation, options: OpenRunOptions): Promise<Prepared> {
  const facts = await readFacts(index, location, options);
  const x = chooseXAxis(await orderStats(index, options.x), facts.rows, options.x);
  const profile = profileOfFiles(facts.files);
  const task = TASK_CANDIDATES.find((c) =>
    index.indexColumns().some((k) => k.name === c && k.role === 'scalar'),
  );
  const view = await createViews(index, {
    xColumn: x.column,
    taskColumn: task,
    fileOrder: facts.files.map((f) => ({ fileId: f.fileId, rows: f.rows })),
  });
  const taskColumn = task && view.scalars.get(task) ? task : undefined;
  return { facts, x, profile, taskColumn, view };
}

function emptyChange(): IndexChange {
  return { newRows: 0, newFiles: [], reread: [], appended: [], dropped: [], bytesRead: 0 };
}

/** The index's session: the run's cache database, or a temporary one. */
async function openSession(
  location: RunLocation,
  input: string | undefined,
  options: OpenRunOptions,
): Promise<{ session: Session; cacheDir: string | undefined }> {
  const bytes = location.files.reduce((sum, f) => sum + f.bytes, 0);
  const largest = location.files.reduce<LogFile | undefined>(
    (a, f) => (a && a.bytes >= f.bytes ? a : f),
    undefined,
  );
  const recordBytes = largest && headRecordBytes(largest);
  const rowGroupSize = recordBytes ? rowGroupRows(recordBytes) : undefined;
  if (options.cache !== false && process.env.RUNLENS_NO_CACHE !== '1') {
    const root = cacheRoot(options.cache || undefined);
    const run = runPath(location, input);
    const dir = runCacheDir(root, run);
    try {
      const session = await Session.create({
        memoryLimit: boundedMemoryLimit(),
        ...options.session,
        databasePath: path.join(dir, INDEX_FILE),
        rowGroupSize,
        keep: true,
        tempDirectory: path.join(dir, 'tmp'),
      });
      markUsed(dir, run);
      return { session, cacheDir: dir };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!/lock/i.test(message)) throw error;
      process.stderr.write(
        `runlens: the cached index of ${run} is in use by another runlens process; reading into a temporary index\n`,
      );
    }
  }
  const session =
    bytes > IN_MEMORY_BYTES
      ? await Session.createOnDisk({ rowGroupSize, ...options.session })
      : await Session.create(options.session);
  return { session, cacheDir: undefined };
}

/** The path a run is known by (its cache key): the file or directory given, or a variant's run directory. */
function runPath(location: RunLocation, input: string | undefined): string {
  return location.variant || input === undefined ? location.root : path.resolve(expandHome(input));
}

async function readFacts(
  index: RunIndex,
  location: RunLocation,
  options: OpenRunOptions,
): Promise<IngestResult> {
  const indexed = new Map(index.indexedFiles().map((f) => [f.path, f]));
  const partial = new Map(index.partialLines().map((p) => [p.fileId, p]));
  const uidRows = new Map<number, number>();
  for (const part of index.chunkParts())
    uidRows.set(part.fileId, (uidRows.get(part.fileId) ?? 0) + part.uidRows);
  const files: FileReport[] = [];
  for (const [order, file] of location.files.entries()) {
    const f = indexed.get(file.path);
    if (!f) continue;
    const problems = { ...f.problems };
    const cut = partial.get(f.fileId);
    if (cut && !options.live) problems.truncated = (problems.truncated ?? 0) + 1;
    files.push({
      fileId: f.fileId,
      order,
      name: file.name,
      path: file.path,
      container: f.container,
      gzip: f.gzip,
      bytes: f.size,
      profile: f.profile,
      rows: f.rows,
      headHash: f.headHash,
      problems,
      status: fileStatus(problems, f.rows),
    });
  }
  const byId = new Map(files.map((f) => [f.fileId, f]));
  const stored = await index.problems(options.maxProblemDetails ?? 200);
  const problems: ReadProblem[] = stored
    .filter((p) => byId.has(p.fileId))
    .map(({ fileId, ...p }) => ({ file: byId.get(fileId)!.name, ...p }));
  if (!options.live)
    for (const cut of partial.values()) {
      const file = byId.get(cut.fileId);
      if (!file) continue;
      problems.push({
        file: file.name,
        line: cut.line,
        kind: 'truncated',
        message: `last line is incomplete (${cut.bytes} bytes, no newline): the writer crashed or is still writing; skipped`,
      });
    }
  problems.sort(
    (a, b) =>
      (byId.get(fileIdOf(a, files))?.order ?? 0) - (byId.get(fileIdOf(b, files))?.order ?? 0) ||
      a.line - b.line,
  );
  const problemCount = files.reduce(
    (sum, f) => sum + Object.values(f.problems).reduce((s, n) => s + (n ?? 0), 0),
    0,
  );
  return {
    files,
    problems: problems.slice(0, options.maxProblemDetails ?? 200),
    problemCount,
    rows: files.reduce((sum, f) => sum + f.rows, 0),
    uidRows: files.reduce((sum, f) => sum + (uidRows.get(f.fileId) ?? 0), 0),
  };
}

function fileIdOf(problem: ReadProblem, files: readonly FileReport[]): number {
  return files.find((f) => f.name === problem.file)?.fileId ?? -1;
}

function rejectProblems(facts: IngestResult): void {
  const bad = facts.problems.find((p) => p.kind !== 'truncated');
  if (!bad) return;
  throw new UserError(`${formatProblem(bad)} (--strict makes bad input fatal)`, {
    hint: 'fix or remove that record, or run without --strict to skip bad records and keep the rest',
  });
}

/** Order statistics of each x candidate over the whole run (and of the field `--x` names). */
async function orderStats(index: RunIndex, requested: string | undefined): Promise<Map<string, OrderStat>> {
  const stats = new Map<string, OrderStat>();
  for (const row of await index.orderRows()) {
    const stat = stats.get(row.column) ?? { present: 0, decreases: 0 };
    stat.present += row.present;
    stat.decreases += row.decreases;
    stats.set(row.column, stat);
  }
  if (requested && !X_CANDIDATES.includes(requested) && requested !== 'ordinal' && requested !== 'row') {
    const column = index.indexColumns().find((c) => c.name === requested && c.role === 'scalar');
    if (column) {
      const tables = [...new Set(index.chunkParts().map((c) => c.chunk))]
        .map((chunk) => `ev_${chunk}`)
        .filter((t) => index.columnsOf(t)?.has(column.name));
      let present = 0;
      for (const table of tables) {
        const row = await index.session.one<{ n: number }>(
          sql`SELECT CAST(count(${ident(column.name)}) AS DOUBLE) AS n FROM ${ident(table)}`.text,
        );
        present += row?.n ?? 0;
      }
      stats.set(requested, { present, decreases: 0 });
    }
  }
  return stats;
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

/**
 * Every command fails on a run that yielded no rows at all (an empty, binary or wholly corrupt
 * log), saying why in one line: its first problems, or that its files hold no records.
 */
export function requireRows(run: Run): void {
  const facts = run.ingest;
  if (facts.rows > 0) return;
  const shown = facts.problems.slice(0, 3).map(formatProblem);
  const more = facts.problemCount > shown.length ? ` (and ${facts.problemCount - shown.length} more)` : '';
  const what = facts.files.length === 1 ? facts.files[0].name : `its ${facts.files.length} files`;
  throw new UserError(
    shown.length
      ? `no rows in this run: ${shown.join('; ')}${more}`
      : `no rows in this run: ${what} hold${facts.files.length === 1 ? 's' : ''} no records`,
    { hint: 'check the path; `runlens inspect --json` lists every file and what became of it' },
  );
}
