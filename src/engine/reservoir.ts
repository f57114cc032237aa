import { expression, type SqlExpression } from './exact-mean.js';
import { duckdb, fromWhere, type Dialect } from './dialect.js';
import type { QueryableRun } from './queryable.js';
import { sampleHashSql, sampleSeed } from './sample-hash.js';
import { ident, join, lit, sql, type Sql } from './sql.js';

export interface ReservoirOptions {
  /** At most this many rows (default 10 000). */
  size?: number;
  seed?: number;
  table?: 'events' | 'uid_events';
  columns: readonly string[];
  /** A filter over the table's columns (typed SQL, or SQL text the program wrote). */
  where?: SqlExpression;
}

export interface ReservoirSample {
  /** Rows eligible for the sample (after `where`). */
  population: number;
  /** Column-major sample, in row order (ord, then uid position). */
  columns: Record<string, unknown[]>;
  size: number;
  /** size ÷ population. */
  ratio: number;
}

export interface ReservoirSql {
  table: 'events' | 'uid_events';
  columns: readonly string[];
  where?: SqlExpression;
  size: number;
  seed: number;
  dialect?: Dialect;
}

const ORD = ident('__runlens_ord');
const POS = ident('__runlens_pos');

function fromOf(d: Dialect, table: ReservoirSql['table'], where: SqlExpression | undefined): Sql {
  return fromWhere(d, table, where === undefined ? [] : [expression(where)]);
}

/** The rows eligible for the sample. */
export function populationSql(table: ReservoirSql['table'], where?: SqlExpression, d: Dialect = duckdb): Sql {
  return sql`SELECT CAST(count(*) AS DOUBLE) AS n ${fromOf(d, table, where)}`;
}

/**
 * The `size` eligible rows with the smallest sampleHash(seed, file, line, position) (ties, which a
 * 32-bit key has, broken by row order), returned in row order.
 */
export function reservoirSql(options: ReservoirSql): Sql {
  if (!options.columns.length) throw new Error('a reservoir sample needs at least one column');
  const selected = join(options.columns.map((c) => ident(c)));
  const position = options.table === 'uid_events' ? ident('pos') : lit(0);
  const d = options.dialect ?? duckdb;
  const key = sampleHashSql(options.seed, ident('file_id'), ident('line'), position, d);
  return join(
    [
      sql`SELECT ${selected} FROM (SELECT ${selected}, ${ident('ord')} AS ${ORD}, ${position} AS ${POS}`,
      fromOf(d, options.table, options.where),
      sql`ORDER BY ${key}, ${ORD}, ${POS} LIMIT ${lit(Math.max(0, Math.floor(options.size)))})`,
      sql`ORDER BY ${ORD}, ${POS}`,
    ],
    ' ',
  );
}

/**
 * A seeded uniform sample of at most N rows over all rows of all files: every row gets a key from
 * a hash of (seed, file, line, position) and the N smallest keys win. Each row is equally likely
 * whatever the file sizes, the result does not depend on read order or threads, and the same seed
 * gives the same sample.
 */
export async function reservoirSample(
  run: QueryableRun,
  options: ReservoirOptions,
): Promise<ReservoirSample> {
  const table = options.table ?? 'events';
  const size = options.size ?? 10_000;
  const seed = sampleSeed(options.seed ?? 0);
  const population = await run.answers.one<{ n: number }>(
    populationSql(table, options.where, run.dialect).text,
  );
  const columns = await run.answers.columns(
    reservoirSql({ table, columns: options.columns, where: options.where, size, seed, dialect: run.dialect })
      .text,
  );
  const total = population?.n ?? 0;
  const taken = (Object.values(columns)[0] ?? []).length;
  return { population: total, columns, size: taken, ratio: total === 0 ? 0 : taken / total };
}
