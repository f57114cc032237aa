import { binIndex, type BinSpec } from '../engine/bins.js';

/** Values kept per bin for its quantile band: all of them up to this many, a uniform sample beyond. */
export const BIN_SAMPLE = 128;

/**
 * Per-bin statistics of one value column over x, as the SQL path's binnedStats computes them:
 * count, sum, min, max of the finite values, non-finite count, the sum of x over the rows present,
 * the last finite value in row order, and a uniform sample for the band. Plain typed arrays: a
 * worker posts it and the main thread merges them in row order.
 */
export interface BinAcc {
  n: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  last: Float64Array;
  nonFinite: Float64Array;
  xSum: Float64Array;
  /** Per bin, BIN_SAMPLE slots; `seen` counts the finite values offered. */
  sample: Float64Array;
  seen: Float64Array;
}

export function newBinAcc(bins: number): BinAcc {
  return {
    n: new Float64Array(bins),
    sum: new Float64Array(bins),
    min: new Float64Array(bins).fill(Infinity),
    max: new Float64Array(bins).fill(-Infinity),
    last: new Float64Array(bins).fill(NaN),
    nonFinite: new Float64Array(bins),
    xSum: new Float64Array(bins),
    sample: new Float64Array(bins * BIN_SAMPLE),
    seen: new Float64Array(bins),
  };
}

export function addToBin(acc: BinAcc, bin: number, x: number, value: number, random: () => number): void {
  acc.xSum[bin] += x;
  if (!Number.isFinite(value)) {
    acc.nonFinite[bin]++;
    return;
  }
  acc.n[bin]++;
  acc.sum[bin] += value;
  if (value < acc.min[bin]) acc.min[bin] = value;
  if (value > acc.max[bin]) acc.max[bin] = value;
  acc.last[bin] = value;
  offer(acc.sample, acc.seen, bin, BIN_SAMPLE, value, random);
}

/** Reservoir step: slot `row` of a row-major `width`-wide sample matrix. */
export function offer(
  sample: Float64Array,
  seen: Float64Array,
  row: number,
  width: number,
  value: number,
  random: () => number,
): void {
  const k = seen[row]++;
  if (k < width) sample[row * width + k] = value;
  else {
    const j = Math.floor(random() * (k + 1));
    if (j < width) sample[row * width + j] = value;
  }
}

/** Merges `next` (later in row order) into `into`. */
export function mergeBinAcc(into: BinAcc, next: BinAcc, random: () => number): void {
  for (let b = 0; b < into.n.length; b++) {
    into.xSum[b] += next.xSum[b];
    into.nonFinite[b] += next.nonFinite[b];
    if (next.n[b] === 0) continue;
    into.n[b] += next.n[b];
    into.sum[b] += next.sum[b];
    if (next.min[b] < into.min[b]) into.min[b] = next.min[b];
    if (next.max[b] > into.max[b]) into.max[b] = next.max[b];
    into.last[b] = next.last[b];
  }
  mergeSamples(into.sample, into.seen, next.sample, next.seen, BIN_SAMPLE, random);
}

/**
 * Merges two row-major reservoir matrices so each row stays a uniform sample of all values offered
 * to either: each slot of the merged row is drawn from one side with probability proportional to
 * how many values that side saw.
 */
export function mergeSamples(
  sample: Float64Array,
  seen: Float64Array,
  other: Float64Array,
  otherSeen: Float64Array,
  width: number,
  random: () => number,
): void {
  for (let row = 0; row < seen.length; row++) {
    const a = seen[row];
    const b = otherSeen[row];
    if (b === 0) continue;
    const base = row * width;
    if (a + b <= width) {
      for (let k = 0; k < b; k++) sample[base + a + k] = other[base + k];
    } else {
      // Each side kept a uniform sample of min(seen, width) values. Drawing `width` values without
      // replacement from a + b: the side of each draw with probability proportional to what is left
      // of it, then a random unused value of that side's sample.
      const left = Array.from(sample.subarray(base, base + Math.min(a, width)));
      const right = Array.from(other.subarray(base, base + Math.min(b, width)));
      let restA = a;
      let restB = b;
      for (let k = 0; k < width; k++) {
        const fromA = random() * (restA + restB) < restA;
        const pool = fromA ? left : right;
        const j = Math.floor(random() * pool.length);
        sample[base + k] = pool[j];
        pool[j] = pool[pool.length - 1];
        pool.pop();
        if (fromA) restA--;
        else restB--;
      }
    }
    seen[row] = a + b;
  }
}

/** quantile_cont over a sample: exact when the sample holds every value. */
export function sampleQuantiles(values: Float64Array | number[], qs: readonly number[]): number[] {
  if (!values.length) return qs.map(() => NaN);
  const sorted = Float64Array.from(values).sort();
  return qs.map((q) => {
    const position = q * (sorted.length - 1);
    const lo = Math.floor(position);
    const hi = Math.ceil(position);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
  });
}

/** The kept values of one row of a sample matrix. */
export function sampleRow(
  sample: Float64Array,
  seen: Float64Array,
  row: number,
  width: number,
): Float64Array {
  return sample.subarray(row * width, row * width + Math.min(seen[row], width));
}

export { binIndex, type BinSpec };
