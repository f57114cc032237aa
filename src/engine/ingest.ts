import fs from 'node:fs';
import { UserError } from '../errors.js';
import type { EventSink, NumberCounts } from '../formats/event-sink.js';
import type { LogFile } from '../formats/log-file.js';
import { normalizeRecord } from '../formats/normalize.js';
import { formatProblem, type ReadProblem } from '../formats/problems.js';
import type { Profile } from '../formats/profile.js';
import { readRecords } from '../formats/read-records.js';
import type { LinePosition } from '../formats/read-json-lines.js';
import { FieldCatalog, numericValue, typeOfValue } from './field-stats.js';
import type { Session } from './session.js';
import { EventWalker } from '../scan/event-walker.js';
import { BATCH_ROWS, type ColumnBuffer } from './column-buffer.js';
import {
  HIDDEN_COLUMNS,
  KEY_COLUMNS,
  OrderStat,
  TASK_CANDIDATES,
  X_CANDIDATES,
  type UidKeys,
} from './ingest-schema.js';

export { HIDDEN_COLUMNS, KEY_COLUMNS, OrderStat, TASK_CANDIDATES, X_CANDIDATES, type UidKeys };

export type FileStatus = 'ok' | 'empty' | 'problems' | 'unreadable';

export interface FileReport {
  fileId: number;
  /** Position in file order (file ids keep the order files were first read in). */
  order: number;
  name: string;
  path: string;
  container: LogFile['container'];
  gzip: boolean;
  bytes: number;
  profile: Profile;
  /** Good records read (each becomes one row). */
  rows: number;
  /** Problems by kind: corrupt, truncated, not-an-object, unreadable, too-long. */
  problems: Partial<Record<ReadProblem['kind'], number>>;
  status: FileStatus;
}

export interface IngestProgress {
  fileIndex: number;
  fileCount: number;
  fileName: string;
  bytesDone: number;
  bytesTotal: number;
  rows: number;
}

export interface IngestOptions {
  /**
   * Store only these per-uid vectors (all are still listed among the fields). Commands that need
   * a few vectors (plots) skip the cost of the others (OpenValidators logs carry ~25 per event).
   */
  perUidFields?: readonly string[];
  /** A run still being written: a partial last line is held back rather than reported as truncated. */
  live?: boolean;
  /** Fields whose order is tracked to choose the x axis (`--x` adds one). */
  xCandidates?: readonly string[];
  /** The x field asked for (`--x`), copied into per-uid rows rather than a predicted one. */
  keyX?: string;
  /** Any corrupt record is fatal (a truncated last line still is not). */
  strict?: boolean;
  onProgress?: (progress: IngestProgress) => void;
  /**
   * Told how a parallel ingest went when it did not simply merge its parts: a table rebuilt to
   * put its columns in file order, or the run read again by one worker (and why).
   */
  onParallelNote?: (note: string) => void;
  /** At most this many problems are kept with their details (all are counted). */
  maxProblemDetails?: number;
  /**
   * Index of the first file given to `ingestAll` in the whole run (its file id and order): a run
   * read by several workers, each a contiguous part of its files (`ingestOnWorker`). Default 0.
   */
  firstFile?: number;
  /** Read JSON lines with the byte-level EventWalker (default; false or RUNLENS_BYTE_WALKER=0: JSON.parse every line). */
  byteWalker?: boolean;
}

export interface IngestResult {
  files: FileReport[];
  problems: ReadProblem[];
  problemCount: number;
  rows: number;
  uidRows: number;
  uidIndexedRows: number;
  fields: FieldCatalog;
  /** Values that did not fit their column's type (e.g. text in a numeric field), by column. */
  typeConflicts: Map<string, number>;
  /** Order statistics of each x-axis candidate. */
  order: Map<string, OrderStat>;
  /** The fields whose values the per-uid rows carry (see KEY_COLUMNS). */
  uidKeys: UidKeys;
}

/** What is remembered of a file between reads, so a refresh reads only what is new. */
interface FileState {
  report: FileReport;
  votes: Record<Profile, number>;
  /** JSON lines (not gzip) can be resumed at `position`; other layouts are re-read when they change. */
  resumable: boolean;
  position: LinePosition;
  size: number;
  ino: number;
  mtimeMs: number;
}

export interface RefreshResult {
  /** Rows added by this refresh. */
  newRows: number;
  newFiles: string[];
  /** Files read again from the start (rewritten, truncated or rotated). */
  reread: string[];
}

/** Appended rows (events and per-uid rows) between two releases of DuckDB's cached blocks. */
const RELEASE_EVERY_ROWS = 4_000_000;

/**
 * Every RELEASE_EVERY_ROWS appended rows, lets DuckDB drop the blocks it caches (see
 * Session.releaseMemory): without it, what DuckDB caches grows with the input (a 2 GB FileTAO
 * `inspect` peaked at 604 MB without, 410 MB with, 7 % slower). Used by whichever thread appends.
 */
export class PeriodicRelease {
  private atRelease = 0;

  constructor(private readonly session: Session) {}

  /** `appended`: rows appended so far (events and per-uid rows). */
  async after(appended: number): Promise<void> {
    if (appended - this.atRelease < RELEASE_EVERY_ROWS) return;
    this.atRelease = appended;
    await this.session.releaseMemory();
  }
}

/**
 * Where the ingest's rows go: buffered column-wise, then flushed into a DuckDB table
 * (`TableWriter`) or posted to the thread that appends them (the ingest worker's writers).
 */
export interface IngestWriter extends ColumnBuffer {
  flush(): Promise<void>;
  /** Flushes what is buffered; no more rows follow until the next read. */
  close(): Promise<void>;
  /** Drops what is buffered (after a fatal error). */
  abandon(): void;
}

/** The ingest's three tables' writers. */
export interface IngestWriters {
  rows: IngestWriter;
  uidRows: IngestWriter;
  uidIndexed: IngestWriter;
}

/**
 * Reads every file of a run into three DuckDB tables, streaming, in file order:
 * `rows` (one per event: file_id, rec, line, every scalar by dotted path), `uid_rows` (one per
 * event × position in `uids`: uid and every per-uid vector), `uid_indexed` (kind, uid, value).
 * Kept alive, it also reads what a live run appends (`refresh`).
 */
export class Ingestor {
  private readonly states = new Map<string, FileState>();
  readonly fields = new FieldCatalog();
  readonly problems: ReadProblem[] = [];
  problemCount = 0;
  private readonly sink: IngestSink;
  /**
   * Reads JSON lines as JSON.parse + normalizeRecord would, without building each line's objects
   * (lines it is not sure of come back as records). OpenValidators 1 GB: indexing 20 → 17 s and
   * 680 → 610 MB; FileTAO: as fast, 60–100 MB less.
   */
  private readonly walker: EventWalker | undefined;
  private readonly release: PeriodicRelease | undefined;

  private readonly rows: IngestWriter;
  private readonly uidRows: IngestWriter;
  private readonly uidIndexed: IngestWriter;

  /**
   * Reads into `writers`. With a session, it also lets DuckDB release its cached blocks as rows
   * are appended and can drop a file's rows (`refresh`); without, the thread that appends the
   * rows does the former and `refresh` is not available (see `ingestOnWorker`).
   */
  constructor(
    writers: IngestWriters,
    private readonly options: IngestOptions,
    private readonly session?: Session,
  ) {
    this.rows = writers.rows;
    this.uidRows = writers.uidRows;
    this.uidIndexed = writers.uidIndexed;
    this.release = session && new PeriodicRelease(session);
    this.sink = new IngestSink(
      options.xCandidates ?? X_CANDIDATES,
      options.keyX,
      this.rows,
      this.uidRows,
      this.uidIndexed,
      this.fields,
      options.perUidFields ? new Set(options.perUidFields) : undefined,
    );
    this.walker =
      (options.byteWalker ?? process.env.RUNLENS_BYTE_WALKER !== '0')
        ? new EventWalker(this.sink, () => true, true)
        : undefined;
  }

  /** Per-file reports in file order. */
  get files(): FileReport[] {
    return [...this.states.values()].map((s) => s.report).sort((a, b) => a.order - b.order);
  }

  /** See PeriodicRelease; the thread that appends does it when there is no session here. */
  private async releaseMemoryEvery(): Promise<void> {
    await this.release?.after(this.rows.rowsWritten + this.uidRows.rowsWritten);
  }

  /** Appends the buffered rows once a table's buffer is full. */
  private async flushIfFull(): Promise<void> {
    if (!this.sink.needsFlush) return;
    await this.sink.flush();
    await this.releaseMemoryEvery();
  }

  /** Reads every file of the run (the first, complete read). */
  async ingestAll(files: readonly LogFile[]): Promise<void> {
    const bytesTotal = files.reduce((sum, f) => sum + f.bytes, 0);
    let bytesBefore = 0;
    await this.guard(async () => {
      const first = this.options.firstFile ?? 0;
      for (let i = 0; i < files.length; i++) {
        const report = (rows: number, bytesDone: number): void =>
          this.options.onProgress?.({
            fileIndex: i,
            fileCount: files.length,
            fileName: files[i].name,
            bytesDone,
            bytesTotal,
            rows,
          });
        // A first read: file i of the run is file id and order first + i.
        await this.readFile(
          files[i],
          first + i,
          this.options.live ?? false,
          (rows, bytes) => report(rows, bytesBefore + bytes),
          undefined,
          first + i,
        );
        bytesBefore += files[i].bytes;
        // Each file ends at its size: the last batch may be reported before its last read.
        report(this.rows.rowsWritten + this.rows.buffered, bytesBefore);
      }
      await this.closeWriters();
    });
  }

  /**
   * Reads what changed since the last read: new bytes of growing JSON lines files (a partial last
   * line is held back until complete), new files, and files rewritten, truncated or rotated
   * (their rows are replaced). `files` is the run's current file list in file order.
   */
  async refresh(files: readonly LogFile[]): Promise<RefreshResult> {
    const before = this.rows.rowsWritten;
    const result: RefreshResult = { newRows: 0, newFiles: [], reread: [] };
    await this.guard(async () => {
      for (let i = 0; i < files.length; i++) {
        const file = files[i];
        const state = this.states.get(file.path);
        if (state) state.report.order = i;
        let stat: fs.Stats;
        try {
          stat = fs.statSync(file.path);
        } catch {
          continue; // gone between listing and reading
        }
        if (!state) {
          result.newFiles.push(file.name);
          await this.readFile({ ...file, bytes: stat.size }, i, true);
          continue;
        }
        if (stat.size === state.size && stat.ino === state.ino && stat.mtimeMs === state.mtimeMs) continue;
        const grew = stat.ino === state.ino && stat.size >= state.position.offset;
        if (state.resumable && grew) {
          if (stat.size > state.position.offset)
            await this.readFile({ ...file, bytes: stat.size }, i, true, undefined, state);
          else Object.assign(state, { size: stat.size, mtimeMs: stat.mtimeMs });
          continue;
        }
        result.reread.push(file.name);
        await this.dropFile(state.report.fileId);
        this.states.delete(file.path);
        await this.readFile(
          { ...file, bytes: stat.size },
          i,
          true,
          undefined,
          undefined,
          state.report.fileId,
        );
      }
      await this.closeWriters();
    });
    result.newRows = this.rows.rowsWritten - before;
    return result;
  }

  /**
   * Fields, by table, of which an empty text was left out because no column of that name existed
   * yet (an empty text does not decide a column's type). Had an earlier part of the run made the
   * column as text, it would have been stored: `ingestOnWorker` checks that across its workers.
   */
  get emptyTextSkipped(): { rows: ReadonlySet<string>; uidRows: ReadonlySet<string> } {
    return this.sink.emptyTextSkipped;
  }

  result(): IngestResult {
    return {
      files: this.files,
      problems: this.problems,
      problemCount: this.problemCount,
      rows: this.rows.rowsWritten,
      uidRows: this.uidRows.rowsWritten,
      uidIndexedRows: this.uidIndexed.rowsWritten,
      fields: this.fields,
      typeConflicts: new Map([...this.rows.conflicts, ...this.uidRows.conflicts]),
      order: this.sink.order,
      uidKeys: { ...this.sink.keys },
    };
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      for (const writer of [this.rows, this.uidRows, this.uidIndexed]) writer.abandon();
      throw error;
    }
  }

  private async closeWriters(): Promise<void> {
    // Sequential: a writer's ALTER TABLE must not run while another writer's appender closes.
    for (const writer of [this.rows, this.uidRows, this.uidIndexed]) await writer.close();
  }

  private async dropFile(fileId: number): Promise<void> {
    if (this.session === undefined) throw new Error('Ingestor: dropping a file needs the DuckDB session');
    await this.closeWriters();
    for (const [table, writer] of [
      ['rows', this.rows],
      ['uid_rows', this.uidRows],
      ['uid_indexed', this.uidIndexed],
    ] as const) {
      const removed = await this.session.one<{ n: number }>(
        `SELECT CAST(count(*) AS INTEGER) AS n FROM ${table} WHERE file_id = ${fileId}`,
      );
      await this.session.run(`DELETE FROM ${table} WHERE file_id = ${fileId}`);
      writer.rowsWritten -= removed?.n ?? 0;
    }
  }

  private async readFile(
    file: LogFile,
    order: number,
    live: boolean,
    onBatch?: (rows: number, bytesRead: number) => void,
    resume?: FileState,
    reuseId?: number,
  ): Promise<void> {
    const stat = fs.statSync(file.path, { throwIfNoEntry: false });
    const state: FileState = resume ?? {
      report: {
        fileId: reuseId ?? this.states.size,
        order,
        name: file.name,
        path: file.path,
        container: file.container,
        gzip: file.gzip,
        bytes: file.bytes,
        profile: 'generic',
        rows: 0,
        problems: {},
        status: 'ok',
      },
      votes: { filetao: 0, openvalidators: 0, rl: 0, generic: 0 },
      resumable: false,
      position: { offset: 0, line: 0 },
      size: 0,
      ino: 0,
      mtimeMs: 0,
    };
    if (reuseId === undefined && !resume) {
      // File ids stay unique even after files were dropped and re-read.
      state.report.fileId = Math.max(-1, ...[...this.states.values()].map((s) => s.report.fileId)) + 1;
    }
    this.states.set(file.path, state);
    const report = state.report;
    this.sink.startFile(report.fileId, report.rows);
    const onProblem = (p: Omit<ReadProblem, 'file'>): void => {
      const problem: ReadProblem = { file: file.name, ...p };
      this.problemCount++;
      report.problems[p.kind] = (report.problems[p.kind] ?? 0) + 1;
      if (this.problems.length < (this.options.maxProblemDetails ?? 200)) this.problems.push(problem);
      if (this.options.strict && p.kind !== 'truncated') {
        throw new UserError(`${formatProblem(problem)} (--strict makes bad input fatal)`, {
          hint: 'fix or remove that record, or run without --strict to skip bad records and keep the rest',
        });
      }
    };
    const position = state.position;
    let bytesRead = 0;
    const records = readRecords(file, onProblem, {
      onBytes: (bytes) => {
        bytesRead = bytes;
      },
      position,
      holdPartial: live,
      onLayout: (layout) => {
        state.resumable = layout === 'json-lines' && !file.gzip;
      },
      // The walker's sink calls go straight to the ingest's sink; its votes are counted here.
      fastLine: this.walker
        ? (buffer, start, end, line) => {
            const profile = this.walker!.walk(buffer, start, end, line);
            if (profile === undefined) return false;
            state.votes[profile]++;
            return true;
          }
        : undefined,
    });
    for await (const batch of records) {
      for (const record of batch) {
        state.votes[normalizeRecord(record.value as Record<string, unknown>, record.line, this.sink)]++;
        await this.flushIfFull();
      }
      // Lines the walker read since the last batch (a read chunk's worth).
      await this.flushIfFull();
      report.rows = this.sink.fileRows;
      onBatch?.(this.rows.rowsWritten + this.rows.buffered, bytesRead);
    }
    report.rows = this.sink.fileRows;
    report.bytes = stat?.size ?? file.bytes;
    report.profile = majorityProfile(state.votes);
    report.status = fileStatus(report.problems, report.rows);
    state.size = stat?.size ?? 0;
    state.ino = stat?.ino ?? 0;
    state.mtimeMs = stat?.mtimeMs ?? 0;
  }
}

/** A file's status from its problems and good records. */
export function fileStatus(problems: FileReport['problems'], rows: number): FileStatus {
  return problems.unreadable
    ? 'unreadable'
    : Object.keys(problems).length
      ? 'problems'
      : rows === 0
        ? 'empty'
        : 'ok';
}

/** A file's profile from its records' votes. */
export function majorityProfile(votes: Record<Profile, number>): Profile {
  let best: Profile = 'generic';
  for (const profile of ['filetao', 'openvalidators', 'rl'] as const)
    if (votes[profile] > votes[best]) best = profile;
  if (best === 'generic' && votes.generic === 0) return 'generic';
  // A validator log with a few generic-looking rows is still a validator log.
  for (const profile of ['filetao', 'openvalidators', 'rl'] as const)
    if (votes[profile] > 0 && votes[profile] >= votes.generic / 10 && votes[profile] >= votes[best])
      best = profile;
  return best;
}

class IngestSink implements EventSink {
  private fileId = 0;
  fileRows = 0;
  private uidBase = -1;
  private uidCount = 0;
  /** Order statistics of the x-axis candidates, to tell a training clock from a counter that resets. */
  readonly order = new Map<string, OrderStat>();
  /** The fields copied into per-uid rows, chosen at the first event that has any (KEY_COLUMNS). */
  readonly keys: UidKeys = { decided: false, x: undefined, task: undefined };
  private line = 0;
  private indexedBase = -1;
  private indexedCount = 0;
  /** See Ingestor.emptyTextSkipped. */
  readonly emptyTextSkipped = { rows: new Set<string>(), uidRows: new Set<string>() };

  constructor(
    private readonly xCandidates: readonly string[],
    private readonly requestedX: string | undefined,
    private readonly rows: IngestWriter,
    private readonly uidRows: IngestWriter,
    private readonly indexedRows: IngestWriter,
    private readonly fields: FieldCatalog,
    private readonly storedPerUid: ReadonlySet<string> | undefined,
  ) {
    for (const path of xCandidates) this.order.set(path, new OrderStat());
  }

  startFile(fileId: number, rowsSoFar = 0): void {
    this.fileId = fileId;
    this.fileRows = rowsSoFar;
    for (const order of this.order.values()) order.last = NaN;
  }

  get needsFlush(): boolean {
    return (
      this.rows.buffered >= BATCH_ROWS ||
      this.uidRows.buffered >= BATCH_ROWS ||
      this.indexedRows.buffered >= BATCH_ROWS
    );
  }

  async flush(): Promise<void> {
    await this.rows.flush();
    await this.uidRows.flush();
    await this.indexedRows.flush();
  }

  beginEvent(line: number): void {
    this.rows.beginRow();
    this.rows.set('file_id', this.fileId);
    this.rows.set('rec', this.fileRows);
    this.rows.set('line', line);
    this.line = line;
    this.uidBase = -1;
    this.uidCount = 0;
    this.indexedBase = -1;
    this.indexedCount = 0;
  }

  number(path: string, value: number): void {
    this.fields.scalar(path, typeOfValue(value));
    this.rows.set(path, value);
    const order = this.order.get(path);
    if (order !== undefined) order.see(value);
  }

  text(path: string, value: string): void {
    this.fields.scalar(path, 'string');
    // An empty string does not decide a column's type (FileTAO writes `best_uid` as int or "").
    if (value === '' && !this.rows.has(path)) {
      this.emptyTextSkipped.rows.add(path);
      return;
    }
    this.rows.set(path, value);
  }

  uids(uids: readonly number[], counts?: NumberCounts): void {
    this.fields.list('uids', 'per-uid', uids, counts);
    this.uidCount = uids.length;
    for (let pos = 0; pos < uids.length; pos++) {
      const row = this.uidRows.beginRow();
      if (pos === 0) this.uidBase = row;
      this.uidRows.setAt(row, 'file_id', this.fileId);
      this.uidRows.setAt(row, 'rec', this.fileRows);
      this.uidRows.setAt(row, 'pos', pos);
      this.uidRows.setAt(row, 'uid', uids[pos]);
    }
  }

  uidVector(path: string, values: readonly unknown[], counts?: NumberCounts): void {
    this.fields.list(path, 'per-uid', values, counts);
    if (this.uidBase < 0 || (this.storedPerUid !== undefined && !this.storedPerUid.has(path))) return;
    if (HIDDEN_COLUMNS.has(path)) return; // listed among the fields, not stored over the copies
    const existing = this.uidRows.typeOf(path);
    let type = existing;
    if (type === undefined) {
      // A new column is text if any value is non-empty text; all-empty vectors decide nothing yet.
      let any = false;
      let empty = false;
      for (const v of values) {
        if (typeof v === 'string' && v !== '') type = 'VARCHAR';
        if (v !== null && v !== '') any = true;
        if (v === '') empty = true;
      }
      if (!any) {
        if (empty) this.emptyTextSkipped.uidRows.add(path);
        return;
      }
      type ??= 'DOUBLE';
    }
    const column = this.uidRows.column(path, type);
    const base = this.uidBase;
    for (let pos = 0; pos < this.uidCount; pos++) {
      const v = values[pos];
      this.uidRows.store(
        column,
        base + pos,
        typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null,
      );
    }
  }

  uidIndexed(kind: string, values: readonly unknown[], counts?: NumberCounts): void {
    this.fields.list(kind, 'uid-indexed', values, counts);
    for (let uid = 0; uid < values.length; uid++) {
      const value = numericValue(values[uid]);
      if (value === null) continue;
      const row = this.indexedRows.beginRow();
      if (this.indexedBase < 0) this.indexedBase = row;
      this.indexedCount++;
      this.indexedRows.setAt(row, 'file_id', this.fileId);
      this.indexedRows.setAt(row, 'rec', this.fileRows);
      this.indexedRows.setAt(row, 'kind', kind);
      this.indexedRows.setAt(row, 'uid', uid);
      this.indexedRows.setAt(row, 'value', value);
    }
  }

  other(path: string, type: 'list' | 'null' | 'object'): void {
    if (type === 'null') {
      this.fields.scalar(path, 'null');
      return;
    }
    this.fields.unstored(path, type);
  }

  endEvent(): void {
    if (this.uidCount > 0 || this.indexedCount > 0) this.copyKeys();
    this.fileRows++;
  }

  /**
   * Copies the event's x, line and task, as the `rows` table stores them, into its per-uid and
   * uid-indexed rows. The fields are chosen at the first event with such rows: `--x` or the first
   * x candidate it has, the first task candidate it has.
   */
  private copyKeys(): void {
    if (!this.keys.decided) {
      this.keys.decided = true;
      this.keys.x = this.requestedX ?? this.xCandidates.find((c) => typeof this.rows.valueAt(c) === 'number');
      this.keys.task = TASK_CANDIDATES.find((c) => this.rows.valueAt(c) != null);
    }
    const xValue = this.keys.x === undefined ? undefined : this.rows.valueAt(this.keys.x);
    const x = typeof xValue === 'number' ? xValue : null;
    const taskValue = this.keys.task === undefined ? undefined : this.rows.valueAt(this.keys.task);
    const task = typeof taskValue === 'string' ? taskValue : null;
    if (this.uidCount > 0) {
      const from = this.uidBase;
      const to = from + this.uidCount;
      const rows = this.uidRows;
      rows.fillNumber(rows.column(KEY_COLUMNS.x, 'DOUBLE'), from, to, x);
      rows.fillNumber(rows.column(KEY_COLUMNS.line, 'INTEGER'), from, to, this.line);
      rows.fillText(rows.column(KEY_COLUMNS.task, 'VARCHAR'), from, to, task);
    }
    if (this.indexedCount > 0) {
      const from = this.indexedBase;
      this.indexedRows.fillNumber(
        this.indexedRows.column(KEY_COLUMNS.x, 'DOUBLE'),
        from,
        from + this.indexedCount,
        x,
      );
    }
  }
}
