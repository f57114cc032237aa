import { emptySeries, type BinnedSeries, type BinnedStats } from '../engine/binned-stats.js';
import { binIndex, binSpec } from '../engine/bins.js';
import { OrderStat, X_CANDIDATES } from '../engine/ingest.js';
import type { PositionCounts } from '../engine/positions.js';
import { chooseXAxis, type XAxis } from '../engine/x-axis.js';
import type { RunLocation } from '../formats/discover.js';
import { normalizeRecord } from '../formats/normalize.js';
import type { ReadProblem } from '../formats/problems.js';
import { readRecords } from '../formats/read-records.js';
import type { EventSink } from '../formats/event-sink.js';
import { isMetricPath, rewardColumnsInOrder } from '../analysis/metric-paths.js';
import { SAMPLE_SIZE, type GroupStats } from './group-stats.js';
import { scanFilesInParallel } from './pool.js';
import { UnsupportedLayout } from './scan-file.js';
import { unpackPosition, type FileScan, type TrainingScanPlan } from './training-scan.js';

export interface TrainingAggregates {
  x: XAxis;
  /** x range over every record that has an x. */
  xMin: number;
  xMax: number;
  /** Per-bin statistics of the reward columns over x (quantile band approximate). */
  stats: BinnedStats;
  positions: PositionCounts | undefined;
  /** Records read, and those with a reward value and an x (what the reward chart shows). */
  records: number;
  rewardRows: number;
  rewardFiles: number;
  rewardXMin: number | null;
  rewardXMax: number | null;
  files: { name: string; records: number; problems: Partial<Record<ReadProblem['kind'], number>> }[];
  problems: ReadProblem[];
}

export interface FastTrainingOptions {
  /** Also aggregate the other numeric metrics (health, levels, …) for the metrics chart (default true). */
  metrics?: boolean;
  maxBins?: number;
  threads?: number;
  /** `--x`: the fast path only handles a detected or named column, not the row ordinal. */
  x?: string;
  strict?: boolean;
  onFileDone?: (done: number, total: number) => void;
}

const MAX_GROUPS = 200_000;

/**
 * The RL charts' aggregates from the projection scanner: only the reward, position and x fields
 * are read, on one worker per core, into mergeable per-x statistics. Returns undefined when this
 * path cannot answer exactly as the full (DuckDB) path would — CSV files, no reward fields, an x
 * axis other than the one the pre-scan predicted, too many distinct x values — and the caller
 * then uses the full path, which stays the reference.
 */
export async function scanTrainingRun(
  location: RunLocation,
  options: FastTrainingOptions = {},
): Promise<TrainingAggregates | undefined> {
  if (!location.files.length || location.files.some((f) => f.container === 'csv')) return undefined;
  const preview = await previewFields(location);
  if (!preview.rewardColumns.length) return undefined;
  const columns = [...preview.rewardColumns, ...(options.metrics === false ? [] : preview.metricColumns)];
  const predicted = options.x ?? X_CANDIDATES.find((c) => preview.present.has(c) && c !== 'step');
  if (predicted === undefined || predicted === 'ordinal' || predicted === 'row') return undefined;
  const xCandidates = X_CANDIDATES.includes(predicted) ? [...X_CANDIDATES] : [...X_CANDIDATES, predicted];
  const plan: TrainingScanPlan = { columns, x: predicted, xCandidates, maxGroups: MAX_GROUPS };
  let scans: FileScan[];
  try {
    scans = await scanFilesInParallel(location.files, plan, {
      threads: options.threads,
      onFileDone: (done) => options.onFileDone?.(done, location.files.length),
    });
  } catch (error) {
    if (error instanceof UnsupportedLayout) return undefined;
    throw error;
  }
  if (scans.some((s) => s.overflow)) return undefined;
  const problems = scans.flatMap((s) =>
    s.problems.map((p) => ({ file: location.files[s.fileIndex].name, ...p })),
  );
  if (options.strict) {
    const fatal = problems.find((p) => p.kind !== 'truncated');
    if (fatal) return undefined; // the full path reports it with --strict semantics
  }
  const records = scans.reduce((sum, s) => sum + s.records, 0);
  const order = new Map<string, OrderStat>();
  xCandidates.forEach((name, k) => {
    const merged = new OrderStat();
    for (const s of scans) {
      merged.present += s.order[k].present;
      merged.decreases += s.order[k].decreases;
      merged.min = Math.min(merged.min, s.order[k].min);
      merged.max = Math.max(merged.max, s.order[k].max);
    }
    order.set(name, merged);
  });
  const x = chooseXAxis(order, records, options.x);
  if (x.column !== predicted) return undefined;
  const xStat = order.get(predicted)!;
  const integral = scans.every((s) => s.xIntegral);
  const spec = binSpec(xStat.min, xStat.max, options.maxBins ?? 1000, integral);
  const withValue = scans.filter((s) => s.withValue > 0);
  return {
    x,
    xMin: xStat.min,
    xMax: xStat.max,
    stats: { spec, quantiles: 'approximate', band: [0.1, 0.9], series: binGroups(scans, columns, spec) },
    positions: mergePositions(scans),
    records,
    rewardRows: withValue.reduce((sum, s) => sum + s.withValue, 0),
    rewardFiles: withValue.length,
    rewardXMin: withValue.length ? Math.min(...withValue.map((s) => s.valueXMin)) : null,
    rewardXMax: withValue.length ? Math.max(...withValue.map((s) => s.valueXMax)) : null,
    files: scans.map((s) => ({
      name: location.files[s.fileIndex].name,
      records: s.records,
      problems: s.problemCounts,
    })),
    problems,
  };
}

function binGroups(scans: FileScan[], columns: string[], spec: BinnedStats['spec']): BinnedSeries[] {
  const byBin = new Map<number, GroupStats[]>();
  for (const scan of scans) {
    for (const group of scan.groups) {
      const bin = binIndex(group.x, spec);
      const list = byBin.get(bin);
      if (list) list.push(group);
      else byBin.set(bin, [group]);
    }
  }
  const bins = [...byBin.keys()].sort((a, b) => a - b);
  return columns.map((column, c) => {
    const series = emptySeries(column, undefined);
    for (const bin of bins) {
      let n = 0;
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      let nonFinite = 0;
      let xWeighted = 0;
      let last = NaN;
      let lastRank = -1;
      const weighted: [number, number][] = [];
      for (const g of byBin.get(bin)!) {
        const present = g.n[c] + g.nonFinite[c];
        if (present === 0) continue;
        n += g.n[c];
        sum += g.sum[c];
        nonFinite += g.nonFinite[c];
        xWeighted += g.x * present;
        if (g.min[c] < min) min = g.min[c];
        if (g.max[c] > max) max = g.max[c];
        if (g.lastRank[c] > lastRank) {
          lastRank = g.lastRank[c];
          last = g.last[c];
        }
        const kept = Math.min(g.sampleCount[c], SAMPLE_SIZE);
        for (let k = 0; k < kept; k++) weighted.push([g.sample[c * SAMPLE_SIZE + k], g.n[c] / kept]);
      }
      if (n + nonFinite === 0) continue;
      const [lower, upper] = weightedQuantiles(weighted, [0.1, 0.9]);
      series.bin.push(bin);
      series.x0.push(spec.x0 + bin * spec.width);
      series.x1.push(spec.x0 + (bin + 1) * spec.width);
      series.xMean.push(xWeighted / (n + nonFinite));
      series.count.push(n);
      series.mean.push(n ? sum / n : NaN);
      series.min.push(n ? min : NaN);
      series.max.push(n ? max : NaN);
      series.lower.push(lower);
      series.upper.push(upper);
      series.last.push(last);
      series.nonFinite.push(nonFinite);
    }
    return series;
  });
}

/** Quantiles of weighted values, interpolated like quantile_cont over the expanded sample. */
function weightedQuantiles(values: [number, number][], qs: number[]): number[] {
  if (!values.length) return qs.map(() => NaN);
  values.sort((a, b) => a[0] - b[0]);
  const total = values.reduce((sum, [, w]) => sum + w, 0);
  return qs.map((q) => {
    const target = q * total;
    let cumulative = 0;
    for (const [value, weight] of values) {
      cumulative += weight;
      if (cumulative >= target) return value;
    }
    return values[values.length - 1][0];
  });
}

function mergePositions(scans: FileScan[]): PositionCounts | undefined {
  const counts = new Map<number, number>();
  for (const s of scans)
    for (let i = 0; i < s.positionKeys.length; i++)
      counts.set(s.positionKeys[i], (counts.get(s.positionKeys[i]) ?? 0) + s.positionCounts[i]);
  if (!counts.size) return undefined;
  const entries = [...counts].map(([key, visits]) => [...unpackPosition(key), visits] as const);
  entries.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  return {
    map: entries.map((e) => e[0]),
    y: entries.map((e) => e[1]),
    x: entries.map((e) => e[2]),
    visits: entries.map((e) => e[3]),
    total: entries.reduce((sum, e) => sum + e[3], 0),
  };
}

/** Reward columns and x candidates, from the first records of the first, middle and last file. */
async function previewFields(
  location: RunLocation,
): Promise<{ rewardColumns: string[]; metricColumns: string[]; present: Set<string> }> {
  const files = location.files;
  const picks = [...new Set([0, Math.floor(files.length / 2), files.length - 1])].map((i) => files[i]);
  const paths = new Set<string>();
  const sink: EventSink = {
    beginEvent() {},
    number(path) {
      paths.add(path);
    },
    text() {},
    uids() {},
    uidVector() {},
    uidIndexed() {},
    other() {},
    endEvent() {},
  };
  for (const file of picks) {
    let seen = 0;
    const records = readRecords(file, () => {});
    for await (const batch of records) {
      for (const record of batch) normalizeRecord(record.value as Record<string, unknown>, record.line, sink);
      seen += batch.length;
      if (seen >= 32) break;
    }
    await records.return(undefined);
  }
  const rewardColumns = rewardColumnsInOrder(paths);
  // Same order as the full path's field catalogue (sorted paths), so both pick the same metrics.
  const metricColumns = [...paths].filter(isMetricPath).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { rewardColumns, metricColumns, present: paths };
}
