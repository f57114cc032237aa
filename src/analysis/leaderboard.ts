import { duckdb, type Dialect } from '../engine/dialect.js';
import { keyMeans, keyMeansSql, type KeyMeansSpec } from '../engine/key-means.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, type Sql } from '../engine/sql.js';
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
export function leaderboardSpec(options: Omit<LeaderboardSql, 'scale' | 'dialect'>): KeyMeansSpec {
  return {
    keys: [{ expr: ident(options.by === 'uid' ? 'uid' : 'completions'), name: 'key' }],
    calls: 'calls',
    ...(options.by === 'completion' ? { distinct: { expr: ident('uid'), name: 'uids' } } : {}),
    metrics: [{ expr: options.metric, n: 'n', mean: 'mean', max: 'max' }],
    filters: options.filters,
    order: [{ name: options.sort }, { name: 'key', ascending: true }],
    limit: options.top,
    total: 'total',
  };
}

/** The leaderboard in one query (a fleet's on ClickHouse). */
export function leaderboardSql(options: LeaderboardSql): Sql {
  return keyMeansSql(leaderboardSpec(options), [options.scale], options.dialect ?? duckdb);
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
  const sortColumn = sort === 'count' ? 'calls' : sort;
  const rows = await keyMeans<Record<string, number | string | null>>(
    run,
    leaderboardSpec({ by, metric, filters, sort: sortColumn, top }),
    options.pieceRows,
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
