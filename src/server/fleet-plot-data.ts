import type { AnalysisResult } from '../analysis/analysis-result.js';
import type { FleetCurve, FleetMatrix } from './fleet-api-types.js';

/**
 * What the page draws of a fleet analysis, read from the data of the analysis' own Vega-Lite chart:
 * the numbers on the screen are the ones `runlens analyze --clickhouse` draws, not a second
 * computation of them.
 */

type Values = Record<string, unknown>[];

function chartValues(result: AnalysisResult): Values {
  const values = (result.chart as { data?: { values?: unknown } } | undefined)?.data?.values;
  if (!Array.isArray(values)) throw new Error(`the ${result.kind} analysis has no chart data`);
  return values as Values;
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** uid × run matrix of a leaderboard or success analysis (the chart holds its first 60 rows' uids). */
export function fleetMatrix(result: AnalysisResult, runs: readonly string[], value: string): FleetMatrix {
  const cells = chartValues(result);
  const ranks = Math.max(0, ...cells.map((c) => Number(c.rank) + 1));
  const uids = result.rows.slice(0, ranks).map((r) => Number(r.uid));
  const column = new Map(runs.map((run, i) => [run, i]));
  const z: (number | null)[][] = uids.map(() => runs.map(() => null));
  for (const cell of cells) {
    const c = column.get(String(cell.run));
    const r = Number(cell.rank);
    if (c !== undefined && Number.isInteger(r) && r < uids.length) z[r][c] = finiteOrNull(cell.value);
  }
  return { runs: [...runs], uids, z, value };
}

/** One curve per run of the rewards analysis: per-bin means and their EMA, in the runs' order. */
export function fleetCurves(
  result: AnalysisResult,
  runs: readonly string[],
): { metric: string; series: FleetCurve[] } {
  const byRun = new Map<string, FleetCurve>(runs.map((run) => [run, { run, x: [], mean: [], smooth: [] }]));
  for (const point of chartValues(result)) {
    const curve = byRun.get(String(point.group));
    if (!curve) continue;
    curve.x.push(Number(point.x));
    curve.mean.push(finiteOrNull(point.mean));
    curve.smooth.push(finiteOrNull(point.smooth ?? point.mean));
  }
  const layers = (result.chart as { layer?: { encoding?: { y?: { title?: unknown } } }[] }).layer ?? [];
  const title = layers.map((l) => l.encoding?.y?.title).find((t) => typeof t === 'string');
  return {
    metric: typeof title === 'string' ? title : 'rewards',
    series: [...byRun.values()].filter((c) => c.x.length > 0),
  };
}
