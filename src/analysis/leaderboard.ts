import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import { duckdb, fromWhere, scoped, type Dialect } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, join, lit, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { leaderboardChart } from './analysis-charts.js';
import { eventFilters, nonEmptyCompletion } from './filters.js';
import { requireMetric, requireUidColumn } from './run-columns.js';

export interface LeaderboardSql {
  by: 'uid' | 'completion';
  /** The metric column (requireMetric) and its exact mean's scale. */
  metric: Sql;
  scale: number;
  filters: readonly Sql[];
  sort: 'mean' | 'max' | 'calls';
  /** Rows kept (0: all). */
  top: number;
  dialect?: Dialect;
}

/**
 * Per key (uid or completion text): calls, distinct uids (by completion), finite values of the
 * metric, their exact mean and max, and the number of keys (`total`); best first, ties by key.
 */
export function leaderboardSql(options: LeaderboardSql): Sql {
  const d = options.dialect ?? duckdb;
  const key = ident(options.by === 'uid' ? 'uid' : 'completions');
  const m = options.metric;
  const finite = d.isFinite(m);
  const uids =
    options.by === 'completion' ? sql`, CAST(count(DISTINCT ${ident('uid')}) AS DOUBLE) AS uids` : sql``;
  const grouped = join(
    [
      sql`SELECT ${key} AS ${ident('key')}, CAST(count(*) AS DOUBLE) AS calls${uids},`,
      sql`CAST(${d.countIf(sql`${m} IS NOT NULL AND ${finite}`)} AS DOUBLE) AS n, ${exactMeanSql(m, options.scale, d)} AS mean, ${d.aggregateIf('max', m, finite)} AS max`,
      sql`${fromWhere(d, 'uid_events', options.filters)} GROUP BY ${key}`,
    ],
    ' ',
  );
  // The number of keys beside each row: a window where the engine has them, else a second count.
  const total = d.windows
    ? sql`CAST(count(*) OVER () AS DOUBLE)`
    : sql`(SELECT CAST(count(*) AS DOUBLE) FROM (${grouped}))`;
  return join(
    [
      sql`SELECT *, ${total} AS total FROM (${grouped})`,
      sql`ORDER BY ${ident(options.sort)} DESC NULLS LAST, ${ident('key')}${options.top > 0 ? sql` LIMIT ${lit(options.top)}` : sql``}`,
    ],
    ' ',
  );
}

/**
 * The top uids (or completion texts) by a per-uid metric: calls, finite values, mean and max of
 * the metric, sorted by `--sort` (mean by default), ties by uid / text.
 */
export async function leaderboard(run: QueryableRun, options: AnalysisOptions): Promise<AnalysisResult> {
  const by = options.by ?? 'uid';
  if (by !== 'uid' && by !== 'completion')
    throw new UserError(`--by ${String(by)}: expected uid or completion`, { hint: 'e.g. --by completion' });
  const metricName = options.metric ?? 'rewards';
  const metric = await requireMetric(run, metricName);
  if (by === 'completion') requireUidColumn(run, 'completions', 'a leaderboard by completion');
  const sort = options.sort ?? 'mean';
  const top = options.top ?? 20;
  const filters = eventFilters(options);
  if (by === 'completion') filters.push(nonEmptyCompletion());
  const [scale] = await meanScales(
    run.answers,
    scoped(run.dialect, 'uid_events', filters),
    [metric],
    run.dialect,
  );
  const sortColumn = sort === 'count' ? 'calls' : sort;
  const rows = await run.answers.all<Record<string, number | string | null>>(
    leaderboardSql({ by, metric, scale, filters, sort: sortColumn, top, dialect: run.dialect }).text,
  );
  const total = rows.length ? Number(rows[0].total) : 0;
  const keyName = by === 'uid' ? 'uid' : 'completion';
  const result: AnalysisResult = {
    kind: 'leaderboard',
    title: `Top ${by === 'uid' ? 'uids' : 'completions'} by ${sort === 'count' ? 'calls' : `${sort} ${metricName}`}`,
    columns: [
      { name: keyName, type: by === 'uid' ? 'number' : 'text' },
      { name: 'calls', type: 'number' },
      ...(by === 'completion' ? [{ name: 'uids', type: 'number' as const }] : []),
      { name: 'n', type: 'number' },
      { name: 'mean', type: 'number' },
      { name: 'max', type: 'number' },
    ],
    rows: rows.map(({ key, total: _total, ...rest }) => ({ [keyName]: key, ...rest })),
    notes: [
      `metric ${metricName}: mean and max over its finite values (n); NaN/Infinity (failed calls) are left out`,
      ...(by === 'completion'
        ? ['empty completions (failed calls) are left out; uids = distinct uids that sent it']
        : []),
      `sorted by ${sortColumn}, highest first`,
    ],
    total,
  };
  result.chart = leaderboardChart(result, { keyName, sortColumn, metric: metricName });
  return result;
}
