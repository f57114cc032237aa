import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import type { Run } from '../engine/run.js';
import { quoteString } from '../engine/session.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { completionRatesChart } from './analysis-charts.js';
import { eventConditions, whereClause } from './filters.js';
import { bucketExpression, bucketStart, checkBucketCount, resolveInterval } from './interval.js';
import { requireMetric, requireUidColumn, uidEventsWithTime } from './run-columns.js';
import { checkRegex } from './regex.js';

/**
 * How often the N most frequent completions (or every completion matching `--match`) appear per
 * interval, their share of that interval's non-empty completions, and their mean reward: a wave of
 * one canned text is spam or an attack on the reward model.
 */
export async function completionRates(run: Run, options: AnalysisOptions): Promise<AnalysisResult> {
  requireUidColumn(run, 'completions', 'the completion-rates analysis');
  const metricName = options.metric ?? 'rewards';
  const metric = await requireMetric(run, metricName);
  const interval = await resolveInterval(run, options.interval, true);
  const bucket = bucketExpression(interval);
  const relation = uidEventsWithTime(run);
  const base = [
    ...eventConditions(options),
    `completions IS NOT NULL AND completions <> ''`,
    `isfinite(${interval.expression})`,
  ];
  let series: { label: string; condition: string }[];
  if (options.match !== undefined) {
    await checkRegex(run, options.match);
    series = [
      {
        label: `/${options.match}/`,
        condition: `regexp_matches(completions, ${quoteString(options.match)})`,
      },
    ];
  } else {
    const top = options.top || 10;
    const frequent = await run.session.all<{ text: string }>(
      `SELECT completions AS text FROM ${relation} ${whereClause(base)}
       GROUP BY completions ORDER BY count(*) DESC, completions LIMIT ${top}`,
    );
    series = frequent.map((f) => ({ label: f.text, condition: `completions = ${quoteString(f.text)}` }));
  }
  const [scale] = await meanScales(run.session, `${relation} ${whereClause(base)}`, [metric]);
  const which = `CASE ${series.map((s, i) => `WHEN ${s.condition} THEN ${i}`).join(' ')} END`;
  const counts = series.length
    ? await run.session.all<{ bucket: number; s: number | null; n: number; mean: number | null }>(
        `SELECT CAST(${bucket} AS DOUBLE) AS bucket, ${which} AS s, CAST(count(*) AS DOUBLE) AS n,
           ${exactMeanSql(metric, scale)} AS mean
         FROM ${relation} ${whereClause(base)} GROUP BY ALL ORDER BY bucket`,
      )
    : [];
  const rows: AnalysisResult['rows'] = [];
  if (counts.length) {
    const lo = counts[0].bucket;
    const hi = counts[counts.length - 1].bucket;
    checkBucketCount(interval, lo, hi);
    const totals = new Map<number, number>();
    const cell = new Map<string, { n: number; mean: number | null }>();
    for (const c of counts) {
      totals.set(c.bucket, (totals.get(c.bucket) ?? 0) + c.n);
      if (c.s !== null) cell.set(`${c.bucket}:${c.s}`, c);
    }
    for (let b = lo; b <= hi; b++)
      series.forEach((s, i) => {
        const c = cell.get(`${b}:${i}`);
        const total = totals.get(b) ?? 0;
        rows.push({
          start: bucketStart(interval, b),
          completion: s.label,
          count: c?.n ?? 0,
          share: total ? (c?.n ?? 0) / total : null,
          mean_reward: c?.mean ?? null,
        });
      });
  }
  const timeAxis = interval.axis === 'time';
  const result: AnalysisResult = {
    kind: 'completion-rates',
    title: `Completion rates per ${interval.label}`,
    columns: [
      { name: 'start', type: timeAxis ? 'text' : 'number' },
      { name: 'completion', type: 'text' },
      { name: 'count', type: 'number' },
      { name: 'share', type: 'number' },
      { name: 'mean_reward', type: 'number' },
    ],
    rows,
    notes: [
      options.match !== undefined
        ? `completions matching /${options.match}/ (RE2 syntax, case-sensitive unless (?i)) counted as one series`
        : `the ${series.length} most frequent non-empty completions over the whole run`,
      `interval ${interval.label} of ${timeAxis ? '_timestamp (UTC)' : run.x.label}; share = count ÷ non-empty completions in the interval`,
      `mean_reward = mean ${metricName} of those completions (finite values)`,
    ],
  };
  result.chart = completionRatesChart(result, {
    caption:
      options.match !== undefined
        ? `completions matching /${options.match}/ · interval ${interval.label}`
        : `the ${series.length} most frequent completions · interval ${interval.label}`,
    timeAxis,
    xTitle: timeAxis ? 'time (UTC)' : run.x.label,
    metric: metricName,
  });
  return result;
}
