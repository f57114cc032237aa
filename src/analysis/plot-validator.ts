import { binnedStats, type BinnedSeries } from '../engine/binned-stats.js';
import { binIndexSql, binSpec } from '../engine/bins.js';
import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import { movingAverageScores, type ScoreMatrix } from '../engine/moving-average-scores.js';
import { reservoirSample } from '../engine/reservoir.js';
import type { Run } from '../engine/run.js';
import { weightsMatrix, type WeightsMatrix } from '../engine/uid-indexed-matrix.js';
import { quoteIdentifier } from '../engine/session.js';
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
export async function validatorCharts(run: Run, options: ValidatorChartOptions = {}): Promise<NamedChart[]> {
  return validatorChartsFromData(await validatorData(run, options));
}

/** The validator charts' data, by SQL over the indexed run. */
export async function validatorData(run: Run, options: ValidatorChartOptions = {}): Promise<ValidatorData> {
  const uidColumns = run.storedColumns('uid_rows');
  const seed = options.seed ?? 0;
  const clouds: UidCloud[] = [];
  for (const value of ['rewards', 'completion_times'] as const) {
    if (!uidColumns.has(value)) continue;
    const sample = await reservoirSample(run, {
      table: 'uid_events',
      columns: ['x', 'uid', 'task', value],
      where: `${quoteIdentifier(value)} IS NOT NULL AND isfinite(${quoteIdentifier(value)}) AND x IS NOT NULL`,
      size: options.sampleSize ?? 10_000,
      seed,
    });
    if (sample.size)
      clouds.push({ value, columns: sample.columns, size: sample.size, population: sample.population });
  }
  const performance =
    uidColumns.has('successful') || uidColumns.has('completion_times')
      ? await uidPerformance(run, uidColumns)
      : undefined;
  let stepLength: BinnedSeries | undefined;
  if (run.storedColumns('rows').has('step_length')) {
    const stats = await binnedStats(run, { columns: ['step_length'], maxBins: STEP_LENGTH_BINS });
    stepLength = stats.series[0];
  }
  return {
    events: run.ingest.rows,
    files: run.location.files.length,
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
        caption: `${base} · ${scores.source === 'logged' ? 'as logged' : `reconstructed from rewards, α = ${scores.alpha}`} · ${formatCount(scores.events)} events`,
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
      spec: uidPerformanceSpec(perf, { caption: `${base} · every uid row` }),
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

/**
 * Seconds per block: over events in row order, each run of one block starts at its first
 * timestamp; its duration is the time to the next run's start divided by the blocks advanced.
 * Binned over block with the exact mean and p10–p90 band. Undefined without `block` and `_timestamp`.
 */
async function blockDurations(run: Run, maxBins: number): Promise<BinnedSeries | undefined> {
  const stored = run.storedColumns('rows');
  if (!stored.has('block') || !stored.has('_timestamp')) return undefined;
  const durations = `
    WITH timed AS (
      SELECT ord, CAST(block AS DOUBLE) AS block, CAST(_timestamp AS DOUBLE) AS t FROM events
      WHERE block IS NOT NULL AND isfinite(CAST(block AS DOUBLE)) AND _timestamp IS NOT NULL AND isfinite(CAST(_timestamp AS DOUBLE))),
    starts AS (
      SELECT ord, block, t, lag(block) OVER (ORDER BY ord) AS previous FROM timed),
    runs AS (
      SELECT block, t, lead(block) OVER (ORDER BY ord) AS next_block, lead(t) OVER (ORDER BY ord) AS next_t
      FROM starts WHERE previous IS NULL OR previous <> block)
    SELECT block AS x, (next_t - t) / (next_block - block) AS d FROM runs
    WHERE next_block > block AND next_t > t`;
  // Bins cut the range of block over every event (not only the durations'), like x for the other charts.
  const range = await run.session.one<{ min: number | null; max: number | null; integer: boolean }>(
    `SELECT min(b) AS min, max(b) AS max, coalesce(bool_and(b = round(b)), false) AS integer
     FROM (SELECT CAST(block AS DOUBLE) AS b FROM events) WHERE isfinite(b)`,
  );
  if (!range || range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  const [xScale, scale] = await meanScales(run.session, `(${durations})`, ['x', 'd']);
  const cols = await run.session.columns(`
    SELECT ${binIndexSql('x', spec)} AS bin, ${exactMeanSql('x', xScale)} AS x_mean, CAST(count(*) AS DOUBLE) AS n,
      ${exactMeanSql('d', scale)} AS mean,
      min(d) AS lo, max(d) AS hi, quantile_cont(d, [0.1, 0.9]) AS band, arg_max(d, x) AS last
    FROM (${durations}) GROUP BY bin ORDER BY bin`);
  const bin = cols.bin as number[];
  const band = cols.band as number[][];
  return {
    column: 'block_duration',
    group: undefined,
    bin,
    x0: bin.map((b) => spec.x0 + b * spec.width),
    x1: bin.map((b) => spec.x0 + (b + 1) * spec.width),
    xMean: cols.x_mean as number[],
    count: cols.n as number[],
    mean: cols.mean as number[],
    min: cols.lo as number[],
    max: cols.hi as number[],
    lower: band.map((q) => q[0]),
    upper: band.map((q) => q[1]),
    last: cols.last as number[],
    nonFinite: bin.map(() => 0),
  };
}

async function uidPerformance(run: Run, uidColumns: Set<string>): Promise<UidPerformance> {
  const ok = uidColumns.has('successful') ? 'avg(CAST(successful AS DOUBLE))' : 'NULL';
  const t = uidColumns.has('completion_times')
    ? `quantile_cont(completion_times, [0.1, 0.25, 0.5, 0.75, 0.9]) FILTER (WHERE isfinite(completion_times))`
    : 'NULL';
  const cols = await run.session.columns(`
    SELECT CAST(uid AS INTEGER) AS uid, ${ok} AS rate, ${t} AS q, CAST(count(*) AS DOUBLE) AS n
    FROM uid_events WHERE uid >= 0 GROUP BY uid ORDER BY uid`);
  const q = (cols.q as (number[] | null)[]).map((v) => v ?? [NaN, NaN, NaN, NaN, NaN]);
  return {
    uid: cols.uid as number[],
    successRate: (cols.rate as (number | null)[]).map((v) => v ?? NaN),
    p10: q.map((v) => v[0] ?? NaN),
    p25: q.map((v) => v[1] ?? NaN),
    p50: q.map((v) => v[2] ?? NaN),
    p75: q.map((v) => v[3] ?? NaN),
    p90: q.map((v) => v[4] ?? NaN),
    count: cols.n as number[],
  };
}
