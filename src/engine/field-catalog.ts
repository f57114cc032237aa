import type { ValueKind } from '../formats/shape.js';
import { canonicalOf, conflictSql, itemOf } from './canonical-sql.js';
import type { IndexColumn } from './index-db.js';
import { eventsChunk, uidChunk } from './index-read.js';
import type { StoredType } from './normalize-sql.js';
import type { RunIndex } from './run-index.js';
import { ident, join, lit, sql, type Sql } from './sql.js';

/** How a field is stored: a per-event scalar, a per-uid vector, a list indexed by uid, or not at all. */
export type FieldRole = 'scalar' | 'per-uid' | 'uid-indexed' | 'unstored';

export type ValueType = ValueKind;

export interface FieldStat {
  path: string;
  role: FieldRole;
  /** Events in which the field holds a value (for per-uid vectors: a list as long as `uids`). */
  events: number;
  /** Values, by JSON type (lists count their items). */
  types: Partial<Record<ValueType, number>>;
}

export interface FieldCatalog {
  fields: FieldStat[];
  /** Values that do not fit their column's type, by column. */
  conflicts: Map<string, number>;
}

/** "int", "float|null", "string|int" — the types a field holds, most common first. */
export function describeTypes(types: Partial<Record<ValueType, number>>): string {
  return Object.entries(types)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([type]) => type)
    .join('|');
}

/** One measured statistic of a chunk: which field and role, and its aggregates. */
interface Measure {
  path: string;
  role: FieldRole;
  column: string;
  events?: Sql;
  types: [ValueKind, Sql][];
  conflicts?: Sql;
}

/** A chunk's stats as kept in the index. */
interface ChunkStat {
  path: string;
  role: FieldRole;
  column: string;
  events: number;
  types: Partial<Record<ValueKind, number>>;
  conflicts: number;
}

/**
 * Every field of the run with how it is stored, in how many events it holds a value and which JSON
 * types its values had, and the values that did not fit their column's type: SQL over each chunk
 * (its events and its per-uid rows, one scan each), kept in the index so it is counted once per
 * chunk, and summed.
 */
export async function fieldCatalog(index: RunIndex): Promise<FieldCatalog> {
  const stats = new Map<string, FieldStat>();
  const conflicts = new Map<string, number>();
  for (const chunk of [...new Set(index.chunkParts().map((c) => c.chunk))]) {
    let chunkStats = await index.chunkStats(chunk);
    if (!chunkStats) {
      chunkStats = await measureChunk(index, chunk);
      await index.putChunkStats(chunk, chunkStats);
    }
    for (const s of chunkStats as ChunkStat[]) {
      const key = `${s.role}\u0000${s.path}`;
      let stat = stats.get(key);
      if (!stat) stats.set(key, (stat = { path: s.path, role: s.role, events: 0, types: {} }));
      stat.events += s.events;
      for (const [kind, n] of Object.entries(s.types) as [ValueKind, number][])
        stat.types[kind] = (stat.types[kind] ?? 0) + n;
      if (s.conflicts > 0) conflicts.set(s.column, (conflicts.get(s.column) ?? 0) + s.conflicts);
    }
  }
  const fields = [...stats.values()]
    .filter((s) => s.events > 0)
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.role < b.role ? -1 : 1));
  return { fields, conflicts };
}

async function measureChunk(index: RunIndex, chunk: number): Promise<ChunkStat[]> {
  const events = index.columnsOf(eventsChunk(chunk));
  if (!events) return [];
  const uids = index.indexColumns().find((c) => c.role === 'uids' && events.has(c.name));
  const perUid = index.columnsOf(uidChunk(chunk)) ?? new Map<string, StoredType>();
  const eventMeasures = index.indexColumns().flatMap((c) => eventMeasuresOf(c, events, uids));
  const uidMeasures = index.indexColumns().flatMap((c) => uidMeasuresOf(c, perUid));
  const results = new Map<string, ChunkStat>();
  const add = (m: Measure, values: Record<string, unknown>, i: number) => {
    const key = `${m.role}\u0000${m.path}`;
    let stat = results.get(key);
    if (!stat)
      results.set(
        key,
        (stat = { path: m.path, role: m.role, column: m.column, events: 0, types: {}, conflicts: 0 }),
      );
    if (m.events) stat.events += Number(values[`e${i}`] ?? 0);
    m.types.forEach(([kind], k) => {
      const n = Number(values[`t${i}_${k}`] ?? 0);
      if (n > 0) stat.types[kind] = (stat.types[kind] ?? 0) + n;
    });
    if (m.conflicts) stat.conflicts += Number(values[`c${i}`] ?? 0);
  };
  for (const [table, measures] of [
    [eventsChunk(chunk), eventMeasures],
    [uidChunk(chunk), uidMeasures],
  ] as const) {
    if (!measures.length) continue;
    const selects: Sql[] = [];
    measures.forEach((m, i) => {
      if (m.events) selects.push(sql`${m.events} AS ${ident(`e${i}`)}`);
      m.types.forEach(([, agg], k) => selects.push(sql`${agg} AS ${ident(`t${i}_${k}`)}`));
      if (m.conflicts) selects.push(sql`${m.conflicts} AS ${ident(`c${i}`)}`);
    });
    const [values] = await index.session.all<Record<string, unknown>>(
      sql`SELECT ${join(selects)} FROM ${ident(table)}`.text,
    );
    measures.forEach((m, i) => add(m, values ?? {}, i));
  }
  return [...results.values()];
}

const count = (condition: Sql): Sql => sql`CAST(count(*) FILTER (WHERE ${condition}) AS DOUBLE)`;

/**
 * Counts of a value's kinds, as aggregates over `value` stored as `stored`: `aggregate` turns the
 * condition of one kind into its count (rows, or items of lists).
 */
function kindCounts(
  value: Sql,
  stored: StoredType,
  aggregate: (condition: Sql) => Sql = count,
): [ValueKind, Sql][] {
  const count = aggregate;
  switch (stored) {
    case 'DOUBLE':
      return [
        ['int', count(sql`isfinite(${value}) AND ${value} = trunc(${value})`)],
        ['float', count(sql`isfinite(${value}) AND ${value} <> trunc(${value})`)],
        ['nan', count(sql`NOT isfinite(${value})`)],
      ];
    case 'BOOLEAN':
      return [['bool', count(sql`${value} IS NOT NULL`)]];
    case 'VARCHAR':
      return [['string', count(sql`${value} IS NOT NULL`)]];
    default: {
      const t = sql`json_type(${value})`;
      const number = sql`TRY_CAST(json_extract_string(${value}, '$') AS DOUBLE)`;
      const numeric = sql`${t} IN ('BIGINT', 'UBIGINT', 'DOUBLE')`;
      return [
        ['int', count(sql`${numeric} AND isfinite(${number}) AND ${number} = trunc(${number})`)],
        ['float', count(sql`${numeric} AND isfinite(${number}) AND ${number} <> trunc(${number})`)],
        ['nan', count(sql`${numeric} AND NOT isfinite(${number})`)],
        ['bool', count(sql`${t} = 'BOOLEAN'`)],
        ['string', count(sql`${t} = 'VARCHAR'`)],
        ['null', count(sql`${t} = 'NULL'`)],
        ['list', count(sql`${t} = 'ARRAY'`)],
        ['object', count(sql`${t} = 'OBJECT'`)],
      ];
    }
  }
}

/** Statistics over a chunk's events: scalars, uid-indexed lists, and how often lists are aligned. */
function eventMeasuresOf(
  column: IndexColumn,
  stored: ReadonlyMap<string, StoredType>,
  uidsColumn: IndexColumn | undefined,
): Measure[] {
  const type = stored.get(column.name);
  if (!type) return [];
  const value = ident(column.name);
  const base = { path: column.path, column: column.name };
  if (column.role === 'scalar') {
    const canonical = canonicalOf(column.firstKind);
    return [
      {
        ...base,
        role: 'scalar',
        events: count(sql`${value} IS NOT NULL`),
        types: kindCounts(value, type),
        conflicts: canonical && type !== canonical ? count(conflictSql(value, type, canonical)) : undefined,
      },
    ];
  }
  const list = type.endsWith('[]') ? value : sql`TRY_CAST(${value} AS JSON[])`;
  if (column.role === 'uids' || column.role === 'uid-indexed') {
    const item = itemOf(type.endsWith('[]') ? type : 'JSON[]');
    // Items by kind: each list's items that match, summed over events.
    const items = kindCounts(
      sql`e`,
      item,
      (condition) => sql`CAST(sum(len(list_filter(${list}, e -> ${condition}))) AS DOUBLE)`,
    );
    return [
      {
        ...base,
        role: column.role === 'uids' ? 'per-uid' : 'uid-indexed',
        events: count(sql`${list} IS NOT NULL`),
        types: [...items, ['null', sql`CAST(sum(len(list_filter(${list}, e -> e IS NULL))) AS DOUBLE)`]],
      },
    ];
  }
  const uids = uidsColumn ? sql`TRY_CAST(${ident(uidsColumn.name)} AS DOUBLE[])` : undefined;
  const aligned = uids ? sql`coalesce(len(${list}) = len(${uids}) AND len(${uids}) > 0, false)` : lit(false);
  const other = sql`${list} IS NOT NULL AND NOT ${aligned}`;
  return [
    { ...base, role: 'per-uid', events: count(aligned), types: [] },
    { ...base, role: 'unstored', events: count(other), types: [['list', count(other)]] },
  ];
}

/** Per-uid vectors' item types, over a chunk's per-uid rows. */
function uidMeasuresOf(column: IndexColumn, stored: ReadonlyMap<string, StoredType>): Measure[] {
  if (column.role !== 'list') return [];
  const type = stored.get(column.name);
  if (!type) return [];
  return [
    {
      path: column.path,
      role: 'per-uid',
      column: column.name,
      types: [...kindCounts(ident(column.name), type), ['null', count(sql`${ident(column.name)} IS NULL`)]],
    },
  ];
}
