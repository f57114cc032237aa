import { duckdb, type Dialect } from './dialect.js';
import type { QuerySession } from './session.js';
import { ident, join, sql, trusted, type Sql } from './sql.js';

/**
 * Means that do not depend on the order in which DuckDB's threads combine their partial sums.
 *
 * DuckDB's `avg` (and the Kahan `favg`) of doubles differs in the last bits from run to run on
 * inputs large enough to be read by several threads, so a report of the same run was not the same
 * file twice. Here every finite value is scaled by a power of two and rounded to an integer (the
 * same integer whatever the order), and the integers are summed as HUGEINT, which is exact and so
 * order-free. The scale puts the column's largest magnitude at 2^93: 2^34 rows of such values
 * cannot overflow 127 bits, and a value is kept to 2^-93 of that magnitude (far finer than a
 * double's 2^-53 of the sum).
 */
const TOP_BIT = 93;

/** An expression: typed SQL, or SQL text the program wrote itself (callers not yet on `Sql`). */
export type SqlExpression = Sql | string;

export function expression(expr: SqlExpression): Sql {
  return typeof expr === 'string' ? trusted(expr) : expr;
}

/** The power of two that scales values up to `maxAbs` below 2^93 (0 for an empty column). */
export function meanScale(maxAbs: number | null | undefined): number {
  if (typeof maxAbs !== 'number' || !(maxAbs > 0) || !Number.isFinite(maxAbs)) return 0;
  return TOP_BIT - Math.ceil(Math.log2(maxAbs));
}

/**
 * The mean of the finite values of `expr` (NULL when there are none), exact up to the rounding at
 * `scale` (from meanScale of the column's largest finite magnitude) and the final division.
 */
export function exactMeanSql(expr: SqlExpression, scale: number, dialect: Dialect = duckdb): Sql {
  return dialect.exactMean(expression(expr), scale);
}

/**
 * SQL for the sum of the finite values of `expr` (NULL when there are none), exact up to the
 * rounding at `scale` and the one rounding of the final integer to a double: the same bits
 * whatever order DuckDB's threads add in.
 */
export function exactSumSql(expr: SqlExpression, scale: number, dialect: Dialect = duckdb): Sql {
  return dialect.exactSum(expression(expr), scale);
}

/** The largest finite magnitude of `expr` (the input of meanScale). */
export function maxAbsSql(expr: SqlExpression, dialect: Dialect = duckdb): Sql {
  return dialect.maxAbs(expression(expr));
}

/** `SELECT maxAbs(e0) AS m0, … FROM from`: the magnitudes meanScales reads, in one scan. */
export function maxAbsesSql(
  from: SqlExpression,
  exprs: readonly SqlExpression[],
  dialect: Dialect = duckdb,
): Sql {
  const columns = exprs.map((e, i) => sql`${maxAbsSql(e, dialect)} AS ${ident(`m${i}`)}`);
  return sql`SELECT ${join(columns)} FROM ${expression(from)}`;
}

/** meanScale of each expression over `from` (a relation and its WHERE clause), in one scan. */
export async function meanScales(
  session: QuerySession,
  from: SqlExpression,
  exprs: readonly SqlExpression[],
  dialect: Dialect = duckdb,
): Promise<number[]> {
  if (!exprs.length) return [];
  const row = await session.one<Record<string, number | null>>(maxAbsesSql(from, exprs, dialect).text);
  return exprs.map((_, i) => meanScale(row?.[`m${i}`]));
}
