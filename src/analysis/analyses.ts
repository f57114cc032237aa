import type { QueryableRun } from '../engine/queryable.js';
import { Run } from '../engine/run.js';
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

/** Every `runlens analyze --kind`: one function per file, SQL in DuckDB, a small table out. */
export const ANALYSES = {
  throughput,
  leaderboard,
  success: successRate,
  diversity: completionDiversity,
  'completion-rates': completionRates,
  weights: weightsOverTime,
  similarity: completionSimilarity,
} satisfies Record<string, (run: Run, options: AnalysisOptions) => Promise<AnalysisResult>>;

export const ANALYSIS_KINDS = Object.keys(ANALYSES) as AnalysisKind[];

/** The analyses whose SQL is written for every dialect (they run on a ClickHouse fleet too). */
export const PORTABLE_ANALYSES = {
  leaderboard,
  success: successRate,
} satisfies Record<string, (run: QueryableRun, options: AnalysisOptions) => Promise<AnalysisResult>>;

/** Runs one analysis over an open run (a local run, or one in a fleet for the portable ones). */
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
  if (kind in PORTABLE_ANALYSES)
    return PORTABLE_ANALYSES[kind as keyof typeof PORTABLE_ANALYSES](run, options);
  if (!(run instanceof Run))
    throw new UserError(`--kind ${kind} is not computed on ClickHouse yet`, {
      hint: `on a fleet: ${Object.keys(PORTABLE_ANALYSES).join(', ')}; or run it on the local logs`,
    });
  return ANALYSES[kind as AnalysisKind](run, options);
}
