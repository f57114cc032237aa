import { duckdb, fromWhere, type Dialect } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, join, lit, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { uidBarChart } from './analysis-charts.js';
import { eventFilters } from './filters.js';

/**
 * How a call's success is decided, per row, first that applies: the `successful` flag (FileTAO),
 * else a non-empty completion (OpenValidators; "" is a failed call), else a finite non-zero reward.
 */
export const SUCCESS_DEFINITIONS = [
  { column: 'successful', label: 'successful flag', test: (c: Sql, _d: Dialect) => sql`${c} <> 0` },
  {
    column: 'completions',
    label: 'non-empty completion',
    test: (c: Sql, _d: Dialect) => sql`${c} <> ${lit('')}`,
  },
  {
    column: 'rewards',
    label: 'finite non-zero reward',
    test: (c: Sql, d: Dialect) => sql`coalesce(${d.isFinite(c)} AND ${c} <> 0, ${d.bool(false)})`,
  },
] as const;

type Definition = (typeof SUCCESS_DEFINITIONS)[number];

/**
 * Per uid row: which definition applies (`def`, its index in `present`) and whether the call
 * succeeded (`ok`); rows none applies to are left out.
 */
export function successRowsSql(
  present: readonly Definition[],
  filters: readonly Sql[],
  dialect: Dialect = duckdb,
  /** More columns to keep beside uid (a fleet's `run`). */
  keep: readonly Sql[] = [],
): Sql {
  const which = sql`CASE ${join(
    present.map((d, i) => sql`WHEN ${ident(d.column)} IS NOT NULL THEN ${lit(i)}`),
    ' ',
  )} END`;
  const ok = sql`CASE ${join(
    present.map((d) => sql`WHEN ${ident(d.column)} IS NOT NULL THEN ${d.test(ident(d.column), dialect)}`),
    ' ',
  )} END`;
  return sql`SELECT ${join([ident('uid'), ...keep])}, ${which} AS def, ${ok} AS ok ${fromWhere(dialect, 'uid_events', [...filters, sql`${which} IS NOT NULL`])}`;
}

/** Calls, successes and their ratio per uid. */
export function successRateSql(
  present: readonly Definition[],
  filters: readonly Sql[],
  dialect: Dialect = duckdb,
): Sql {
  const uid = ident('uid');
  const successes = dialect.countIf(sql`ok`);
  return join(
    [
      sql`SELECT ${uid}, CAST(count(*) AS DOUBLE) AS calls, CAST(${successes} AS DOUBLE) AS successes,`,
      sql`${successes} / count(*) AS rate FROM (${successRowsSql(present, filters, dialect)}) GROUP BY ${uid} ORDER BY ${uid}`,
    ],
    ' ',
  );
}

/** Calls decided by each definition. */
export function successDefinitionsSql(
  present: readonly Definition[],
  filters: readonly Sql[],
  dialect: Dialect = duckdb,
): Sql {
  return sql`SELECT def, CAST(count(*) AS DOUBLE) AS n FROM (${successRowsSql(present, filters, dialect)}) GROUP BY def ORDER BY def`;
}

/** Call success rate per uid, saying which definition decided how many calls. */
export async function successRate(run: QueryableRun, options: AnalysisOptions): Promise<AnalysisResult> {
  const present = SUCCESS_DEFINITIONS.filter((d) => run.storedColumns('uid_rows').has(d.column));
  if (!present.length)
    throw new UserError(
      'success rates need a per-uid successful flag, completions or rewards; this run has none',
      {
        hint: 'run `runlens inspect` to see its per-uid fields',
      },
    );
  const filters = eventFilters(options);
  const rows = await run.answers.all<{ uid: number; calls: number; successes: number; rate: number }>(
    successRateSql(present, filters, run.dialect).text,
  );
  const used = await run.answers.all<{ def: number; n: number }>(
    successDefinitionsSql(present, filters, run.dialect).text,
  );
  const definition = used
    .map((u) => `${present[u.def].label} (${u.n.toLocaleString('en-US')} calls)`)
    .join(', ');
  const limited = options.top
    ? [...rows].sort((a, b) => b.calls - a.calls || a.uid - b.uid).slice(0, options.top)
    : rows;
  if (options.top) limited.sort((a, b) => a.uid - b.uid);
  const result: AnalysisResult = {
    kind: 'success',
    title: 'Call success rate per uid',
    columns: [
      { name: 'uid', type: 'number' },
      { name: 'calls', type: 'number' },
      { name: 'successes', type: 'number' },
      { name: 'rate', type: 'number' },
    ],
    rows: limited,
    notes: [
      `success decided by: ${definition || 'no calls'}`,
      'order of precedence per call: successful flag, else non-empty completion, else finite non-zero reward',
      ...(options.top ? [`showing the ${limited.length} uids with most calls (--top), ordered by uid`] : []),
    ],
    total: rows.length,
  };
  result.chart = uidBarChart(result, {
    value: 'rate',
    title: 'Success rate per uid',
    yTitle: 'success rate',
    percent: true,
    caption: `success = ${definition}`,
  });
  return result;
}
