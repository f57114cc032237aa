import { expression, type SqlExpression } from './exact-mean.js';
import { duckdb, type Dialect } from './dialect.js';
import { lit, sql, type Sql } from './sql.js';

/**
 * The reservoir's row key: a 32-bit hash of (seed, file, line, position) that SQL and JS compute
 * bit for bit alike (sampleHash is the JS reference the tests hold the SQL to). A linear
 * combination mod 2^32 followed by a 32-bit integer finaliser (xor-shift-multiply). The constants are
 * below 2^32, so with file, line and position below 2^31 every SQL product fits a BIGINT.
 */
const C_LINE = 0x9e3779b1;
const C_POS = 0x85ebca77;
const C_FILE = 0xc2b2ae3d;
const C_SEED = 0x27d4eb2f;
const MIX = 0x45d9f3b;
const MASK = 0xffffffff;

/** The seed as the unsigned 32-bit value both paths hash. */
export function sampleSeed(seed: number): number {
  return Math.trunc(seed) >>> 0;
}

export function sampleHash(seed: number, file: number, line: number, pos: number): number {
  let k =
    ((Math.imul(line, C_LINE) >>> 0) +
      (Math.imul(pos, C_POS) >>> 0) +
      (Math.imul(file, C_FILE) >>> 0) +
      (Math.imul(seed, C_SEED) >>> 0)) >>>
    0;
  k = Math.imul(k ^ (k >>> 16), MIX) >>> 0;
  k = Math.imul(k ^ (k >>> 16), MIX) >>> 0;
  return (k ^ (k >>> 16)) >>> 0;
}

/**
 * The same hash in DuckDB SQL over BIGINT expressions (`seed` as from sampleSeed). Each term is
 * reduced mod 2^32 before the next product, so no intermediate leaves BIGINT's range.
 */
export function sampleHashSql(
  seed: number,
  file: SqlExpression,
  line: SqlExpression,
  pos: SqlExpression,
  dialect: Dialect = duckdb,
): Sql {
  const mask = lit(MASK);
  const duck = dialect.name === 'duckdb';
  const and = (a: Sql, b: Sql) => (duck ? sql`(${a} & ${b})` : sql`bitAnd(${a}, ${b})`);
  const xor = (a: Sql, b: Sql) => (duck ? sql`xor(${a}, ${b})` : sql`bitXor(${a}, ${b})`);
  const shift16 = (a: Sql) => (duck ? sql`${a} >> 16` : sql`bitShiftRight(${a}, 16)`);
  const term = (expr: SqlExpression, c: number): Sql =>
    and(sql`(CAST(${expression(expr)} AS BIGINT) * ${lit(c)})`, mask);
  const seeded = lit(Math.imul(sampleSeed(seed), C_SEED) >>> 0);
  const k = and(sql`(${term(line, C_LINE)} + ${term(pos, C_POS)} + ${term(file, C_FILE)} + ${seeded})`, mask);
  const round = (x: Sql): Sql => and(sql`(${xor(x, shift16(x))} * ${lit(MIX)})`, mask);
  const k2 = round(round(k));
  return xor(k2, shift16(k2));
}
