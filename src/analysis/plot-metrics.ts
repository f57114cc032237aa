import { formatCount, runCaption } from '../charts/caption.js';
import { rewardComponentsSpec } from '../charts/reward-components.js';
import type { Smoothing } from '../charts/smoothing.js';
import { binnedStats, type BinnedStats } from '../engine/binned-stats.js';
import type { QueryableRun } from '../engine/queryable.js';
import { MAX_METRICS } from './chart-constants.js';
import { isMetricPath } from './metric-paths.js';
import type { NamedChart } from './plot-validator.js';

/** Numeric per-event fields worth a line (see isMetricPath), at most MAX_METRICS. */
export function metricColumns(run: QueryableRun, exclude: readonly string[] = []): string[] {
  return allMetricColumns(run, exclude).slice(0, MAX_METRICS);
}

/** Numeric fields (by their first value) worth a line, by name. */
function allMetricColumns(run: QueryableRun, exclude: readonly string[]): string[] {
  return [...run.columns.scalars]
    .filter(([name, type]) => type === 'DOUBLE' && isMetricPath(name))
    .map(([name]) => name)
    .filter((name) => name !== run.x.column && !exclude.includes(name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Every numeric metric over x: exact per-bin mean with its band, small multiples. */
export async function metricsChart(
  run: QueryableRun,
  smoothing?: Partial<Smoothing>,
  exclude: readonly string[] = [],
): Promise<NamedChart | undefined> {
  const columns = metricColumns(run, exclude);
  if (!columns.length) return undefined;
  const stats = await binnedStats(run, { columns, maxBins: 400 });
  const x = await run.xRange();
  const caption = runCaption({
    rows: run.ingest.rows,
    files: run.fileCount,
    xLabel: run.x.label,
    xMin: x.min,
    xMax: x.max,
  });
  return metricsChartFromStats(stats, caption, run.x.label, allMetricColumns(run, exclude).length, smoothing);
}

/** The metrics chart from per-bin statistics however they were computed (SQL or the scanner). */
export function metricsChartFromStats(
  stats: BinnedStats,
  caption: string,
  xLabel: string,
  total: number,
  smoothing?: Partial<Smoothing>,
): NamedChart | undefined {
  const series = stats.series.filter((s) => s.count.some((n) => n > 0)).slice(0, MAX_METRICS);
  if (!series.length) return undefined;
  const more = total > series.length ? ` · first ${series.length} of ${total} metrics` : '';
  return {
    name: 'metrics',
    description: `${formatCount(series.length)} numeric metrics over ${xLabel}`,
    spec: rewardComponentsSpec(
      { ...stats, series },
      { title: 'Metrics', xTitle: xLabel, caption: caption + more, smoothing },
    ),
  };
}
