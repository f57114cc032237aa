import type { Fleet } from './clickhouse.js';
import type { PushedColumns } from './push.js';
import { queryTable } from './tables.js';

/** A run in the fleet as its latest push described it (`runlens runs`). */
export interface ListedRun {
  run: string;
  profile: string;
  /** The x axis' field ('' for the row ordinal) and its label. */
  xColumn: string;
  xLabel: string;
  files: number;
  rows: number;
  uidRows: number;
  indexedRows: number;
  /** Bytes of the run's files when pushed. */
  bytes: number;
  xMin: number | null;
  xMax: number | null;
  /** Every finite x is a whole number. */
  xInteger: boolean;
  /** The task field ('' when none). */
  taskColumn: string;
  /** Bad lines and truncated last lines found when the run was read (as Run.summary counts them). */
  problems: number;
  truncated: number;
  /** The run's fields as pushed (what a query of it may name). */
  columns: PushedColumns;
  /** When the run was last pushed. */
  pushed: Date;
}

/** Each column's latest value as last_<column>: in 18.16 an alias equal to a column's name stands for it in every expression. */
type RunRow = { run: string } & Record<`last_${string}`, unknown>;

const LATEST = [
  'profile',
  'x_column',
  'x_label',
  'files',
  'rows',
  'uid_rows',
  'indexed_rows',
  'bytes',
  'x_min',
  'x_max',
  'x_integer',
  'task_column',
  'columns',
  'problems',
  'truncated',
] as const;

/**
 * The `runs` table's latest row per run. FINAL does not work through a Distributed table, so the
 * latest version is picked with argMax. argMax skips rows whose value is NULL, which would bring
 * back an older push's x range: the range goes through ifNull(…, nan), which JSON prints as null.
 */
export function listRunsQuery(fleet: Fleet): string {
  const latest = LATEST.map((column) => {
    const value = column === 'x_min' || column === 'x_max' ? `ifNull(${column}, nan)` : column;
    return `argMax(${value}, version) AS last_${column}`;
  });
  return `SELECT run, ${latest.join(', ')}, toUInt32(max(pushed)) AS last_pushed
FROM ${queryTable(fleet, 'runs')}
GROUP BY run
ORDER BY run`;
}

/** Every run pushed to the fleet, by name. */
export async function listRuns(fleet: Fleet): Promise<ListedRun[]> {
  const rows = await fleet.query.all<RunRow>(listRunsQuery(fleet));
  return rows.map((r) => ({
    run: r.run,
    profile: String(r.last_profile),
    xColumn: String(r.last_x_column),
    xLabel: String(r.last_x_label),
    files: Number(r.last_files),
    rows: Number(r.last_rows),
    uidRows: Number(r.last_uid_rows),
    indexedRows: Number(r.last_indexed_rows),
    bytes: Number(r.last_bytes),
    xMin: finiteOrNull(r.last_x_min),
    xMax: finiteOrNull(r.last_x_max),
    xInteger: Number(r.last_x_integer) === 1,
    taskColumn: String(r.last_task_column),
    columns: pushedColumns(r.last_columns),
    problems: Number(r.last_problems ?? 0),
    truncated: Number(r.last_truncated ?? 0),
    pushed: new Date(Number(r.last_pushed) * 1000),
  }));
}

/** The columns a push recorded (none from a push older than the `columns` column: '' there). */
function pushedColumns(value: unknown): PushedColumns {
  const text = typeof value === 'string' ? value : '';
  return text ? (JSON.parse(text) as PushedColumns) : { scalars: {}, perUid: {}, indexedKinds: [] };
}

function finiteOrNull(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}
