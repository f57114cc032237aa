/**
 * Fixed names of the normalised model, in a module of their own with no dependencies.
 */

/** x-axis candidates in order of preference (SPEC: block, _step, total_steps, step, _timestamp). */
export const X_CANDIDATES: readonly string[] = ['block', '_step', 'total_steps', 'step', '_timestamp'];

/** Fields that can be the run's task (the first one the run has as a scalar). */
export const TASK_CANDIDATES: readonly string[] = ['task_name', 'name'];

/** Within-file order statistics of one numeric field over the run. */
export interface OrderStat {
  /** Finite values. */
  present: number;
  /** Times a finite value was below the one before it in its file. */
  decreases: number;
}
