import { duckdb, type Dialect } from '../engine/dialect.js';
import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, join, lit, sql, type Sql } from '../engine/sql.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { completionRatesChart } from './analysis-charts.js';
import { eventFilters, nonEmptyCompletion, whereClause } from './filters.js';
import { bucketColumn, bucketStart, checkBucketCount, resolveInterval, type Interval } from './interval.js';
import { requireMetric, requireUidColumn, uidEventsWithTime } from './run-columns.js';
import { checkRegex } from './regex.js';

/**
 * The `top` most frequent texts of `relation`'s rows that pass `filters` (and the dialect's scope),
 * most frequent first, ties by text (`top` 0: every text).
 */
export function frequentCompletionsSql(
  relation: Sql,
  filters: readonly Sql[],
  top: number,
  d: Dialect = duckdb,
): Sql {
  const c = ident('completions');
  const limit = top > 0 ? sql` LIMIT ${lit(top)}` : sql``;
  return sql`SELECT ${c} AS ${ident('text')} FROM ${relation}${whereClause([...d.scope(), ...filters])} GROUP BY ${c} ORDER BY count(*) DESC, ${c}${limit}`;
}

export interface CompletionRatesSql {
  relation: Sql;
  interval: Interval;
  filters: readonly Sql[];
  /**
   * One condition per series (a row counts for the first that holds, `s` is its index), or
   * 'text': every completion text is a series of its own (`s` is the text).
   */
  series: readonly Sql[] | 'text';
  /** The metric column and its exact mean's scale. */
  metric: Sql;
  scale: number;
  dialect?: Dialect;
}

/**
 * Per (bucket, series): rows and the exact mean of the metric's finite values; rows of no series
 * have `s` NULL (they count towards the bucket's total), ordered by bucket.
 */
export function completionRatesSql(options: CompletionRatesSql): Sql {
  const d = options.dialect ?? duckdb;
  const which =
    options.series === 'text'
      ? ident('completions')
      : sql`CASE ${join(
          options.series.map((c, i) => sql`WHEN ${c} THEN ${lit(i)}`),
          ' ',
        )} END`;
  return join(
    [
      sql`SELECT ${bucketColumn(options.interval, d)}, ${which} AS s, CAST(count(*) AS DOUBLE) AS n,`,
      sql`${exactMeanSql(options.metric, options.scale, d)} AS mean`,
      sql`FROM ${options.relation}${whereClause([...d.scope(), ...options.filters])} GROUP BY bucket, s ORDER BY bucket, s NULLS LAST`,
    ],
    ' ',
  );
}

/**
 * How often the N most frequent completions (or every completion matching `--match`) appear per
 * interval, their share of that interval's non-empty completions, and their mean reward: a wave of
 * one canned text is spam or an attack on the reward model.
 */
export async function completionRates(run: QueryableRun, options: AnalysisOptions): Promise<AnalysisResult> {
  const d = run.dialect;
  requireUidColumn(run, 'completions', 'the completion-rates analysis');
  const metricName = options.metric ?? 'rewards';
  const metric = await requireMetric(run, metricName);
  const interval = await resolveInterval(run, options.interval, true);
  const relation = uidEventsWithTime(run);
  const filters = [...eventFilters(options), nonEmptyCompletion(), d.isFinite(interval.expression)];
  const completions = ident('completions');
  const top = options.top ?? 10;
  let series: { label: string; condition: Sql }[];
  if (options.match !== undefined) {
    await checkRegex(run, options.match);
    series = [
      {
        label: `/${options.match}/`,
        condition: d.matches(completions, options.match),
      },
    ];
  } else {
    const frequent = await run.answers.all<{ text: string }>(
      frequentCompletionsSql(relation, filters, top, d).text,
    );
    series = frequent.map((f) => ({ label: f.text, condition: sql`${completions} = ${d.quote(f.text)}` }));
  }
  const [scale] = await meanScales(
    run.answers,
    sql`${relation}${whereClause([...d.scope(), ...filters])}`,
    [metric],
    d,
  );
  // Every completion (--top 0) is grouped by its text rather than matched by one CASE branch each.
  const byText = options.match === undefined && top === 0;
  const counts = series.length
    ? await run.answers.all<{ bucket: number; s: number | string | null; n: number; mean: number | null }>(
        completionRatesSql({
          relation,
          interval,
          filters,
          series: byText ? 'text' : series.map((s) => s.condition),
          metric,
          scale,
          dialect: d,
        }).text,
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
        const c = cell.get(`${b}:${byText ? s.label : i}`);
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
        : byText
          ? `all ${series.length} distinct non-empty completions of the run (--top 0)`
          : `the ${series.length} most frequent non-empty completions over the whole run`,
      `interval ${interval.label} of ${timeAxis ? '_timestamp (UTC)' : run.x.label}; share = count ÷ non-empty completions in the interval`,
      `mean_reward = mean ${metricName} of those completions (finite values)`,
    ],
  };
  result.chart = completionRatesChart(result, {
    caption:
      options.match !== undefined
        ? `completions matching /${options.match}/ · interval ${interval.label}`
        : `${byText ? `all ${series.length}` : `the ${series.length} most frequent`} completions · interval ${interval.label}`,
    timeAxis,
    xTitle: timeAxis ? 'time (UTC)' : run.x.label,
    metric: metricName,
  });
  return result;
}
