import type { Smoothing } from '../charts/smoothing.js';
import type { RunLocation } from '../formats/discover.js';
import type { ReadProblem } from '../formats/problems.js';
import type { VegaLiteSpec } from '../render/index.js';
import { scanTrainingRun } from '../scan/fast-training.js';
import { runCaption } from '../charts/caption.js';
import type { RewardChart } from './plot-training.js';
import type { NamedChart } from './plot-validator.js';

export interface FastTrainingCharts {
  /** Records read, files, and the x axis with its range over every record. */
  entries: number;
  files: number;
  xLabel: string;
  xMin: number | null;
  xMax: number | null;
  rewards: RewardChart;
  /** Every other numeric metric (health, levels, deaths, …), as the full path's metrics chart. */
  metrics: NamedChart | undefined;
  positions: { spec: VegaLiteSpec; unknownMaps: number[] } | undefined;
  problems: ReadProblem[];
}

export interface FastTrainingChartOptions {
  /** Aggregate the metrics chart's fields too (default true; visualize-training needs only rewards). */
  metrics?: boolean;
  x?: string;
  strict?: boolean;
  smoothing?: Partial<Smoothing>;
  mapLayout?: string;
  onFileDone?: (done: number, total: number) => void;
}

/**
 * The RL charts (reward components, position heatmap) from the projection scanner, or undefined
 * when it cannot answer exactly as the full path would (RUNLENS_ENGINE=duckdb forces the full path).
 */
export async function scanTrainingCharts(
  location: RunLocation,
  options: FastTrainingChartOptions = {},
): Promise<FastTrainingCharts | undefined> {
  if (process.env.RUNLENS_ENGINE === 'duckdb') return undefined;
  // The chart builders (and Vega behind them) load while the scan workers read.
  const builders = Promise.all([import('./plot-metrics.js'), import('./plot-training.js')]);
  builders.catch(() => undefined);
  const aggregates = await scanTrainingRun(location, {
    x: options.x,
    strict: options.strict,
    maxBins: 400,
    metrics: options.metrics,
    onFileDone: options.onFileDone,
  });
  if (!aggregates || aggregates.rewardRows === 0) return undefined;
  const [{ metricsChartFromStats }, { positionChartFromCounts, rewardChartFromStats }] = await builders;
  const isReward = (column: string): boolean => column.startsWith('rewards.');
  const rewardStats = {
    ...aggregates.stats,
    series: aggregates.stats.series.filter((s) => isReward(s.column)),
  };
  const metricStats = {
    ...aggregates.stats,
    series: aggregates.stats.series.filter((s) => !isReward(s.column)),
  };
  const caption = runCaption({
    rows: aggregates.records,
    files: location.files.length,
    xLabel: aggregates.x.label,
    xMin: aggregates.xMin,
    xMax: aggregates.xMax,
  });
  return {
    entries: aggregates.records,
    files: location.files.length,
    xLabel: aggregates.x.label,
    xMin: aggregates.xMin,
    xMax: aggregates.xMax,
    metrics: metricsChartFromStats(
      metricStats,
      caption,
      aggregates.x.label,
      metricStats.series.length,
      options.smoothing,
    ),
    rewards: rewardChartFromStats(
      rewardStats,
      {
        rows: aggregates.rewardRows,
        files: aggregates.rewardFiles,
        xMin: aggregates.rewardXMin,
        xMax: aggregates.rewardXMax,
      },
      aggregates.x.label,
      options.smoothing,
    ),
    positions: aggregates.positions
      ? positionChartFromCounts(aggregates.positions, aggregates.files.filter((f) => f.records > 0).length, {
          mapLayout: options.mapLayout,
        })
      : undefined,
    problems: aggregates.problems,
  };
}
