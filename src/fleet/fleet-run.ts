import { clickhouse, type Dialect } from '../engine/dialect.js';
import type { ViewColumns } from '../engine/index-views.js';
import type { QueryableRun, XRange } from '../engine/queryable.js';
import type { QuerySession, Row } from '../engine/session.js';
import type { XAxis } from '../engine/x-axis.js';
import { UserError } from '../errors.js';
import type { Profile } from '../formats/profile.js';
import type { Fleet, FleetNode } from './clickhouse.js';
import type { PushedColumns } from './push.js';
import { queryTable } from './tables.js';

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

/** A run's row of the fleet's `runs` table (its latest push). */
export interface PushedRun {
  run: string;
  profile: Profile;
  x_column: string;
  x_label: string;
  task_column: string;
  files: number;
  rows: number;
  uid_rows: number;
  indexed_rows: number;
  bytes: number;
  x_min: number | null;
  x_max: number | null;
  x_integer: number;
  columns: string;
  pushed: string;
}

/** Every run's latest row of `runs`, by name. */
export async function pushedRuns(fleet: Fleet): Promise<PushedRun[]> {
  const names = [
    'profile',
    'x_column',
    'x_label',
    'task_column',
    'files',
    'rows',
    'uid_rows',
    'indexed_rows',
    'bytes',
    'x_min',
    'x_max',
    'x_integer',
    'columns',
    'pushed',
  ];
  const rows = await fleet.query.all<PushedRun>(
    `SELECT run, ${names.map((n) => `argMax(${n}, version) AS ${n}`).join(', ')}
     FROM ${queryTable(fleet, 'runs')} GROUP BY run ORDER BY run`,
  );
  return rows.map((r) => ({
    ...r,
    files: Number(r.files),
    rows: Number(r.rows),
    uid_rows: Number(r.uid_rows),
    indexed_rows: Number(r.indexed_rows),
    bytes: Number(r.bytes),
    x_integer: Number(r.x_integer),
  }));
}

/**
 * A run pushed to a fleet, queried there with the same aggregate definitions as a local run
 * (QueryableRun), in ClickHouse's dialect: one run, or several (`names`) read together.
 */
export class FleetRun implements QueryableRun {
  readonly session: QuerySession;
  readonly dialect: Dialect;
  readonly profile: Profile;
  readonly x: XAxis;
  readonly taskColumn: string | undefined;
  readonly columns: ViewColumns;
  readonly ingest: { rows: number; uidRows: number };

  private constructor(
    fleet: Fleet,
    readonly runs: readonly PushedRun[],
  ) {
    const first = runs[0];
    this.session = new FleetSession(fleet.query);
    this.dialect = clickhouse(
      fleet.target.database,
      runs.map((r) => r.run),
    );
    this.profile = first.profile;
    this.x = {
      column: first.x_column || undefined,
      label: first.x_label,
      reason: 'as pushed',
    };
    this.taskColumn = first.task_column || undefined;
    const scalars = new Map<string, 'DOUBLE' | 'VARCHAR'>();
    const perUid = new Map<string, 'DOUBLE' | 'VARCHAR'>();
    const kinds = new Set<string>();
    for (const r of runs) {
      const c = JSON.parse(r.columns) as PushedColumns;
      for (const [n, t] of Object.entries(c.scalars)) if (!scalars.has(n)) scalars.set(n, t);
      for (const [n, t] of Object.entries(c.perUid)) if (!perUid.has(n)) perUid.set(n, t);
      for (const k of c.indexedKinds) kinds.add(k);
    }
    this.columns = { scalars, lists: new Map(), perUid, indexedKinds: [...kinds], copies: new Set() };
    this.ingest = {
      rows: runs.reduce((s, r) => s + r.rows, 0),
      uidRows: runs.reduce((s, r) => s + r.uid_rows, 0),
    };
  }

  /** The named runs of the fleet (all of them for `all`); a clear error for a name it does not have. */
  static async open(fleet: Fleet, names: readonly string[] | 'all'): Promise<FleetRun> {
    const pushed = await pushedRuns(fleet);
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

  get names(): string[] {
    return this.runs.map((r) => r.run);
  }

  storedColumns(table: 'rows' | 'uid_rows'): Set<string> {
    if (table === 'rows') return new Set([...this.columns.scalars.keys()]);
    return this.ingest.uidRows > 0 ? new Set(['uid', ...this.columns.perUid.keys()]) : new Set();
  }

  xRange(): Promise<XRange> {
    const mins = this.runs.map((r) => r.x_min).filter((v): v is number => v !== null);
    const maxs = this.runs.map((r) => r.x_max).filter((v): v is number => v !== null);
    return Promise.resolve({
      min: mins.length ? Math.min(...mins) : null,
      max: maxs.length ? Math.max(...maxs) : null,
      integer: this.runs.every((r) => r.x_integer === 1),
    });
  }
}
