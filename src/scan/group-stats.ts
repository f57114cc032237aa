/**
 * Sufficient statistics of several columns for one distinct x value: count, sum, min, max, the
 * last value in row order, non-finite count, and a small uniform sample of values for the
 * quantile band. Plain typed arrays so a worker can post it and groups merge exactly.
 */
export interface GroupStats {
  x: number;
  /** Per column: finite values, their sum, min, max, last value, non-finite values. */
  n: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  last: Float64Array;
  /** Row-order rank of `last` (file index · 2^32 + record), so merged groups keep the latest. */
  lastRank: Float64Array;
  nonFinite: Float64Array;
  /** Per column, up to SAMPLE_SIZE sampled finite values (column-major), and how many were offered. */
  sample: Float64Array;
  sampleCount: Float64Array;
}

export const SAMPLE_SIZE = 64;

export function newGroup(x: number, columns: number): GroupStats {
  return {
    x,
    n: new Float64Array(columns),
    sum: new Float64Array(columns),
    min: new Float64Array(columns).fill(Infinity),
    max: new Float64Array(columns).fill(-Infinity),
    last: new Float64Array(columns).fill(NaN),
    lastRank: new Float64Array(columns).fill(-1),
    nonFinite: new Float64Array(columns),
    sample: new Float64Array(columns * SAMPLE_SIZE),
    sampleCount: new Float64Array(columns),
  };
}

/**
 * Adds one record's values to a group: for each column `c` whose slot `slots[c]` is `seen`, in
 * column order, its count, sum, min, max, last value (at `rank`) or non-finite count, and the
 * column's uniform sample (`random` is a seeded [0, 1) generator).
 */
export function addRecord(
  group: GroupStats,
  slots: readonly number[],
  values: Float64Array,
  seen: Uint8Array,
  rank: number,
  random: () => number,
): void {
  const { n, sum, min, max, last, lastRank, nonFinite, sample, sampleCount } = group;
  for (let c = 0; c < slots.length; c++) {
    const slot = slots[c];
    if (!seen[slot]) continue;
    const value = values[slot];
    if (!Number.isFinite(value)) {
      nonFinite[c]++;
      continue;
    }
    n[c]++;
    sum[c] += value;
    if (value < min[c]) min[c] = value;
    if (value > max[c]) max[c] = value;
    last[c] = value;
    lastRank[c] = rank;
    const offered = sampleCount[c]++;
    if (offered < SAMPLE_SIZE) sample[c * SAMPLE_SIZE + offered] = value;
    else {
      const j = Math.floor(random() * (offered + 1));
      if (j < SAMPLE_SIZE) sample[c * SAMPLE_SIZE + j] = value;
    }
  }
}

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
