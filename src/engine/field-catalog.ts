import type { ValueKind } from '../formats/shape.js';
import { canonicalOf, conflictSql, itemOf } from './canonical-sql.js';
import type { IndexColumn } from './index-db.js';
import { eventsChunk } from './index-read.js';
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

/** "int", "float|null", "string|int" — the types a field holds, most common first. */
export function describeTypes(types: Partial<Record<ValueType, number>>): string {
  return Object.entries(types)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([type]) => type)
    .join('|');
}

/** Counts of a value's kinds, as SQL aggregates over `value` stored as `stored` (a scalar or an item). */
function kindCounts(value: Sql, stored: StoredType, count: (condition: Sql) => Sql): [ValueKind, Sql][] {
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
      const number = sql`TRY_CAST(${value} AS DOUBLE)`;
      return [
        ['int', count(sql`${t} IN ('BIGINT', 'UBIGINT') OR (${t} = 'DOUBLE' AND isfinite(${number}) AND ${number} = trunc(${number}))`)],
        ['float', count(sql`${t} = 'DOUBLE' AND isfinite(${number}) AND ${number} <> trunc(${number})`)],
        ['nan', count(sql`${t} = 'DOUBLE' AND NOT isfinite(${number})`)],
        ['bool', count(sql`${t} = 'BOOLEAN'`)],
        ['string', count(sql`${t} = 'VARCHAR'`)],
        ['null', count(sql`${t} = 'NULL'`)],
        ['list', count(sql`${t} = 'ARRAY'`)],
        ['object', count(sql`${t} = 'OBJECT'`)],
      ];
    }
  }
}

interface Measure {
  path: string;
  role: FieldRole;
  /** Aggregate giving the events count. */
  events: Sql;
  types: [ValueKind, Sql][];
  /** Scalars stored in another type than their view type: values that do not fit it. */
  conflicts?: Sql;
  column: string;
}

/**
 * Every field of the run with how it is stored, in how many events it holds a value and which JSON
 * types its values had: SQL over the index's chunks (one scan of each), summed.
 */
export async function fieldCatalog(index: RunIndex): Promise<{ fields: FieldStat[]; conflicts: Map<string, number> }> {
  const stats = new Map<string, FieldStat>();
  const conflicts = new Map<string, number>();
  const chunks = [...new Set(index.chunkParts().map((c) => c.chunk))];
  for (const chunk of chunks) {
    const table = eventsChunk(chunk);
    const stored = index.columnsOf(table);
    if (!stored) continue;
    const uidsColumn = index.indexColumns().find((c) => c.role === 'uids' && stored.has(c.name));
    const measures = index.indexColumns().flatMap((c) => measuresOf(c, stored, uidsColumn));
    if (!measures.length) continue;
    const selects: Sql[] = [];
    measures.forEach((m, i) => {
      selects.push(sql`${m.events} AS ${ident(`e${i}`)}`);
      m.types.forEach(([, agg], k) => selects.push(sql`${agg} AS ${ident(`t${i}_${k}`)}`));
      if (m.conflicts) selects.push(sql`${m.conflicts} AS ${ident(`c${i}`)}`);
    });
    const row = await index.session.allWithLowMemory<Record<string, number | null>>(
      sql`SELECT ${join(selects)} FROM ${ident(table)}`.text,
    );
    const values = row[0] ?? {};
    measures.forEach((m, i) => {
      const events = Number(values[`e${i}`] ?? 0);
      const key = `${m.role}\u0000${m.path}`;
      let stat = stats.get(key);
      if (!stat) stats.set(key, (stat = { path: m.path, role: m.role, events: 0, types: {} }));
      stat.events += events;
      m.types.forEach(([kind], k) => {
        const n = Number(values[`t${i}_${k}`] ?? 0);
        if (n > 0) stat.types[kind] = (stat.types[kind] ?? 0) + n;
      });
      const c = Number(values[`c${i}`] ?? 0);
      if (c > 0) conflicts.set(m.column, (conflicts.get(m.column) ?? 0) + c);
    });
  }
  const fields = [...stats.values()]
    .filter((s) => s.events > 0)
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.role < b.role ? -1 : 1));
  return { fields, conflicts };
}

const asDouble = (value: Sql): Sql => sql`CAST(${value} AS DOUBLE)`;

function measuresOf(
  column: IndexColumn,
  stored: ReadonlyMap<string, StoredType>,
  uidsColumn: IndexColumn | undefined,
): Measure[] {
  const type = stored.get(column.name);
  if (!type) return [];
  const value = ident(column.name);
  const count = (condition: Sql): Sql => asDouble(sql`count(*) FILTER (WHERE ${condition})`);
  if (column.role === 'scalar') {
    const canonical = canonicalOf(column.firstKind);
    return [
      {
        path: column.path,
        role: 'scalar',
        column: column.name,
        events: count(sql`${value} IS NOT NULL`),
        types: kindCounts(value, type, count),
        conflicts: canonical && type !== canonical ? count(conflictSql(value, type, canonical)) : undefined,
      },
    ];
  }
  const list = type.endsWith('[]') ? value : sql`TRY_CAST(${value} AS JSON[])`;
  const item = itemOf(type.endsWith('[]') ? type : 'JSON[]');
  // Items counted by kind: the sum over events of each list's matching items.
  const itemCounts = (where: Sql): [ValueKind, Sql][] =>
    kindCounts(sql`e`, item, (condition) =>
      asDouble(sql`sum(CASE WHEN ${where} THEN len(list_filter(${list}, e -> ${condition})) END)`),
    ).concat([['null', asDouble(sql`sum(CASE WHEN ${where} THEN len(list_filter(${list}, e -> e IS NULL)) END)`)]]);
  if (column.role === 'uids' || column.role === 'uid-indexed') {
    const present = sql`${list} IS NOT NULL`;
    return [
      {
        path: column.path,
        role: column.role === 'uids' ? 'per-uid' : 'uid-indexed',
        column: column.name,
        events: count(present),
        types: itemCounts(present),
      },
    ];
  }
  const uids = uidsColumn ? sql`TRY_CAST(${ident(uidsColumn.name)} AS DOUBLE[])` : undefined;
  const aligned = uids ? sql`len(${list}) = len(${uids}) AND len(${uids}) > 0` : lit(false);
  const other = sql`${list} IS NOT NULL AND NOT coalesce(${aligned}, false)`;
  return [
    {
      path: column.path,
      role: 'per-uid',
      column: column.name,
      events: count(sql`coalesce(${aligned}, false)`),
      types: itemCounts(sql`coalesce(${aligned}, false)`),
    },
    { path: column.path, role: 'unstored', column: column.name, events: count(other), types: [['list', count(other)]] },
  ];
}
