/**
 * What the validator charts read and how finely they bin it, shared by the SQL path
 * (plot-validator.ts, plot-metrics.ts), the projection scanner (scan/validator-run.ts, which must
 * bin alike) and `plot`: kept apart from the chart modules, so loading these does not load Vega.
 */
export const SCORE_BINS = 200;
export const WEIGHT_BINS = 300;
export const STEP_LENGTH_BINS = 300;
export const BLOCK_DURATION_BINS = 300;
/** Line charts of numeric metrics `plot` draws at most. */
export const MAX_METRICS = 24;
/** The per-uid vectors the validator charts read; `plot` stores only these. */
export const VALIDATOR_CHART_VECTORS: readonly string[] = ['rewards', 'completion_times', 'successful'];
