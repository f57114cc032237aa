/**
 * SQL text built from typed parts: identifiers and literals are quoted here, once, and a `sql`
 * template only takes other SQL parts as values, so no field name or user value reaches a query
 * unquoted. Field names are dotted paths (`rewards.components.heal`) and may differ only in case
 * (`Loss` and `loss`): identifiers are always quoted, which DuckDB treats as exact names.
 */
export class Sql {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

export type SqlValue = Sql | readonly Sql[];

/** `sql\`SELECT ${ident(c)} FROM t\``: a fragment whose values are SQL parts (arrays are joined by ", "). */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): Sql {
  let text = strings[0];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Array.isArray(value)) text += join(value).text;
    else if (value instanceof Sql) text += value.text;
    else throw new TypeError(`sql: value ${i} is not SQL (${typeof value}); wrap it with ident() or lit()`);
    text += strings[i + 1];
  }
  return new Sql(text);
}

/** A quoted identifier: `"rewards.total"`, `"a""b"`. */
export function ident(name: string): Sql {
  if (name.includes('\u0000'))
    throw new Error(`an identifier cannot hold a NUL byte: ${JSON.stringify(name)}`);
  return new Sql(`"${name.replaceAll('"', '""')}"`);
}

/** `alias.column`, both quoted. */
export function qualified(alias: string, name: string): Sql {
  return new Sql(`${ident(alias).text}.${ident(name).text}`);
}

/**
 * A literal: text quoted ('it''s'), finite numbers as written by JS (exactly the double), non-finite
 * numbers as DOUBLE casts, booleans, NULL, bigints.
 */
export function lit(value: string | number | boolean | bigint | null): Sql {
  if (value === null) return new Sql('NULL');
  switch (typeof value) {
    case 'string':
      if (value.includes('\u0000')) throw new Error('a text literal cannot hold a NUL byte');
      return new Sql(`'${value.replaceAll("'", "''")}'`);
    case 'boolean':
      return new Sql(value ? 'true' : 'false');
    case 'bigint':
      return new Sql(value.toString());
    case 'number':
      if (Number.isNaN(value)) return new Sql("CAST('NaN' AS DOUBLE)");
      if (value === Infinity) return new Sql("CAST('Infinity' AS DOUBLE)");
      if (value === -Infinity) return new Sql("CAST('-Infinity' AS DOUBLE)");
      // Negative literals are parenthesised so that `x - ${lit(-1)}` stays `x - (-1)`.
      return new Sql(value < 0 || Object.is(value, -0) ? `(${String(value)})` : String(value));
  }
}

/** A list literal `[a, b, c]` of literals. */
export function litList(values: readonly (string | number | boolean | null)[]): Sql {
  return new Sql(`[${values.map((v) => lit(v).text).join(', ')}]`);
}

/** Parts joined by a separator (", " by default). */
export function join(parts: readonly Sql[], separator = ', '): Sql {
  return new Sql(parts.map((p) => p.text).join(separator));
}

/**
 * SQL written by the program itself (a keyword, a type name from a fixed set) or given by the user
 * on purpose as SQL (`export --where`). Never for names or values read from a log.
 */
export function trusted(text: string): Sql {
  return new Sql(text);
}

/** The DuckDB types the index stores and declares. */
export const SQL_TYPES = [
  'DOUBLE',
  'BIGINT',
  'INTEGER',
  'BOOLEAN',
  'VARCHAR',
  'JSON',
  'DOUBLE[]',
  'BIGINT[]',
  'BOOLEAN[]',
  'VARCHAR[]',
  'JSON[]',
] as const;
export type SqlType = (typeof SQL_TYPES)[number];

/** A type name from the fixed set (struct types are built by `structType`). */
export function sqlType(type: SqlType): Sql {
  if (!SQL_TYPES.includes(type)) throw new Error(`not a type runlens declares: ${type}`);
  return new Sql(type);
}

/** `STRUCT("a" DOUBLE, "b" STRUCT(...))` from named member types. */
export function structType(members: readonly { name: string; type: Sql }[]): Sql {
  return new Sql(`STRUCT(${members.map((m) => `${ident(m.name).text} ${m.type.text}`).join(', ')})`);
}

/** `CAST(expr AS type)` */
export function cast(expr: Sql, type: SqlType): Sql {
  return sql`CAST(${expr} AS ${sqlType(type)})`;
}

/** `a AND b AND …` (true when empty). */
export function and(conditions: readonly Sql[]): Sql {
  return conditions.length ? new Sql(conditions.map((c) => `(${c.text})`).join(' AND ')) : new Sql('true');
}
