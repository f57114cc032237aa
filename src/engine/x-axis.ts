import { UserError } from '../errors.js';
import { X_CANDIDATES, type OrderStat } from './candidates.js';

export interface XAxis {
  /** Column in `rows` used as x, or undefined for the global row ordinal. */
  column: string | undefined;
  label: string;
  /** Why this axis was chosen (or why candidates were passed over). */
  reason: string;
}

/** A training clock goes forward: within a file it may repeat but almost never decreases. */
const MAX_DECREASE_FRACTION = 0.001;
const MIN_PRESENCE = 0.5;

/**
 * Chooses the x axis: the user's `--x`, else the first of block, _step, total_steps, step,
 * _timestamp that most rows have and that does not reset within a file (a per-episode `step`
 * resets and is never used as training time), else the global row ordinal across files.
 */
export function chooseXAxis(order: Map<string, OrderStat>, totalRows: number, requested?: string): XAxis {
  if (requested !== undefined) {
    if (requested === 'ordinal' || requested === 'row') {
      return { column: undefined, label: 'row', reason: 'chosen with --x' };
    }
    const stat = order.get(requested);
    if (!stat || stat.present === 0) {
      const present = [...order.entries()].filter(([, s]) => s.present > 0).map(([name]) => name);
      throw new UserError(`--x ${requested}: no numeric field of that name in this run`, {
        hint: `fields that can be x: ${present.length ? present.join(', ') : '(none)'}, or "ordinal"`,
      });
    }
    return { column: requested, label: requested, reason: 'chosen with --x' };
  }
  const passedOver: string[] = [];
  for (const name of X_CANDIDATES) {
    const stat = order.get(name);
    if (!stat || stat.present === 0) continue;
    if (stat.present < totalRows * MIN_PRESENCE) {
      passedOver.push(`${name} (in ${stat.present} of ${totalRows} rows)`);
      continue;
    }
    if (stat.decreases > stat.present * MAX_DECREASE_FRACTION) {
      passedOver.push(`${name} (resets ${stat.decreases} times: a per-episode counter, not training time)`);
      continue;
    }
    const skipped = passedOver.length ? `; passed over ${passedOver.join(', ')}` : '';
    return { column: name, label: name, reason: `detected${skipped}` };
  }
  const skipped = passedOver.length ? `: passed over ${passedOver.join(', ')}` : ': no step-like field';
  return {
    column: undefined,
    label: 'row',
    reason: `global row ordinal across files in file order${skipped}`,
  };
}
