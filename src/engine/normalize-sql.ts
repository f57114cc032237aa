import { FLAT_RL_PATHS, UID_INDEXED_KEYS } from '../formats/profile.js';
import { declaredType, type Declared, type Shape, type ValueKind } from '../formats/shape.js';
import { ident, join, lit, litList, sql, structType, trusted, type Sql } from './sql.js';

/**
 * The normalisation as SQL: which columns a read declares (from the probed shape) and how each
 * normalised column is computed from what DuckDB read. One record becomes one row: nested keys
 * become dotted paths, loguru lines are unwrapped to `record.extra` (loguru's time is `_timestamp`
 * when the event has none), old flat RL records are renamed to the nested paths, and lists stay
 * lists (the index unnests per-uid vectors into rows of their own, see uidChunkSql).
 */

/** How a normalised column is stored in a chunk: as DuckDB read it. */
export type StoredType =
  'DOUBLE' | 'BOOLEAN' | 'VARCHAR' | 'JSON' | 'DOUBLE[]' | 'BOOLEAN[]' | 'VARCHAR[]' | 'JSON[]';

/** What a column is for: one value per event, the uids, a list indexed by uid, or another list. */
export type ColumnRole = 'scalar' | 'uids' | 'uid-indexed' | 'list';

export interface OutputColumn {
  /** The field's dotted path (what inspect shows). */
  path: string;
  role: ColumnRole;
  stored: StoredType;
  /** Kind of the first value that decides a type (not null, not empty text); of the items for lists. */
  firstKind: ValueKind | undefined;
  /** SQL over the read's row `src`. */
  expr: Sql;
}

export interface ReadShape {
  /** Merged shape of the group's events (after the loguru unwrap). */
  event: Shape;
  loguru: boolean;
}

/** A step from a value to one of its members. */
type Access = (parent: Sql, key: string) => Sql;
const structMember: Access = (parent, key) => sql`struct_extract(${parent}, ${lit(key)})`;
const jsonMember: Access = (parent, key) => sql`json_extract(${parent}, ${lit(jsonPath(key))})`;

/** A JSON path selecting one member by its exact name. */
function jsonPath(key: string): string {
  return `$.${JSON.stringify(key)}`;
}

function storedOf(declared: Declared): StoredType {
  if (declared.type === 'LIST') return `${declared.item}[]`;
  if (declared.type === 'STRUCT') return 'JSON';
  return declared.type;
}

function sqlTypeOf(declared: Declared): Sql {
  switch (declared.type) {
    case 'STRUCT':
      return structType([...declared.fields].map(([name, d]) => ({ name, type: sqlTypeOf(d) })));
    case 'LIST':
      return trusted(`${declared.item}[]`);
    default:
      return trusted(declared.type);
  }
}

/** Members of an object shape whose names collide when case is ignored (DuckDB cannot declare both). */
export function caseCollisions(shape: Shape): boolean {
  const seen = new Set<string>();
  for (const key of shape.fields?.keys() ?? []) {
    const lower = key.toLowerCase();
    if (seen.has(lower)) return true;
    seen.add(lower);
  }
  return false;
}

/** The shape declared for reading: objects whose members collide in case are read as JSON. */
function declareForRead(shape: Shape): Declared {
  const declared = declaredType(shape);
  if (declared.type !== 'STRUCT') return declared;
  if (caseCollisions(shape)) return { type: 'JSON' };
  return {
    type: 'STRUCT',
    fields: new Map([...shape.fields!].map(([key, field]) => [key, declareForRead(field)])),
  };
}

/** Records whose top-level keys collide in case are read whole, as one JSON value in this column. */
export const RECORD_COLUMN = '__record';

/**
 * The `columns = {…}` of a typed read: the top-level keys of the records as DuckDB will see them
 * (the loguru wrapper around the event for loguru lines), or when the records' top-level keys
 * collide in case, the whole record as JSON (RECORD_COLUMN). Undefined for records without keys.
 */
export function declaredColumns(read: ReadShape): Sql | undefined {
  if (caseCollisions(read.event)) return sql`{${lit(RECORD_COLUMN)}: 'JSON'}`;
  const eventFields = [...(read.event.fields ?? [])].map(([name, field]) => ({
    name,
    type: sqlTypeOf(declareForRead(field)),
  }));
  const top = read.loguru
    ? [
        {
          name: 'record',
          type: structType([
            {
              name: 'extra',
              type: structType(eventFields.length ? eventFields : [{ name: '_', type: trusted('JSON') }]),
            },
            { name: 'time', type: structType([{ name: 'timestamp', type: trusted('DOUBLE') }]) },
          ]),
        },
      ]
    : eventFields;
  if (!top.length) return undefined;
  return sql`{${join(top.map((c) => sql`${lit(c.name)}: ${lit(c.type.text)}`))}}`;
}

/**
 * The normalised columns of a typed read of records of this shape, each an expression over the
 * read's row `src`. Old flat RL keys feed the nested paths in rows that are flat RL records.
 */
export function outputColumns(read: ReadShape): OutputColumn[] {
  const whole = caseCollisions(read.event);
  const record = sql`${ident('src')}.${ident(RECORD_COLUMN)}`;
  const root = whole
    ? read.loguru
      ? jsonMember(jsonMember(record, 'record'), 'extra')
      : record
    : read.loguru
      ? structMember(structMember(ident('src'), 'record'), 'extra')
      : undefined;
  const top = (key: string): Sql =>
    whole ? jsonMember(root!, key) : root ? structMember(root, key) : sql`${ident('src')}.${ident(key)}`;
  const byPath = new Map<string, OutputColumn & { sources: Sql[] }>();
  const add = (path: string, role: ColumnRole, declared: Declared, shape: Shape, expr: Sql): void => {
    const stored = storedOf(declared);
    const known = byPath.get(path);
    if (known) {
      if (known.stored === stored) known.sources.push(expr);
      return; // two sources of one path with different types: the nested one (first) wins
    }
    byPath.set(path, {
      path,
      role,
      stored,
      firstKind: role === 'scalar' ? shape.first : shape.items?.first,
      expr,
      sources: [expr],
    });
  };
  const walk = (shape: Shape, declared: Declared, keys: string[], value: Sql): void => {
    const path = keys.join('.');
    if (declared.type === 'STRUCT') {
      for (const [key, field] of shape.fields ?? []) {
        const child = declared.fields.get(key);
        if (child) walk(field, child, [...keys, key], structMember(value, key));
      }
      return;
    }
    if (declared.type === 'JSON' && shape.fields && (shape.kinds.object ?? 0) > 0 && keys.length > 0) {
      // An object read as JSON (members colliding in case): its members by exact name.
      for (const [key, field] of shape.fields) walkJson(field, [...keys, key], jsonMember(value, key));
      return;
    }
    const list = declared.type === 'LIST' || (declared.type === 'JSON' && (shape.kinds.list ?? 0) > 0);
    add(path, roleOf(keys, list), declared, shape, value);
  };
  const roleOf = (keys: readonly string[], list: boolean): ColumnRole => {
    if (!list) return 'scalar';
    if (keys.length === 1 && keys[0] === 'uids') return 'uids';
    if (keys.length === 1 && UID_INDEXED_KEYS.has(keys[0])) return 'uid-indexed';
    return 'list';
  };
  const walkJson = (shape: Shape, keys: string[], value: Sql): void => {
    if (shape.fields && (shape.kinds.object ?? 0) > 0) {
      for (const [key, field] of shape.fields) walkJson(field, [...keys, key], jsonMember(value, key));
      return;
    }
    add(keys.join('.'), roleOf(keys, (shape.kinds.list ?? 0) > 0), { type: 'JSON' }, shape, value);
  };
  if (whole) for (const [key, field] of read.event.fields ?? []) walkJson(field, [key], top(key));
  else {
    const declared = declareForRead(read.event);
    if (declared.type !== 'STRUCT') return [];
    for (const [key, field] of read.event.fields ?? [])
      walk(field, declared.fields.get(key)!, [key], top(key));
    renameFlatRl(declared, top, byPath);
  }
  if (read.loguru) {
    const loguruTime = whole
      ? sql`TRY_CAST(json_extract_string(${record}, '$.record.time.timestamp') AS DOUBLE)`
      : structMember(structMember(structMember(ident('src'), 'record'), 'time'), 'timestamp');
    const own = byPath.get('_timestamp');
    if (own && own.stored === 'DOUBLE') own.sources.push(loguruTime);
    else if (!own)
      byPath.set('_timestamp', {
        path: '_timestamp',
        role: 'scalar',
        stored: 'DOUBLE',
        firstKind: 'float',
        expr: loguruTime,
        sources: [loguruTime],
      });
  }
  return [...byPath.values()].map(({ sources, ...column }) => ({
    ...column,
    expr: sources.length === 1 ? sources[0] : sql`coalesce(${sources})`,
  }));
}

/**
 * Old flat RL records (`x`, `y`, `map` numbers and no `position`) name their fields the old way;
 * their values go to the nested paths (`x` → `position.x`, `hp` → `player_status.health`, …) in
 * rows that are flat records, and stay under the old names in rows that are not.
 */
function renameFlatRl(
  declared: Extract<Declared, { type: 'STRUCT' }>,
  top: (key: string) => Sql,
  byPath: Map<string, OutputColumn & { sources: Sql[] }>,
): void {
  const numeric = (key: string): boolean => declared.fields.get(key)?.type === 'DOUBLE';
  if (!numeric('x') || !numeric('y') || !numeric('map')) return;
  const position = declared.fields.has('position') ? top('position') : undefined;
  const flat = sql`(${top('map')} IS NOT NULL AND ${top('x')} IS NOT NULL AND ${top('y')} IS NOT NULL${
    position ? sql` AND ${position} IS NULL` : trusted('')
  })`;
  for (const [key, target] of Object.entries(FLAT_RL_PATHS)) {
    const old = byPath.get(key);
    if (!old || old.role === 'uids' || old.role === 'uid-indexed') continue;
    const oldValue = old.sources.length === 1 ? old.sources[0] : sql`coalesce(${old.sources})`;
    old.sources = [sql`CASE WHEN NOT ${flat} THEN ${oldValue} END`];
    const renamed = sql`CASE WHEN ${flat} THEN ${oldValue} END`;
    const nested = byPath.get(target);
    if (nested) {
      if (nested.stored === old.stored) nested.sources.push(renamed);
    } else {
      byPath.set(target, {
        path: target,
        role: old.role,
        stored: old.stored,
        firstKind: old.firstKind,
        expr: renamed,
        sources: [renamed],
      });
    }
  }
}

/** read_json of files in one layout, the columns declared (records read whole as JSON: see RECORD_COLUMN). */
export function typedRead(
  files: readonly string[],
  layout: 'jsonl' | 'array',
  columns: Sql,
  options: { multiple: boolean },
): Sql {
  const format = layout === 'jsonl' ? 'newline_delimited' : 'array';
  const records = columns.text.includes(lit(RECORD_COLUMN).text) ? 'false' : 'true';
  return sql`read_json(${litList(files)}, format = ${lit(format)}, columns = ${columns}, records = ${trusted(records)}, filename = true${
    options.multiple ? trusted(', union_by_name = true') : trusted('')
  })`;
}

/** A path of member names as a JSON path (`$."a"."b"`). */
export function jsonPathOf(keys: readonly string[]): string {
  return `$${keys.map((k) => `.${JSON.stringify(k)}`).join('')}`;
}

/**
 * Every record read whole as JSON: the event (`record.extra` of loguru lines) in column `e`, its
 * file in `f`. DuckDB parses each record in full here, which reading declared columns does not need.
 */
export function wholeRecords(files: readonly string[], layout: 'jsonl' | 'array', loguru: boolean): Sql {
  const format = layout === 'jsonl' ? 'newline_delimited' : 'array';
  const j = ident('j');
  const event = loguru ? sql`json_extract(${j}, '$.record.extra')` : j;
  return sql`(SELECT ${event} AS e, filename AS f FROM read_json(${litList(files)}, format = ${lit(format)}, records = false, columns = {'j': 'JSON'}, filename = true))`;
}

/** The distinct member-name lists of the records' objects at each path (the root first). */
export function memberKeysSql(records: Sql, objects: readonly (readonly string[])[]): Sql {
  // One path list: each record is parsed once (a call per path parsed it once per object).
  const paths = litList(['$', ...objects.map(jsonPathOf)]);
  return sql`SELECT DISTINCT ${ident('f')}, json_keys(${ident('e')}, ${paths}) AS k FROM ${records}`;
}

/** Up to `limit` values (as JSON text) at a member path of the records. */
export function memberValuesSql(records: Sql, path: readonly string[], limit: number): Sql {
  const value = sql`json_extract(${ident('e')}, ${lit(jsonPathOf(path))})`;
  return sql`SELECT CAST(${value} AS VARCHAR) AS v FROM ${records} WHERE ${value} IS NOT NULL LIMIT ${lit(limit)}`;
}
