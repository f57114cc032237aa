/**
 * How finely the validator charts bin (plot-validator.ts, plot-metrics.ts): kept apart from the
 * chart modules, so loading these does not load Vega.
 */
export const SCORE_BINS = 200;
export const WEIGHT_BINS = 300;
export const STEP_LENGTH_BINS = 300;
export const BLOCK_DURATION_BINS = 300;
/** Line charts of numeric metrics `plot` draws at most. */
export const MAX_METRICS = 24;
