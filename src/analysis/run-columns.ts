import { duckdb, scoped, type Dialect, type ViewName } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, join, qualified, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';

/** Bookkeeping columns of the stored tables, not fields of the log. */
const INTERNAL: Record<'rows' | 'uid_rows', ReadonlySet<string>> = {
  rows: new Set(['file_id', 'rec', 'line']),
  uid_rows: new Set(['file_id', 'rec', 'pos']),
};

/** The log's one-value-per-event fields, by dotted path, in stored order. */
export function scalarColumns(run: QueryableRun): string[] {
  return [...run.storedColumns('rows')].filter((c) => !INTERNAL.rows.has(c));
}

/** `uid` and the per-uid vectors (rewards, completions, …), in stored order. */
export function uidColumns(run: QueryableRun): string[] {
  return [...run.storedColumns('uid_rows')].filter((c) => !INTERNAL.uid_rows.has(c));
}

/** DuckDB type of every field of `rows` (one per event) or `uid_rows` (uid and the per-uid vectors). */
export function columnTypes(run: QueryableRun, table: 'rows' | 'uid_rows'): Map<string, string> {
  if (table === 'rows') return new Map(run.columns.scalars);
  return new Map<string, string>([['uid', 'INTEGER'], ...run.columns.perUid]);
}

/** Numeric per-uid columns (what `--metric` can name). */
export async function numericUidColumns(run: QueryableRun): Promise<string[]> {
  const types = columnTypes(run, 'uid_rows');
  return uidColumns(run).filter((c) => c !== 'uid' && types.get(c) === 'DOUBLE');
}

/** Does the run have any per-uid rows (events with a `uids` list)? */
export function hasUidRows(run: QueryableRun): boolean {
  return run.ingest.uidRows > 0;
}

/** Throws a UserError naming what the analysis needs and what the run has. */
export function requireUidColumn(run: QueryableRun, column: string, purpose: string): void {
  if (hasUidRows(run) && run.storedColumns('uid_rows').has(column)) return;
  if (!hasUidRows(run))
    throw new UserError(
      `${purpose} needs per-uid rows (events with a uids list); this ${run.profile} run has none`,
      {
        hint: 'run `runlens inspect` to see its fields',
      },
    );
  const have = uidColumns(run).filter((c) => c !== 'uid');
  throw new UserError(
    `${purpose} needs the per-uid field "${column}", which this ${run.profile} run does not have`,
    {
      hint: have.length
        ? `per-uid fields in this run: ${have.join(', ')}`
        : 'this run has no per-uid fields (no `uids` lists)',
    },
  );
}

/** A metric for `--metric`: a numeric per-uid column, or a clear error listing the choices. */
export async function requireMetric(run: QueryableRun, metric: string): Promise<Sql> {
  const numeric = await numericUidColumns(run);
  if (numeric.includes(metric)) return ident(metric);
  throw new UserError(`unknown metric "${metric}": not a numeric per-uid field of this run`, {
    hint: numeric.length
      ? `numeric per-uid fields: ${numeric.join(', ')}`
      : 'this run has no numeric per-uid fields',
  });
}

/** `--task` names must exist in the run (a typo would otherwise give an empty, silent result). */
export async function checkTasks(run: QueryableRun, tasks: readonly string[] | undefined): Promise<void> {
  if (!tasks?.length) return;
  if (run.taskColumn === undefined)
    throw new UserError('--task was given, but this run has no task field (task_name or name)', {
      hint: 'leave out --task, or run `runlens inspect` to see the fields',
    });
  const known = (await run.answers.all<{ task: string }>(tasksSql(run.dialect).text)).map((r) => r.task);
  const unknown = tasks.filter((t) => !known.includes(t));
  if (unknown.length)
    throw new UserError(
      `unknown task${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => `"${t}"`).join(', ')}`,
      {
        hint: `tasks (${run.taskColumn}) in this run: ${known.join(', ') || 'none'}`,
      },
    );
}

/** The run's tasks, in order. */
export function tasksSql(dialect: Dialect = duckdb): Sql {
  const task = ident('task');
  return sql`SELECT DISTINCT ${task} FROM ${scoped(dialect, 'events', [sql`${task} IS NOT NULL`])} ORDER BY ${task}`;
}

/** `uid_events` with its event's `_timestamp` added (for intervals of time). */
export function uidEventsWithTimeSql(d: Dialect = duckdb): Sql {
  if (d.name === 'clickhouse') return withEventColumns(d, 'uid_events', [sql`*`], [ident('_timestamp')]);
  return sql`(SELECT ${ident('u')}.*, ${qualified('r', '_timestamp')} FROM ${ident('uid_events')} ${ident('u')} JOIN ${ident('rows')} ${ident('r')} USING (${ident('file_id')}, ${ident('rec')}))`;
}

/**
 * `uid_events`, with `_timestamp` when the run has it: a relation whose queries add the dialect's
 * scope to their conditions.
 */
export function uidEventsWithTime(run: QueryableRun): Sql {
  return run.storedColumns('rows').has('_timestamp')
    ? uidEventsWithTimeSql(run.dialect)
    : run.dialect.table('uid_events');
}

/**
 * ClickHouse: `columns` of a view's rows (read under the scope; `*`, or a list with run, file_id
 * and rec) beside `eventColumns` of their event, joined on run, file and record. The join's right
 * side, the events' columns, is held in memory.
 */
export function withEventColumns(
  d: Dialect,
  view: ViewName,
  columns: readonly Sql[],
  eventColumns: readonly Sql[],
): Sql {
  const keys = ['run', 'file_id', 'rec'].map((k) => ident(k));
  const left = sql`SELECT ${join(columns)} FROM ${scoped(d, view, [])}`;
  const right = sql`SELECT ${join([...keys, ...eventColumns])} FROM ${scoped(d, 'events', [])}`;
  return sql`(SELECT * FROM (${left}) ${d.innerJoin()} (${right}) USING (${join(keys)}))`;
}
