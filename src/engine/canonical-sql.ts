import type { ValueKind } from '../formats/shape.js';
import type { StoredType } from './normalize-sql.js';
import { lit, sql, type Sql } from './sql.js';

/**
 * Chunks keep values as DuckDB read them (a field can be read as numbers from one file and as JSON
 * from another); the views show every field in one type, decided by its first value that decides
 * (not null, not empty text): numbers and booleans are DOUBLE (true = 1), text VARCHAR. A value
 * that does not fit is NULL there and counted as a type conflict; empty text is no conflict.
 */
export type Canonical = 'DOUBLE' | 'VARCHAR';

export function canonicalOf(firstKind: ValueKind | undefined): Canonical | undefined {
  switch (firstKind) {
    case 'int':
    case 'float':
    case 'nan':
    case 'bool':
      return 'DOUBLE';
    case 'string':
      return 'VARCHAR';
    default:
      return undefined;
  }
}

/** The element type of a stored list type. */
export function itemOf(stored: StoredType): StoredType {
  return stored.endsWith('[]') ? (stored.slice(0, -2) as StoredType) : 'JSON';
}

/** A stored scalar (or list item) as the canonical type. */
export function toCanonical(value: Sql, stored: StoredType, canonical: Canonical): Sql {
  return canonical === 'DOUBLE' ? toDouble(value, stored) : toText(value, stored);
}

function toDouble(value: Sql, stored: StoredType): Sql {
  switch (stored) {
    case 'DOUBLE':
      return value;
    case 'BOOLEAN':
      return sql`CAST(${value} AS DOUBLE)`;
    case 'VARCHAR':
      return sql`TRY_CAST(NULLIF(trim(${value}), '') AS DOUBLE)`;
    case 'JSON':
      // TRY_CAST in every branch: DuckDB may evaluate a branch over rows another one takes.
      return sql`(CASE json_type(${value})
        WHEN 'VARCHAR' THEN TRY_CAST(NULLIF(trim(json_extract_string(${value}, '$')), '') AS DOUBLE)
        WHEN 'BOOLEAN' THEN (CASE json_extract_string(${value}, '$') WHEN 'true' THEN 1.0 ELSE 0.0 END)
        WHEN 'DOUBLE' THEN TRY_CAST(json_extract_string(${value}, '$') AS DOUBLE)
        WHEN 'BIGINT' THEN TRY_CAST(json_extract_string(${value}, '$') AS DOUBLE)
        WHEN 'UBIGINT' THEN TRY_CAST(json_extract_string(${value}, '$') AS DOUBLE) END)`;
    default:
      return sql`CAST(NULL AS DOUBLE)`;
  }
}

function toText(value: Sql, stored: StoredType): Sql {
  switch (stored) {
    case 'VARCHAR':
      return value;
    case 'DOUBLE':
      return sql`CAST(${value} AS VARCHAR)`;
    case 'BOOLEAN':
      return sql`(CASE WHEN ${value} THEN '1' WHEN NOT ${value} THEN '0' END)`;
    case 'JSON':
      return sql`(CASE json_type(${value}) WHEN 'VARCHAR' THEN json_extract_string(${value}, '$')
        WHEN 'NULL' THEN NULL WHEN 'ARRAY' THEN NULL WHEN 'OBJECT' THEN NULL ELSE CAST(${value} AS VARCHAR) END)`;
    default:
      return sql`CAST(NULL AS VARCHAR)`;
  }
}

/**
 * Whether a stored value counts as a type conflict in the canonical type: present, not empty text,
 * and not convertible.
 */
export function conflictSql(value: Sql, stored: StoredType, canonical: Canonical): Sql {
  const converted = toCanonical(value, stored, canonical);
  const empty =
    stored === 'VARCHAR'
      ? sql`${value} = ''`
      : stored === 'JSON'
        ? sql`(json_type(${value}) = 'NULL' OR (json_type(${value}) = 'VARCHAR' AND json_extract_string(${value}, '$') = ''))`
        : lit(false);
  return sql`(${value} IS NOT NULL AND NOT ${empty} AND ${converted} IS NULL)`;
}

/** A stored list column as a list of JSON values, whatever it was read as. */
export function asList(value: Sql, stored: StoredType): Sql {
  return stored.endsWith('[]') ? value : sql`TRY_CAST(${value} AS JSON[])`;
}
