import type { NumberCounts } from '../formats/event-sink.js';
/** How a field was stored: a per-event scalar, a per-uid vector, a list indexed by uid, or not at all. */
export type FieldRole = 'scalar' | 'per-uid' | 'uid-indexed' | 'unstored';

export type ValueType = 'int' | 'float' | 'nan' | 'bool' | 'string' | 'null' | 'list' | 'object';

export interface FieldStat {
  path: string;
  role: FieldRole;
  /** Events in which the field occurs. */
  events: number;
  /** Values seen, by JSON type (per-uid and indexed lists count their elements). */
  types: Partial<Record<ValueType, number>>;
}

/** Field catalogue built while ingesting: which paths exist, in which role, with which types. */
export class FieldCatalog {
  private readonly byRole: Record<FieldRole, Map<string, FieldStat>> = {
    scalar: new Map(),
    'per-uid': new Map(),
    'uid-indexed': new Map(),
    unstored: new Map(),
  };

  /** The stat of a path in a role, created on first use; callers count into `types` directly. */
  stat(path: string, role: FieldRole): FieldStat {
    const map = this.byRole[role];
    let stat = map.get(path);
    if (stat === undefined) {
      stat = { path, role, events: 0, types: {} };
      map.set(path, stat);
    }
    return stat;
  }

  scalar(path: string, type: ValueType): void {
    const stat = this.stat(path, 'scalar');
    stat.events++;
    stat.types[type] = (stat.types[type] ?? 0) + 1;
  }

  unstored(path: string, type: ValueType): void {
    const stat = this.stat(path, 'unstored');
    stat.events++;
    stat.types[type] = (stat.types[type] ?? 0) + 1;
  }

  list(
    path: string,
    role: 'per-uid' | 'uid-indexed',
    values: readonly unknown[],
    counts?: NumberCounts,
  ): void {
    const stat = this.stat(path, role);
    stat.events++;
    countTypes(stat, values, counts);
  }

  /** A catalogue holding these stats (e.g. `all()` of one built on another thread). */
  static from(stats: readonly FieldStat[]): FieldCatalog {
    const catalog = new FieldCatalog();
    for (const stat of stats) catalog.byRole[stat.role].set(stat.path, stat);
    return catalog;
  }

  all(): FieldStat[] {
    return Object.values(this.byRole)
      .flatMap((map) => [...map.values()])
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.role < b.role ? -1 : 1));
  }
}

/**
 * Adds field stats counted elsewhere (another worker, another part of the run) into `into`, keyed
 * by role and path: events and per-type counts add up; a stat new to `into` is copied.
 */
export function mergeFieldStats(into: Map<string, FieldStat>, stats: Iterable<FieldStat>): void {
  for (const stat of stats) {
    const key = `${stat.role}\u0000${stat.path}`;
    const known = into.get(key);
    if (known === undefined) {
      into.set(key, { ...stat, types: { ...stat.types } });
      continue;
    }
    known.events += stat.events;
    for (const [type, n] of Object.entries(stat.types) as [ValueType, number][])
      known.types[type] = (known.types[type] ?? 0) + n;
  }
}

/**
 * Adds the JSON types of a list's values to a field's counts (one pass, no allocation; with
 * `counts`, only the values that are not numbers are looked at).
 */
export function countTypes(stat: FieldStat, values: readonly unknown[], counts?: NumberCounts): void {
  if (counts !== undefined) {
    const types = stat.types;
    // Once the field has met each type the list holds, add the counts; a type new to the field
    // is first met in the list's order (addTypes), so the types keep their order of appearance.
    if (
      counts.other === 0 ||
      ((counts.bool === 0 || types.bool !== undefined) &&
        (counts.null === 0 || types.null !== undefined) &&
        (counts.string === 0 || types.string !== undefined) &&
        (counts.list === 0 || types.list !== undefined) &&
        (counts.object === 0 || types.object !== undefined))
    ) {
      addTypes(types, values, counts.int, counts.float, counts.nan, 0);
      if (counts.bool) types.bool! += counts.bool;
      if (counts.null) types.null! += counts.null;
      if (counts.string) types.string! += counts.string;
      if (counts.list) types.list! += counts.list;
      if (counts.object) types.object! += counts.object;
    } else addTypes(types, values, counts.int, counts.float, counts.nan, counts.other);
    return;
  }
  let int = 0;
  let float = 0;
  let nan = 0;
  let other = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number') {
      if (v !== v || v === Infinity || v === -Infinity) nan++;
      else if (Number.isInteger(v)) int++;
      else float++;
    } else other++;
  }
  addTypes(stat.types, values, int, float, nan, other);
}

/** Adds counted numbers, and the types of the `other` values that are not numbers, to `types`. */
function addTypes(
  types: FieldStat['types'],
  values: readonly unknown[],
  int: number,
  float: number,
  nan: number,
  other: number,
): void {
  if (int) types.int = (types.int ?? 0) + int;
  if (float) types.float = (types.float ?? 0) + float;
  if (nan) types.nan = (types.nan ?? 0) + nan;
  if (other === 0) return;
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] === 'number') continue;
    const type = typeOfValue(values[i]);
    types[type] = (types[type] ?? 0) + 1;
  }
}

export function typeOfValue(value: unknown): ValueType {
  switch (typeof value) {
    case 'number':
      return Number.isNaN(value) || !Number.isFinite(value)
        ? 'nan'
        : Number.isInteger(value)
          ? 'int'
          : 'float';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'list' : 'object';
    default:
      return 'null';
  }
}

/** "int", "float|null", "string|int" — the types a field holds, most common first. */
export function describeTypes(types: Partial<Record<ValueType, number>>): string {
  return Object.entries(types)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([type]) => type)
    .join('|');
}

/** A list element as both engine paths store it: numbers as they are, booleans 1/0, anything else null. */
export function numericValue(v: unknown): number | null {
  return typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null;
}

/**
 * What a numeric column makes of a text value (see `TableWriter.store` in table-writer.ts): `''` nothing (empty text
 * decides no type and is no conflict), `'0'` a number, `' '` and `'x'` a conflict (blank, or not a
 * number). Non-empty text decides a new column's type as text whatever its class. The EventWalker
 * passes these four strings in place of the text it does not decode, so a sink sees the same.
 */
export type TextClass = '' | ' ' | '0' | 'x';

export function textClass(value: string): TextClass {
  if (value === '') return '';
  if (value.trim() === '') return ' ';
  return Number.isNaN(Number(value)) ? 'x' : '0';
}
