import { binnedStats, type BinnedStats } from '../engine/binned-stats.js';
import { positionCounts, type PositionCounts } from '../engine/positions.js';
import { fromWhere } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, join, sql } from '../engine/sql.js';
import { runCaption } from '../charts/caption.js';
import { globalGrid, globalMapHeatmapSpec, readMapLayout } from '../charts/global-map-heatmap.js';
import { positionHeatmapSpec } from '../charts/position-heatmap.js';
import { rewardComponentsSpec } from '../charts/reward-components.js';
import type { Smoothing } from '../charts/smoothing.js';
import type { VegaLiteSpec } from '../render/index.js';
import { rewardColumnsInOrder } from './metric-paths.js';

/** The run's reward columns (`rewards.*`), total first, then the usual component order. */
export function rewardColumns(run: QueryableRun): string[] {
  return rewardColumnsInOrder(run.storedColumns('rows'));
}

export interface RewardChart {
  spec: VegaLiteSpec;
  rows: number;
  files: number;
  xMin: number | null;
  xMax: number | null;
}

/** Reward components over run.x, from exact per-bin statistics of every row that has rewards. */
export async function rewardChart(
  run: QueryableRun,
  options: { smoothing?: Partial<Smoothing>; maxBins?: number } = {},
): Promise<RewardChart | undefined> {
  const columns = rewardColumns(run);
  if (!columns.length) return undefined;
  const d = run.dialect;
  const any = join(
    columns.map((c) => sql`${ident(c)} IS NOT NULL`),
    ' OR ',
  );
  const x = ident('x');
  const info = await run.answers.one<{ rows: number; files: number; min: number | null; max: number | null }>(
    sql`SELECT CAST(count(*) AS DOUBLE) AS ${ident('rows')}, CAST(count(DISTINCT file_id) AS INTEGER) AS ${ident('files')},
            min(${x}) AS ${ident('min')}, max(${x}) AS ${ident('max')}
     ${fromWhere(d, 'events', [any, sql`${x} IS NOT NULL`, d.isFinite(x)])}`.text,
  );
  if (!info || info.rows === 0) return undefined;
  const stats = await binnedStats(run, { columns, maxBins: options.maxBins ?? 400 });
  return rewardChartFromStats(
    stats,
    { rows: info.rows, files: info.files, xMin: info.min, xMax: info.max },
    run.x.label,
    options.smoothing,
  );
}

/** The reward chart from per-bin statistics however they were computed (SQL or the scanner). */
export function rewardChartFromStats(
  stats: BinnedStats,
  info: { rows: number; files: number; xMin: number | null; xMax: number | null },
  xLabel: string,
  smoothing?: Partial<Smoothing>,
): RewardChart {
  const caption = runCaption({
    rows: info.rows,
    files: info.files,
    xLabel,
    xMin: info.xMin,
    xMax: info.xMax,
  });
  const spec = rewardComponentsSpec(stats, { xTitle: xLabel, caption, smoothing });
  return { spec, ...info };
}

/** Position heatmap: per-map small multiples, or one world grid with a region table. */
export async function positionChart(
  run: QueryableRun,
  options: { mapLayout?: string } = {},
): Promise<{ spec: VegaLiteSpec; unknownMaps: number[] } | undefined> {
  const counts = await positionCounts(run);
  if (!counts || counts.total === 0) return undefined;
  const files = await run.filesWithRows();
  return positionChartFromCounts(counts, files, options);
}

/** The position heatmap from exact visit counts however they were computed. */
export function positionChartFromCounts(
  counts: PositionCounts,
  files: number,
  options: { mapLayout?: string } = {},
): { spec: VegaLiteSpec; unknownMaps: number[] } {
  const caption = `${counts.total.toLocaleString('en-US')} rows · ${files} file${files === 1 ? '' : 's'}`;
  if (options.mapLayout) {
    const regions = readMapLayout(options.mapLayout);
    const grid = globalGrid(counts, regions);
    return { spec: globalMapHeatmapSpec(grid, { caption }), unknownMaps: [...grid.unknownMaps.keys()] };
  }
  return { spec: positionHeatmapSpec(counts, { caption }), unknownMaps: [] };
}
