import { UserError } from '../errors.js';
import type { RunLocation } from '../formats/discover.js';
import type { EventSink } from '../formats/event-sink.js';
import type { LogFile } from '../formats/log-file.js';
import { normalizeRecord } from '../formats/normalize.js';
import { formatProblem, type ReadProblem } from '../formats/problems.js';
import type { Profile } from '../formats/profile.js';
import { readRecords } from '../formats/read-records.js';
import { FieldCatalog, typeOfValue } from './field-stats.js';
import type { Session } from './session.js';
import { BATCH_ROWS, TableWriter } from './table-writer.js';

export type FileStatus = 'ok' | 'empty' | 'problems' | 'unreadable';

export interface FileReport {
  fileId: number;
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

/** x-axis candidates in order of preference (SPEC: block, _step, total_steps, step, _timestamp). */
export const X_CANDIDATES: readonly string[] = ['block', '_step', 'total_steps', 'step', '_timestamp'];

/** Within-file order statistics of one numeric field. */
export class OrderStat {
  present = 0;
  decreases = 0;
  min = Infinity;
  max = -Infinity;
  last = NaN;

  see(value: number): void {
    if (!Number.isFinite(value)) return;
    this.present++;
    if (value < this.last) this.decreases++;
    this.last = value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

export interface IngestOptions {
  /** Fields whose order is tracked to choose the x axis (`--x` adds one). */
  xCandidates?: readonly string[];
  /** Any corrupt record is fatal (a truncated last line still is not). */
  strict?: boolean;
  onProgress?: (progress: IngestProgress) => void;
  /** At most this many problems are kept with their details (all are counted). */
  maxProblemDetails?: number;
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
}

/**
 * Reads every file of a run into three DuckDB tables, streaming, in file order:
 * `rows` (one per event: file_id, rec, line, every scalar by dotted path), `uid_rows` (one per
 * event × position in `uids`: uid and every per-uid vector), `uid_indexed` (kind, uid, value).
 */
export async function ingestRun(
  session: Session,
  run: RunLocation,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const rows = new TableWriter(session, 'rows', [
    { name: 'file_id', type: 'INTEGER' },
    { name: 'rec', type: 'INTEGER' },
    { name: 'line', type: 'INTEGER' },
  ]);
  const uidRows = new TableWriter(session, 'uid_rows', [
    { name: 'file_id', type: 'INTEGER' },
    { name: 'rec', type: 'INTEGER' },
    { name: 'pos', type: 'INTEGER' },
    { name: 'uid', type: 'INTEGER' },
  ]);
  const uidIndexed = new TableWriter(session, 'uid_indexed', [
    { name: 'file_id', type: 'INTEGER' },
    { name: 'rec', type: 'INTEGER' },
    { name: 'kind', type: 'VARCHAR' },
    { name: 'uid', type: 'INTEGER' },
    { name: 'value', type: 'DOUBLE' },
  ]);
  await Promise.all([rows.create(), uidRows.create(), uidIndexed.create()]);
  const fields = new FieldCatalog();
  const sink = new IngestSink(options.xCandidates ?? X_CANDIDATES, rows, uidRows, uidIndexed, fields);
  const problems: ReadProblem[] = [];
  let problemCount = 0;
  const maxDetails = options.maxProblemDetails ?? 200;
  const reports: FileReport[] = [];
  const bytesTotal = run.files.reduce((sum, f) => sum + f.bytes, 0);
  let bytesBefore = 0;

  try {
    await readFiles();
  } catch (error) {
    for (const writer of [rows, uidRows, uidIndexed]) writer.abandon();
    throw error;
  }

  async function readFiles(): Promise<void> {
    for (let fileId = 0; fileId < run.files.length; fileId++) {
      const file = run.files[fileId];
      const report: FileReport = {
        fileId,
        name: file.name,
        path: file.path,
        container: file.container,
        gzip: file.gzip,
        bytes: file.bytes,
        profile: 'generic',
        rows: 0,
        problems: {},
        status: 'ok',
      };
      const votes: Record<Profile, number> = { filetao: 0, openvalidators: 0, rl: 0, generic: 0 };
      sink.startFile(fileId);
      const onProblem = (p: Omit<ReadProblem, 'file'>): void => {
        const problem: ReadProblem = { file: file.name, ...p };
        problemCount++;
        report.problems[p.kind] = (report.problems[p.kind] ?? 0) + 1;
        if (problems.length < maxDetails) problems.push(problem);
        if (options.strict && p.kind !== 'truncated') {
          throw new UserError(`${formatProblem(problem)} (--strict makes bad input fatal)`, {
            hint: 'fix or remove that record, or run without --strict to skip bad records and keep the rest',
          });
        }
      };
      for await (const batch of readRecords(file, onProblem)) {
        for (const record of batch) {
          votes[normalizeRecord(record.value as Record<string, unknown>, record.line, sink)]++;
          if (sink.needsFlush) await sink.flush();
        }
        report.rows = sink.fileRows;
        options.onProgress?.({
          fileIndex: fileId,
          fileCount: run.files.length,
          fileName: file.name,
          bytesDone: bytesBefore,
          bytesTotal,
          rows: rows.rowsWritten + rows.buffered,
        });
      }
      report.rows = sink.fileRows;
      report.profile = majorityProfile(votes);
      report.status = report.problems.unreadable
        ? 'unreadable'
        : Object.keys(report.problems).length
          ? 'problems'
          : report.rows === 0
            ? 'empty'
            : 'ok';
      reports.push(report);
      bytesBefore += file.bytes;
    }
  }
  await Promise.all([rows.close(), uidRows.close(), uidIndexed.close()]);
  const typeConflicts = new Map([...rows.conflicts, ...uidRows.conflicts]);
  return {
    files: reports,
    problems,
    problemCount,
    rows: rows.rowsWritten,
    uidRows: uidRows.rowsWritten,
    uidIndexedRows: uidIndexed.rowsWritten,
    fields,
    typeConflicts,
    order: sink.order,
  };
}

function majorityProfile(votes: Record<Profile, number>): Profile {
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

  constructor(
    xCandidates: readonly string[],
    private readonly rows: TableWriter,
    private readonly uidRows: TableWriter,
    private readonly indexedRows: TableWriter,
    private readonly fields: FieldCatalog,
  ) {
    for (const path of xCandidates) this.order.set(path, new OrderStat());
  }

  startFile(fileId: number): void {
    this.fileId = fileId;
    this.fileRows = 0;
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
    this.uidBase = -1;
    this.uidCount = 0;
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
    if (value === '' && !this.rows.has(path)) return;
    this.rows.set(path, value);
  }

  uids(uids: readonly number[]): void {
    this.fields.list('uids', 'per-uid', uids);
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

  uidVector(path: string, values: readonly unknown[]): void {
    this.fields.list(path, 'per-uid', values);
    if (this.uidBase < 0) return;
    const existing = this.uidRows.typeOf(path);
    let type = existing;
    if (type === undefined) {
      // A new column is text if any value is non-empty text; all-empty vectors decide nothing yet.
      let any = false;
      for (const v of values) {
        if (typeof v === 'string' && v !== '') type = 'VARCHAR';
        if (v !== null && v !== '') any = true;
      }
      if (!any) return;
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

  uidIndexed(kind: string, values: readonly unknown[]): void {
    this.fields.list(kind, 'uid-indexed', values);
    for (let uid = 0; uid < values.length; uid++) {
      const v = values[uid];
      const value = typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null;
      if (value === null) continue;
      const row = this.indexedRows.beginRow();
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
    this.fileRows++;
  }
}
