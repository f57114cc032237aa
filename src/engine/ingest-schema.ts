/**
 * The ingest's fixed names and its order statistic, in a module of their own with no dependencies:
 * the scanners' worker threads use them without loading DuckDB (+20 MB per worker).
 */

import type { ColumnSpec } from './column-buffer.js'; // a type only: nothing is loaded

/** x-axis candidates in order of preference (SPEC: block, _step, total_steps, step, _timestamp). */
export const X_CANDIDATES: readonly string[] = ['block', '_step', 'total_steps', 'step', '_timestamp'];

/** Fields that can be the run's task (the first one the run has as a scalar). */
export const TASK_CANDIDATES: readonly string[] = ['task_name', 'name'];

/**
 * The integer columns `rows` and `uid_rows` begin with. A field of the same name is stored into
 * them (the scan models that when it counts type conflicts).
 */
export const FIXED_COLUMNS = {
  rows: ['file_id', 'rec', 'line'],
  uidRows: ['file_id', 'rec', 'pos', 'uid'],
} as const;

/**
 * Columns of `uid_rows` (x, line, task) and `uid_indexed` (x) that hold a copy of their event's
 * values, written at ingest, so the per-uid views need no join with one row per event, whose hash
 * table grows with the run (a 2 GB FileTAO per-uid query: +341 MB with the join, +196 MB without).
 * x and task are copied from the fields predicted at the first event with per-uid values
 * (`UidKeys`); Run uses the copies only when the run's x axis and task turn out to be those.
 * Not fields of the log: Run.storedColumns leaves them out.
 */
export const KEY_COLUMNS = { x: '__runlens_x', line: '__runlens_line', task: '__runlens_task' } as const;
export const HIDDEN_COLUMNS: ReadonlySet<string> = new Set(Object.values(KEY_COLUMNS));

/** Which fields were copied into the per-uid rows as x and task (undefined: none was present). */
export interface UidKeys {
  decided: boolean;
  x: string | undefined;
  task: string | undefined;
}

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

/** The columns each of the ingest's tables starts with (fields add theirs as they appear). */
export const INGEST_TABLES: Record<
  'rows' | 'uidRows' | 'uidIndexed',
  { table: string; columns: readonly ColumnSpec[] }
> = {
  rows: { table: 'rows', columns: FIXED_COLUMNS.rows.map((name) => ({ name, type: 'INTEGER' as const })) },
  uidRows: {
    table: 'uid_rows',
    columns: [
      ...FIXED_COLUMNS.uidRows.map((name) => ({ name, type: 'INTEGER' as const })),
      { name: KEY_COLUMNS.x, type: 'DOUBLE' },
      { name: KEY_COLUMNS.line, type: 'INTEGER' },
      { name: KEY_COLUMNS.task, type: 'VARCHAR' },
    ],
  },
  uidIndexed: {
    table: 'uid_indexed',
    columns: [
      { name: 'file_id', type: 'INTEGER' },
      { name: 'rec', type: 'INTEGER' },
      { name: 'kind', type: 'VARCHAR' },
      { name: 'uid', type: 'INTEGER' },
      { name: 'value', type: 'DOUBLE' },
      { name: KEY_COLUMNS.x, type: 'DOUBLE' },
    ],
  },
};
