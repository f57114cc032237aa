import { binnedStats, type BinnedSeries } from '../engine/binned-stats.js';
import { blockDurations } from '../engine/block-durations.js';
import { movingAverageScores, type ScoreMatrix } from '../engine/moving-average-scores.js';
import { reservoirSample } from '../engine/reservoir.js';
import type { QueryableRun } from '../engine/queryable.js';
import { uidPerformance } from '../engine/uid-performance.js';
import { weightsMatrix, type WeightsMatrix } from '../engine/uid-indexed-matrix.js';
import { and, ident, sql } from '../engine/sql.js';
import { formatCount } from '../charts/caption.js';
import { binnedLineSpec } from '../charts/binned-line.js';
import { uidMatrixHeatmapSpec } from '../charts/uid-matrix-heatmap.js';
import { uidPerformanceSpec, type UidPerformance } from '../charts/uid-performance.js';
import { uidScatterSpec } from '../charts/uid-scatter.js';
import { uidTopLinesSpec } from '../charts/uid-top-lines.js';
import { projected3dSpec } from '../charts/projected-3d.js';
import type { VegaLiteSpec } from '../render/index.js';
import { BLOCK_DURATION_BINS, SCORE_BINS, STEP_LENGTH_BINS, WEIGHT_BINS } from './chart-constants.js';

export interface NamedChart {
  name: string;
  description: string;
  spec: VegaLiteSpec;
  /** Point clouds drawn from the reservoir: how many rows of how many eligible ones, and the seed. */
  sample?: { size: number; population: number; seed: number };
}

export interface ValidatorChartOptions {
  seed?: number;
  sampleSize?: number;
  alpha?: number;
}

/** A reservoir sample of one per-uid value for the point clouds. */
export interface UidCloud {
  value: 'rewards' | 'completion_times';
  /** Column-major: x, uid, task, and the value. */
  columns: Record<string, unknown[]>;
  size: number;
  population: number;
}

/**
 * What the validator charts show, however it was computed: by SQL over an indexed run
 * (validatorData) or by the projection scanner in one pass (scan/validator-run.ts).
 */
export interface ValidatorData {
  events: number;
  files: number;
  xTitle: string;
  seed: number;
  clouds: UidCloud[];
  scores: ScoreMatrix | undefined;
  weights: WeightsMatrix | undefined;
  performance: UidPerformance | undefined;
  stepLength: BinnedSeries | undefined;
  blockDurations: BinnedSeries | undefined;
}

/** Every validator chart the run's fields support. */
export async function validatorCharts(
  run: QueryableRun,
  options: ValidatorChartOptions = {},
): Promise<NamedChart[]> {
  return validatorChartsFromData(await validatorData(run, options));
}

/** The validator charts' data, by SQL over the indexed run. */
export async function validatorData(
  run: QueryableRun,
  options: ValidatorChartOptions = {},
): Promise<ValidatorData> {
  const uidColumns = run.storedColumns('uid_rows');
  const seed = options.seed ?? 0;
  const clouds: UidCloud[] = [];
  for (const value of ['rewards', 'completion_times'] as const) {
    if (!uidColumns.has(value)) continue;
    const sample = await reservoirSample(run, {
      table: 'uid_events',
      columns: ['x', 'uid', 'task', value],
      where: and([
        sql`${ident(value)} IS NOT NULL`,
        run.dialect.isFinite(ident(value)),
        sql`${ident('x')} IS NOT NULL`,
      ]),
      size: options.sampleSize ?? 10_000,
      seed,
      overX: true,
    });
    if (sample.size)
      clouds.push({ value, columns: sample.columns, size: sample.size, population: sample.population });
  }
  const performance = await uidPerformance(run, uidColumns);
  let stepLength: BinnedSeries | undefined;
  if (run.storedColumns('rows').has('step_length')) {
    const stats = await binnedStats(run, { columns: ['step_length'], maxBins: STEP_LENGTH_BINS });
    stepLength = stats.series[0];
  }
  return {
    events: run.ingest.rows,
    files: run.fileCount,
    xTitle: run.x.label,
    seed,
    clouds,
    scores: await movingAverageScores(run, { alpha: options.alpha, maxBins: SCORE_BINS }),
    weights: await weightsMatrix(run, WEIGHT_BINS),
    performance,
    stepLength,
    blockDurations: await blockDurations(run, BLOCK_DURATION_BINS),
  };
}

const CLOUD_TITLES = {
  rewards: ['Reward', 'rewards-by-uid', 'rewards-3d'],
  completion_times: ['Completion time (s)', 'completion-times-by-uid', 'completion-times-3d'],
} as const;

/** The validator charts from their data. */
export function validatorChartsFromData(data: ValidatorData): NamedChart[] {
  const charts: NamedChart[] = [];
  const xTitle = data.xTitle;
  const files = data.files;
  const base = `${formatCount(data.events)} events · ${files} file${files === 1 ? '' : 's'}`;
  const clouds: NamedChart[] = [];
  for (const sample of data.clouds) {
    const [title, name, name3d] = CLOUD_TITLES[sample.value];
    const value = sample.value;
    const ratio = sample.size / sample.population;
    const caption = `${base} · sample of ${formatCount(sample.size)} of ${formatCount(sample.population)} uid rows (${(ratio * 100).toPrecision(3)} %, seed ${data.seed})`;
    const facts = { size: sample.size, population: sample.population, seed: data.seed };
    charts.push({
      sample: facts,
      name,
      description: `${title} over ${xTitle} by uid (reservoir sample, per task)`,
      spec: uidScatterSpec({ sample: sample.columns, value, valueTitle: title, xTitle, caption }),
    });
    clouds.push({
      sample: facts,
      name: name3d,
      description: `${title} as a static 3-D projection of ${xTitle} × uid × value (reservoir sample)`,
      spec: projected3dSpec({ sample: sample.columns, value, valueTitle: title, xTitle, caption }),
    });
  }
  charts.push(...clouds);
  const scores = data.scores;
  if (scores && scores.uids.length) {
    charts.push({
      name: 'moving-averaged-scores',
      description: `moving-averaged scores, uid × ${xTitle}`,
      spec: uidMatrixHeatmapSpec(scores, {
        title: 'Moving-averaged scores',
        caption: `${base} · ${scores.source === 'logged' ? 'as logged' : `reconstructed from rewards, α = ${scores.alpha}`} · ${formatCount(scores.events)} ${scores.source === 'logged' ? 'score vectors' : 'events replayed'}`,
        xTitle,
        colorTitle: 'score',
      }),
    });
  }
  const weights = data.weights;
  if (weights) {
    charts.push({
      name: 'weights',
      description: `${weights.kind} per uid over ${xTitle}`,
      spec: uidMatrixHeatmapSpec(weights, {
        title: 'Weights over time',
        caption: `${base} · ${weights.kind}, last value per bin, carried forward · ${formatCount(weights.updates)} weight vectors`,
        xTitle,
        colorTitle: 'weight',
        scheme: 'magma',
      }),
    });
  }
  if (weights && weights.uids.length) {
    const top = Math.min(10, weights.uids.length);
    charts.push({
      name: 'weights-top',
      description: `the ${top} uids with the highest mean ${weights.kind} over ${xTitle}`,
      spec: uidTopLinesSpec(weights, {
        title: `Top ${top} weights over time`,
        caption: `${base} · ${weights.kind} · ${formatCount(weights.updates)} weight vectors · top ${top} of ${formatCount(weights.uids.length)} uids by mean weight, last value per bin`,
        xTitle,
        yTitle: 'weight',
        top,
      }),
    });
  }
  const perf = data.performance;
  if (perf?.uid.length)
    charts.push({
      name: 'uid-performance',
      description: 'success rate and completion time distribution per uid',
      spec: uidPerformanceSpec(perf, {
        caption: `${base} · every uid row${perf.quantileShare ? ` · time quantiles from a ${(perf.quantileShare * 100).toPrecision(2)} % hashed sample` : ''}`,
      }),
    });
  const series = data.stepLength;
  if (series?.count.length)
    charts.push({
      name: 'step-length',
      description: `step length over ${xTitle}`,
      spec: binnedLineSpec(series, {
        title: 'Step length',
        caption: `${base} · per-bin mean of every event, band p10–p90`,
        xTitle,
        yTitle: 'step length (s)',
      }),
    });
  const durations = data.blockDurations;
  if (durations?.count.length)
    charts.push({
      name: 'block-duration',
      description: 'seconds per block over block',
      spec: binnedLineSpec(durations, {
        title: 'Block duration',
        caption: `${base} · seconds from a block's first _timestamp to the next block's ÷ blocks advanced · per-bin mean, band p10–p90`,
        xTitle: 'block',
        yTitle: 'seconds per block',
      }),
    });
  return charts;
}
