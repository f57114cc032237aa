import type { QueryableRun } from '../engine/queryable.js';
import { UserError } from '../errors.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { completionDiversity } from './completion-diversity.js';
import { completionRates } from './completion-rates.js';
import { completionSimilarity } from './completion-similarity.js';
import { leaderboard } from './leaderboard.js';
import { checkTasks } from './run-columns.js';
import { successRate } from './success-rate.js';
import { throughput } from './throughput.js';
import { weightsOverTime } from './weights-over-time.js';

export type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
export type AnalysisKind = keyof typeof ANALYSES;

/**
 * Every `runlens analyze --kind`: one function per file, SQL built through the run's dialect (a
 * local run's DuckDB or a fleet's ClickHouse), a small table out.
 */
export const ANALYSES = {
  throughput,
  leaderboard,
  success: successRate,
  diversity: completionDiversity,
  'completion-rates': completionRates,
  weights: weightsOverTime,
  similarity: completionSimilarity,
} satisfies Record<string, (run: QueryableRun, options: AnalysisOptions) => Promise<AnalysisResult>>;

export const ANALYSIS_KINDS = Object.keys(ANALYSES) as AnalysisKind[];

/** Runs one analysis over an open run: a local run, or one in a fleet. */
export async function analyzeRun(
  run: QueryableRun,
  kind: string,
  options: AnalysisOptions = {},
): Promise<AnalysisResult> {
  if (!(kind in ANALYSES))
    throw new UserError(`unknown analysis "${kind}"`, {
      hint: `choose one of: ${ANALYSIS_KINDS.join(', ')}`,
    });
  await checkTasks(run, options.task);
  return ANALYSES[kind as AnalysisKind](run, options);
}
