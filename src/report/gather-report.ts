import { rewardColumns } from '../analysis/plot-training.js';
import { defaultSmoothingWindow } from '../charts/smoothing.js';
import { binnedStats, type BinnedSeries, type BinnedStats } from '../engine/binned-stats.js';
import { movingAverageScores } from '../engine/moving-average-scores.js';
import { positionCounts } from '../engine/positions.js';
import type { QueryableRun } from '../engine/queryable.js';
import { Run } from '../engine/run.js';
import { binnedLineFigure } from './binned-line-figure.js';
import { MAGMA, PALETTE, type Figure } from './figure.js';
import { leaderboard, type Leaderboard } from './leaderboard.js';
import { chooseMetrics } from './metric-choice.js';
import { formatRows } from './numbers.js';
import { pointCloudSection, type PointCloudSection } from './point-clouds.js';
import { positionMapsFigure, type PositionMaps } from './position-maps.js';
import { runFacts, type RunFacts } from './run-facts.js';
import { uidMatrixFigure } from './uid-matrix-figure.js';
import { weightsMatrix } from '../engine/uid-indexed-matrix.js';

export interface ReportOptions {
  /** Seed of the reservoir sample behind the 3-D maps (default 0). */
  seed?: number;
  /** Sampled points in the 3-D maps, in total (default 50 000). */
  maxPoints?: number;
  /** Bins per line chart (default 1000, at most 2000). */
  lineBins?: number;
  /** Line charts of numeric metrics (default 48). */
  maxMetrics?: number;
  /** α of the reconstructed moving-averaged scores (default 0.05). */
  alpha?: number;
}

export interface TitledFigure {
  id: string;
  title: string;
  caption: string;
  figure: Figure;
  /**
   * The caption counts the points drawn: it is `<count><countText>`, and the page counts again
   * when a selector shows only some of the figure's traces (one task of a 3-D map).
   */
  countText?: string;
}

/** Everything the page shows, computed from the run (exact aggregates, one seeded sample). */
export interface ReportModel {
  facts: RunFacts;
  xLabel: string;
  leaderboard?: Leaderboard;
  pointClouds?: PointCloudSection;
  heatmaps: TitledFigure[];
  rewards?: TitledFigure;
  positions?: PositionMaps & { caption: string };
  metrics: TitledFigure[];
  omittedMetrics: string[];
  /** EMA weight the smoothing slider starts at (TensorBoard's w). */
  smoothingWeight: number;
}

export const MAX_LINE_BINS = 2000;

/** The report's model of a run: a local one (its facts from the index) or one in a fleet (facts given). */
export async function gatherReport(
  run: QueryableRun,
  options: ReportOptions = {},
  knownFacts?: RunFacts,
): Promise<ReportModel> {
  const xLabel = run.x.label;
  const lineBins = Math.min(MAX_LINE_BINS, Math.max(10, options.lineBins ?? 1000));
  const facts = knownFacts ?? (run instanceof Run ? await runFacts(run) : undefined);
  if (!facts) throw new Error('gatherReport: a run outside the local index needs its facts');
  const release = async () => {
    if (run instanceof Run) await run.session.releaseMemory();
  };
  const heatmaps: TitledFigure[] = [];
  const scores = await movingAverageScores(run, { alpha: options.alpha, maxBins: 400 });
  await release();
  if (scores && scores.uids.length)
    heatmaps.push({
      id: 'heatmap-scores',
      title: 'Moving-averaged scores',
      caption: `${scores.source === 'logged' ? 'as logged' : `reconstructed by replaying every event, score = α·reward + (1−α)·score, α = ${scores.alpha}`} · ${formatRows(scores.events)} events · ${scores.uids.length} uids · state at the end of each bin`,
      figure: uidMatrixFigure(scores, { xLabel, valueLabel: 'score', colorscale: 'Viridis' }),
    });
  const weights = await weightsMatrix(run);
  await release();
  if (weights)
    heatmaps.push({
      id: 'heatmap-weights',
      title: `Weights (${weights.kind})`,
      caption: `${formatRows(weights.updates)} weight vectors · ${weights.uids.length} uids · last vector per bin, carried forward`,
      figure: uidMatrixFigure(weights, { xLabel, valueLabel: 'weight', colorscale: MAGMA }),
    });
  const rewardCols = run.x.column === 'step' ? [] : rewardColumns(run);
  const rewards = rewardCols.length ? await rewardFigure(run, rewardCols, lineBins) : undefined;
  if (rewards) await release();
  const counts = await positionCounts(run);
  await release();
  const positions =
    counts && counts.total > 0
      ? {
          ...positionMapsFigure(counts),
          caption: `exact visit counts of ${formatRows(counts.total)} rows per (map, x, y), log colour scale`,
        }
      : undefined;
  const choice = await chooseMetrics(run, { max: options.maxMetrics ?? 48, exclude: new Set(rewardCols) });
  // One binnedStats per table: its range query (x's range, each column's magnitude) scans the
  // table once for all its metrics rather than once per metric (OpenValidators: 28 scans of the
  // per-uid rows); each metric's own query is as before, with DuckDB's blocks released between.
  const statsOf = new Map<string, { stats: BinnedStats; series: BinnedSeries | undefined }>();
  for (const table of ['events', 'uid_events'] as const) {
    const columns = choice.metrics.filter((m) => m.table === table).map((m) => m.column);
    if (!columns.length) continue;
    const stats = await binnedStats(run, { columns, table, maxBins: lineBins, between: release });
    await release();
    for (const column of columns)
      statsOf.set(`${table}\u0000${column}`, {
        stats,
        series: stats.series.find((s) => s.column === column),
      });
  }
  const metrics: TitledFigure[] = [];
  for (const [index, metric] of choice.metrics.entries()) {
    const { stats, series } = statsOf.get(`${metric.table}\u0000${metric.column}`)!;
    if (!series?.count.length) continue;
    const perUid = metric.table === 'uid_events';
    const binned = series.count.reduce((a, b) => a + b, 0);
    metrics.push({
      id: `metric-${index}`,
      title: perUid ? `${metric.column} · mean over uids` : metric.column,
      caption: `${formatRows(binned)} ${perUid ? 'uid rows' : 'events'}${binned < metric.rows ? ` (${formatRows(metric.rows - binned)} without ${xLabel})` : ''} · ${series.count.length} bins · band p${Math.round(stats.band[0] * 100)}–p${Math.round(stats.band[1] * 100)}${stats.quantiles === 'approximate' ? ` (from ≤ ${stats.quantileSample ?? 0} sampled values per bin)` : ''}, min–max`,
      figure: binnedLineFigure([{ series, name: metric.column, color: PALETTE[0], bands: true }], {
        xLabel,
        yLabel: metric.column,
        band: stats.band,
      }),
    });
  }
  const longest = Math.max(0, ...metrics.map((m) => (m.figure.data[0].x as number[]).length));
  const window = defaultSmoothingWindow(longest);
  const board = await leaderboard(run);
  await release();
  const pointClouds = await pointCloudSection(run, { size: options.maxPoints, seed: options.seed });
  await release();
  return {
    facts,
    xLabel,
    leaderboard: board,
    pointClouds,
    heatmaps,
    rewards,
    positions,
    metrics,
    omittedMetrics: choice.omitted.map((m) => m.column),
    smoothingWeight: window <= 1 ? 0 : Number((1 - 1 / window).toFixed(2)),
  };
}

async function rewardFigure(
  run: QueryableRun,
  columns: string[],
  maxBins: number,
): Promise<TitledFigure | undefined> {
  const stats = await binnedStats(run, { columns, maxBins });
  const series = stats.series.filter((s) => s.count.length);
  if (!series.length) return undefined;
  const rows = Math.max(...series.map((s) => s.count.reduce((a, b) => a + b, 0)));
  return {
    id: 'rl-rewards',
    title: `Reward components over ${run.x.label}`,
    caption: `per-bin mean of ${formatRows(rows)} rows · ${series[0].count.length} bins · band p${Math.round(stats.band[0] * 100)}–p${Math.round(stats.band[1] * 100)} and min–max of ${series[0].column}`,
    figure: binnedLineFigure(
      series.map((s, i) => ({
        series: s,
        name: s.column.replace(/^rewards\.(components\.)?/, ''),
        color: PALETTE[i % PALETTE.length],
        bands: i === 0,
      })),
      { xLabel: run.x.label, yLabel: 'reward', band: stats.band, height: 420 },
    ),
  };
}
