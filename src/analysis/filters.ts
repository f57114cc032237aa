import { quoteString } from '../engine/session.js';
import { UserError } from '../errors.js';

export interface XRange {
  min?: number;
  max?: number;
}

/** `A:B`, `A:` or `:B` (inclusive) → range; throws a UserError on anything else. */
export function parseXRange(text: string): XRange {
  const match = /^\s*([^:]*)\s*:\s*([^:]*)\s*$/.exec(text);
  const bound = (s: string | undefined): number | undefined => {
    if (s === undefined || s.trim() === '') return undefined;
    const n = Number(s);
    if (!Number.isFinite(n)) throw badRange(text);
    return n;
  };
  if (!match) throw badRange(text);
  const range = { min: bound(match[1]), max: bound(match[2]) };
  if (range.min === undefined && range.max === undefined) throw badRange(text);
  if (range.min !== undefined && range.max !== undefined && range.min > range.max)
    throw new UserError(`--x-range ${text}: the start is after the end`, { hint: 'write it as START:END' });
  return range;
}

function badRange(text: string): UserError {
  return new UserError(`--x-range "${text}" is not a range`, {
    hint: 'write START:END (inclusive), START: or :END, e.g. --x-range 1874000:1875000',
  });
}

/** `1,2,3` → [1, 2, 3]; integers only. */
export function parseUidList(text: string): number[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const uids = parts.map(Number);
  if (!parts.length || uids.some((u) => !Number.isInteger(u)))
    throw new UserError(`--uids "${text}" is not a list of uids`, {
      hint: 'write integers separated by commas, e.g. --uids 1,2,3',
    });
  return [...new Set(uids)];
}

/** `a,b` → ['a', 'b']. */
export function parseNameList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * SQL conditions (to AND together) over a relation with `x` and `task`: the event-level filters
 * every analysis and export accepts. Each one narrows; none widens.
 */
export function eventConditions(filters: { task?: string[]; xRange?: XRange }, prefix = ''): string[] {
  const conditions: string[] = [];
  if (filters.task?.length) conditions.push(`${prefix}task IN (${filters.task.map(quoteString).join(', ')})`);
  if (filters.xRange?.min !== undefined) conditions.push(`${prefix}x >= ${filters.xRange.min}`);
  if (filters.xRange?.max !== undefined) conditions.push(`${prefix}x <= ${filters.xRange.max}`);
  return conditions;
}

/** `WHERE a AND b` or '' when there are no conditions. */
export function whereClause(conditions: readonly string[]): string {
  return conditions.length ? `WHERE ${conditions.map((c) => `(${c})`).join(' AND ')}` : '';
}
