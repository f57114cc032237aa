import { duckdb, fromWhere, type Dialect } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, join, sql, type Sql } from '../engine/sql.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { uidBarChart } from './analysis-charts.js';
import { eventFilters, nonEmptyCompletion } from './filters.js';
import { requireUidColumn } from './run-columns.js';

/**
 * Non-empty completions (`n`: in ClickHouse an alias `completions` would replace the column in the
 * other expressions), distinct texts and their ratio per uid.
 */
export function completionDiversitySql(filters: readonly Sql[], d: Dialect = duckdb): Sql {
  const c = ident('completions');
  const uid = ident('uid');
  return join(
    [
      sql`SELECT ${uid}, CAST(count(*) AS DOUBLE) AS n, CAST(count(DISTINCT ${c}) AS DOUBLE) AS ${ident('unique')},`,
      sql`count(DISTINCT ${c}) / count(*) AS diversity`,
      sql`${fromWhere(d, 'uid_events', [...filters, nonEmptyCompletion()])} GROUP BY ${uid} ORDER BY ${uid}`,
    ],
    ' ',
  );
}

/** Unique ÷ total non-empty completions per uid (1 = never repeats itself, near 0 = canned answers). */
export async function completionDiversity(
  run: QueryableRun,
  options: AnalysisOptions,
): Promise<AnalysisResult> {
  requireUidColumn(run, 'completions', 'the diversity analysis');
  const counted = await run.answers.all<{ uid: number; n: number; unique: number; diversity: number }>(
    completionDiversitySql(eventFilters(options), run.dialect).text,
  );
  const rows = counted.map(({ uid, n, unique, diversity }) => ({ uid, completions: n, unique, diversity }));
  const limited = options.top
    ? [...rows]
        .sort((a, b) => b.completions - a.completions || a.uid - b.uid)
        .slice(0, options.top)
        .sort((a, b) => a.uid - b.uid)
    : rows;
  const result: AnalysisResult = {
    kind: 'diversity',
    title: 'Completion diversity per uid',
    columns: [
      { name: 'uid', type: 'number' },
      { name: 'completions', type: 'number' },
      { name: 'unique', type: 'number' },
      { name: 'diversity', type: 'number' },
    ],
    rows: limited,
    notes: [
      'diversity = distinct completion texts ÷ completions, per uid; empty completions (failed calls) are left out',
      ...(options.top
        ? [`showing the ${limited.length} uids with most completions (--top), ordered by uid`]
        : []),
    ],
    total: rows.length,
  };
  result.chart = uidBarChart(result, {
    value: 'diversity',
    title: 'Completion diversity per uid',
    yTitle: 'unique ÷ total completions',
    percent: false,
    caption: 'exact texts compared; empty completions left out',
  });
  return result;
}
