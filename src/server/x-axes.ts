import type { Run } from '../engine/run.js';
import type { Table, XAxisChoice } from './api-types.js';
import { HttpError } from './http-error.js';

/** The fields a wandb history offers as other x axes: relative time and wall time. */
const COLUMNS = { runtime: '_runtime', time: '_timestamp' } as const;

/** The other x axes the run's events offer (numeric `_runtime`, `_timestamp`), not its own axis. */
export function xAxesOf(run: Run): XAxisChoice[] {
  return (['runtime', 'time'] as const).filter((choice) => {
    const column = COLUMNS[choice];
    return run.columns.scalars.get(column) === 'DOUBLE' && run.x.column !== column;
  });
}

/**
 * Where a line's x comes from: the run's axis (no column), or `_runtime`/`_timestamp` of the
 * events (a 400 for per-uid rows, which carry only the run's axis, or a run without the field).
 */
export function xAxisOf(
  run: Run,
  table: Table,
  choice: XAxisChoice,
): { column?: string; label: string; time: boolean } {
  if (choice === 'default') return { label: run.x.label, time: false };
  if (table !== 'events')
    throw new HttpError(400, `per-uid values are drawn over ${run.x.label} only`, {
      hint: 'leave out xaxis for per-uid metrics',
    });
  if (!xAxesOf(run).includes(choice))
    throw new HttpError(400, `this run has no ${COLUMNS[choice]} to draw over`, {
      valid: ['default', ...xAxesOf(run)],
    });
  return choice === 'runtime'
    ? { column: COLUMNS.runtime, label: '_runtime (s)', time: false }
    : { column: COLUMNS.time, label: '_timestamp (UTC)', time: true };
}
