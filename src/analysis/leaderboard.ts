import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import type { Run } from '../engine/run.js';
import { UserError } from '../errors.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { leaderboardChart } from './analysis-charts.js';
import { eventConditions, whereClause } from './filters.js';
import { requireMetric, requireUidColumn } from './run-columns.js';

/**
 * The top uids (or completion texts) by a per-uid metric: calls, finite values, mean and max of
 * the metric, sorted by `--sort` (mean by default), ties by uid / text.
 */
export async function leaderboard(run: Run, options: AnalysisOptions): Promise<AnalysisResult> {
  const by = options.by ?? 'uid';
  if (by !== 'uid' && by !== 'completion')
    throw new UserError(`--by ${String(by)}: expected uid or completion`, { hint: 'e.g. --by completion' });
  const metricName = options.metric ?? 'rewards';
  const metric = await requireMetric(run, metricName);
  if (by === 'completion') requireUidColumn(run, 'completions', 'a leaderboard by completion');
  const sort = options.sort ?? 'mean';
  const top = options.top ?? 20;
  const key = by === 'uid' ? 'uid' : 'completions';
  const conditions = eventConditions(options);
  if (by === 'completion') conditions.push(`completions IS NOT NULL AND completions <> ''`);
  const finite = `FILTER (WHERE isfinite(${metric}))`;
  const [scale] = await meanScales(run.session, `uid_events ${whereClause(conditions)}`, [metric]);
  const sortColumn = sort === 'count' ? 'calls' : sort;
  const grouped = `SELECT ${key} AS key, CAST(count(*) AS DOUBLE) AS calls,
      ${by === 'completion' ? 'CAST(count(DISTINCT uid) AS DOUBLE) AS uids,' : ''}
      CAST(count(${metric}) ${finite} AS DOUBLE) AS n, ${exactMeanSql(metric, scale)} AS mean, max(${metric}) ${finite} AS max
    FROM uid_events ${whereClause(conditions)} GROUP BY key`;
  const rows = await run.session.all<Record<string, number | string | null>>(
    `SELECT *, count(*) OVER () AS total FROM (${grouped})
     ORDER BY ${sortColumn} DESC NULLS LAST, key ${top > 0 ? `LIMIT ${top}` : ''}`,
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
