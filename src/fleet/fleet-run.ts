import { clickhouse, fromWhere, type Dialect } from '../engine/dialect.js';
import { ident, sql } from '../engine/sql.js';
import type { ViewColumns } from '../engine/index-views.js';
import type { QueryableRun, XRange } from '../engine/queryable.js';
import type { QuerySession, Row } from '../engine/session.js';
import type { XAxis } from '../engine/x-axis.js';
import { UserError } from '../errors.js';
import type { Profile } from '../formats/profile.js';
import type { Fleet, FleetNode } from './clickhouse.js';
import { listRuns, type ListedRun } from './runs.js';
import { checkTables, queryTable } from './tables.js';
import type { FileReport, RunSummary } from '../engine/run.js';

/** Queries of a fleet node, answered as the run index's session answers them. */
export class FleetSession implements QuerySession {
  constructor(private readonly node: FleetNode) {}

  all<T extends Row = Row>(query: string): Promise<T[]> {
    return this.node.all<T>(query);
  }

  async one<T extends Row = Row>(query: string): Promise<T | undefined> {
    return (await this.node.all<T>(query))[0];
  }

  async columns(query: string): Promise<Record<string, unknown[]>> {
    const rows = await this.node.all<Row>(query);
    const columns: Record<string, unknown[]> = {};
    for (const row of rows)
      for (const [name, value] of Object.entries(row)) (columns[name] ??= []).push(value);
    return columns;
  }
}

/**
 * A run pushed to a fleet, queried there with the same aggregate definitions as a local run
 * (QueryableRun), in ClickHouse's dialect: one run, or several (`names`) read together.
 */
export class FleetRun implements QueryableRun {
  readonly session: QuerySession;
  /** A fleet's answers are not kept: the cluster answers every query. */
  get answers(): QuerySession {
    return this.session;
  }
  readonly dialect: Dialect;
  readonly profile: Profile;
  readonly x: XAxis;
  readonly taskColumn: string | undefined;
  readonly columns: ViewColumns;
  readonly ingest: { rows: number; uidRows: number };

  private readonly filesTable: string;

  private constructor(
    fleet: Fleet,
    readonly runs: readonly ListedRun[],
  ) {
    const first = runs[0];
    this.filesTable = queryTable(fleet, 'files');
    this.session = new FleetSession(fleet.query);
    this.dialect = clickhouse(
      fleet.target.database,
      runs.map((r) => r.run),
    );
    this.profile = first.profile as Profile;
    this.x = {
      column: first.xColumn || undefined,
      label: first.xLabel,
      reason: 'as pushed',
    };
    this.taskColumn = first.taskColumn || undefined;
    const scalars = new Map<string, 'DOUBLE' | 'VARCHAR'>();
    const perUid = new Map<string, 'DOUBLE' | 'VARCHAR'>();
    const kinds = new Set<string>();
    for (const r of runs) {
      const c = r.columns;
      for (const [n, t] of Object.entries(c.scalars)) if (!scalars.has(n)) scalars.set(n, t);
      for (const [n, t] of Object.entries(c.perUid)) if (!perUid.has(n)) perUid.set(n, t);
      for (const k of c.indexedKinds) kinds.add(k);
    }
    this.columns = { scalars, lists: new Map(), perUid, indexedKinds: [...kinds], copies: new Set() };
    this.ingest = {
      rows: runs.reduce((s, r) => s + r.rows, 0),
      uidRows: runs.reduce((s, r) => s + r.uidRows, 0),
    };
  }

  /** The named runs of the fleet (all of them for `all`); a clear error for a name it does not have. */
  static async open(fleet: Fleet, names: readonly string[] | 'all'): Promise<FleetRun> {
    await checkTables(fleet);
    const pushed = await listRuns(fleet);
    const byName = new Map(pushed.map((r) => [r.run, r]));
    const wanted = names === 'all' ? pushed.map((r) => r.run) : names;
    const missing = wanted.filter((n) => !byName.has(n));
    if (missing.length || !wanted.length)
      throw new UserError(
        missing.length
          ? `no run ${missing.map((n) => JSON.stringify(n)).join(', ')} in the fleet at ${fleet.query.address} (database ${fleet.target.database})`
          : `the fleet at ${fleet.query.address} has no runs yet`,
        {
          hint: pushed.length
            ? `runs: ${pushed.map((r) => r.run).join(', ')}`
            : 'push one first: runlens push PATH --clickhouse URL',
        },
      );
    return new FleetRun(
      fleet,
      wanted.map((n) => byName.get(n)!),
    );
  }

  get fileCount(): number {
    return this.runs.reduce((sum, r) => sum + r.files, 0);
  }

  async filesWithRows(): Promise<number> {
    const row = await this.session.one<{ n: number }>(
      sql`SELECT CAST(uniqExact(${ident('run')}, ${ident('file_id')}) AS DOUBLE) AS n ${fromWhere(this.dialect, 'events', [])}`
        .text,
    );
    return Number(row?.n ?? 0);
  }

  /** The run's counts as Run.summary gives them (its problems as counted when it was pushed). */
  async summary(): Promise<RunSummary> {
    const d = this.dialect;
    const x = ident('x');
    const uid = ident('uid');
    const missing = await this.session.one<{ n: number }>(
      sql`SELECT CAST(${d.countIf(sql`${x} IS NULL OR NOT ${d.isFinite(x)}`)} AS DOUBLE) AS n ${fromWhere(d, 'events', [])}`
        .text,
    );
    const uids = await this.session.one<{ n: number }>(
      sql`SELECT toFloat64(ifNull(uniqExact(${uid}), 0)) AS n FROM (
        SELECT ${uid} ${fromWhere(d, 'uid_events', [])} UNION ALL SELECT toNullable(${uid}) AS ${uid} ${fromWhere(d, 'uid_indexed', [])})`
        .text,
    );
    const range = await this.xRange();
    return {
      profile: this.profile,
      files: this.fileCount,
      rows: this.ingest.rows,
      uidRows: this.ingest.uidRows,
      uidIndexedRows: this.runs.reduce((sum, r) => sum + r.indexedRows, 0),
      bytes: this.runs.reduce((sum, r) => sum + r.bytes, 0),
      x: { ...this.x, min: range.min, max: range.max, rowsWithoutX: Number(missing?.n ?? 0) },
      uids: Number(uids?.n ?? 0),
      problems: this.runs.reduce((sum, r) => sum + r.problems, 0),
      truncated: this.runs.reduce((sum, r) => sum + r.truncated, 0),
    };
  }

  /** The files pushed (the ledger's latest row of each), in run order. */
  async fileReports(): Promise<FileReport[]> {
    const latest = ['path', 'name', 'head_hash', 'rows', 'first_ord', 'bytes'].map(
      (c) => `argMax(${c}, version) AS last_${c}`,
    );
    const rows = await this.session.all<Record<string, string | number>>(
      `SELECT file_id, ${latest.join(', ')} FROM ${this.filesTable} WHERE ${this.dialect.scope()[0].text}
       GROUP BY file_id ORDER BY last_first_ord, file_id`,
    );
    return rows
      .filter((r) => String(r.last_path) !== '')
      .map((r, order) => {
        const file = String(r.last_path);
        const gzip = file.endsWith('.gz');
        const bare = gzip ? file.slice(0, -3) : file;
        const rowCount = Number(r.last_rows);
        return {
          fileId: Number(r.file_id),
          order,
          name: String(r.last_name),
          path: file,
          container:
            bare.endsWith('.jsonl') || bare.endsWith('.ndjson')
              ? 'jsonl'
              : bare.endsWith('.csv')
                ? 'csv'
                : 'json',
          gzip,
          bytes: Number(r.last_bytes),
          profile: this.profile,
          rows: rowCount,
          headHash: String(r.last_head_hash),
          problems: {},
          status: rowCount > 0 ? 'ok' : 'empty',
        } satisfies FileReport;
      });
  }

  get names(): string[] {
    return this.runs.map((r) => r.run);
  }

  storedColumns(table: 'rows' | 'uid_rows'): Set<string> {
    if (table === 'rows') return new Set([...this.columns.scalars.keys()]);
    return this.ingest.uidRows > 0 ? new Set(['uid', ...this.columns.perUid.keys()]) : new Set();
  }

  xRange(): Promise<XRange> {
    const mins = this.runs.map((r) => r.xMin).filter((v): v is number => v !== null);
    const maxs = this.runs.map((r) => r.xMax).filter((v): v is number => v !== null);
    return Promise.resolve({
      min: mins.length ? Math.min(...mins) : null,
      max: maxs.length ? Math.max(...maxs) : null,
      integer: this.runs.every((r) => r.xInteger),
    });
  }
}
