export const SMOOTHING_METHODS = ['ema', 'mean', 'none'] as const;
export type SmoothingMethod = (typeof SMOOTHING_METHODS)[number];

export interface Smoothing {
  method: SmoothingMethod;
  /** Window in points: EMA weight w = 1 − 1/window; running mean over the last `window` points. */
  window: number;
}

/** Adaptive default window: about 2 % of the points, at least 1 (no smoothing), at most 100. */
export function defaultSmoothingWindow(points: number): number {
  if (points < 20) return 1;
  return Math.min(100, Math.max(2, Math.round(points / 50)));
}

/**
 * Smooths a series, skipping NaN (kept as NaN in the output).
 * - `ema`: TensorBoard's debiased EMA, `last = last·w + (1−w)·y; out = last/(1−w^n)`;
 * - `mean`: running mean of the last `window` finite values;
 * - `none`: a copy.
 * Either is a weighted mean of the values so far, so it lies between their min and max; it is
 * held there, which removes the rounding that made a constant series wobble in its last bits (and
 * an axis of such a series show "0.05 0.05 0.05"): a constant series smooths to itself exactly.
 */
export function smoothSeries(values: readonly number[], smoothing: Smoothing): number[] {
  const window = Math.max(1, Math.round(smoothing.window));
  if (smoothing.method === 'none' || window <= 1) return [...values];
  let lo = Infinity;
  let hi = -Infinity;
  const held = (y: number, smoothed: number): number => {
    lo = Math.min(lo, y);
    hi = Math.max(hi, y);
    return Math.min(hi, Math.max(lo, smoothed));
  };
  if (smoothing.method === 'ema') {
    const w = 1 - 1 / window;
    let last = 0;
    let n = 0;
    return values.map((y) => {
      if (!Number.isFinite(y)) return NaN;
      last = last * w + (1 - w) * y;
      n++;
      return held(y, last / (1 - w ** n));
    });
  }
  const recent: number[] = [];
  let sum = 0;
  return values.map((y) => {
    if (!Number.isFinite(y)) return NaN;
    recent.push(y);
    sum += y;
    if (recent.length > window) sum -= recent.shift()!;
    return held(y, sum / recent.length);
  });
}
