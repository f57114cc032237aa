import type { Session } from './session.js';
import { ident, join, lit, sql, trusted, type Sql } from './sql.js';

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

/** `x · 2^power` in two exact steps: the scale reaches ±1100 for magnitudes near 1e-308 or 1e308. */
function timesPowerOfTwo(x: Sql, power: number): Sql {
  const half = Math.trunc(power / 2) || 0;
  return sql`((${x} * pow(2.0, ${lit(power - half)})) * pow(2.0, ${lit(half)}))`;
}

/**
 * The mean of the finite values of `expr` (NULL when there are none), exact up to the rounding at
 * `scale` (from meanScale of the column's largest finite magnitude) and the final division.
 */
export function exactMeanSql(expr: SqlExpression, scale: number): Sql {
  const value = sql`CAST(${expression(expr)} AS DOUBLE)`;
  const filter = sql`FILTER (WHERE isfinite(${value}))`;
  // The CASE, not only the FILTER, keeps NaN out of the cast: DuckDB casts before it filters.
  const scaled = sql`CASE WHEN isfinite(${value}) THEN CAST(round(${timesPowerOfTwo(value, scale)}) AS HUGEINT) END`;
  const sum = sql`sum(${scaled}) ${filter}`;
  const count = sql`count(${value}) ${filter}`;
  // Quotient and remainder in integers first: the mean of equal values is that value exactly.
  return timesPowerOfTwo(
    sql`(CAST(${sum} // ${count} AS DOUBLE) + CAST(${sum} % ${count} AS DOUBLE) / ${count})`,
    -scale,
  );
}

/**
 * SQL for the sum of the finite values of `expr` (NULL when there are none), exact up to the
 * rounding at `scale` and the one rounding of the final integer to a double: the same bits
 * whatever order DuckDB's threads add in.
 */
export function exactSumSql(expr: SqlExpression, scale: number): Sql {
  const value = sql`CAST(${expression(expr)} AS DOUBLE)`;
  const scaled = sql`CASE WHEN isfinite(${value}) THEN CAST(round(${timesPowerOfTwo(value, scale)}) AS HUGEINT) END`;
  return timesPowerOfTwo(sql`CAST(sum(${scaled}) AS DOUBLE)`, -scale);
}

/** The largest finite magnitude of `expr` (the input of meanScale). */
export function maxAbsSql(expr: SqlExpression): Sql {
  const value = sql`CAST(${expression(expr)} AS DOUBLE)`;
  return sql`max(abs(${value})) FILTER (WHERE isfinite(${value}))`;
}

/** `SELECT maxAbs(e0) AS m0, … FROM from`: the magnitudes meanScales reads, in one scan. */
export function maxAbsesSql(from: SqlExpression, exprs: readonly SqlExpression[]): Sql {
  const columns = exprs.map((e, i) => sql`${maxAbsSql(e)} AS ${ident(`m${i}`)}`);
  return sql`SELECT ${join(columns)} FROM ${expression(from)}`;
}

/** meanScale of each expression over `from` (a relation and its WHERE clause), in one scan. */
export async function meanScales(
  session: Session,
  from: SqlExpression,
  exprs: readonly SqlExpression[],
): Promise<number[]> {
  if (!exprs.length) return [];
  const row = await session.one<Record<string, number | null>>(maxAbsesSql(from, exprs).text);
  return exprs.map((_, i) => meanScale(row?.[`m${i}`]));
}
