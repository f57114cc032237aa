import { and, ident, lit, qualified, sql, type Sql } from '../engine/sql.js';
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
 * Conditions (to AND together) over a relation with `x` and `task` (columns of `alias` when
 * given): the event-level filters every analysis and export accepts. Each one narrows; none widens.
 */
export function eventFilters(filters: { task?: readonly string[]; xRange?: XRange }, alias?: string): Sql[] {
  const column = (name: string) => (alias === undefined ? ident(name) : qualified(alias, name));
  const conditions: Sql[] = [];
  if (filters.task?.length) conditions.push(sql`${column('task')} IN (${filters.task.map((t) => lit(t))})`);
  if (filters.xRange?.min !== undefined) conditions.push(sql`${column('x')} >= ${lit(filters.xRange.min)}`);
  if (filters.xRange?.max !== undefined) conditions.push(sql`${column('x')} <= ${lit(filters.xRange.max)}`);
  return conditions;
}

/** eventFilters as SQL text, for callers that build their WHERE clauses as text (export). */
export function eventConditions(
  filters: { task?: readonly string[]; xRange?: XRange },
  alias?: string,
): string[] {
  return eventFilters(filters, alias).map((c) => c.text);
}

/** A completion that was sent: non-empty text (failed calls log ""). */
export function nonEmptyCompletion(): Sql {
  const c = ident('completions');
  return sql`${c} IS NOT NULL AND ${c} <> ${lit('')}`;
}

/** ` WHERE (a) AND (b)`, or nothing when there are no conditions. */
export function whereClause(conditions: readonly Sql[]): Sql {
  return conditions.length ? sql` WHERE ${and(conditions)}` : sql``;
}
