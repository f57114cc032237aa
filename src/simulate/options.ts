import { UserError } from '../errors.js';

/** `value` if it is a whole number ≥ 1; otherwise a UserError naming the option. */
export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new UserError(`${name} must be a positive whole number, got ${value}`, { hint: `e.g. ${name} 32` });
  }
  return value;
}
