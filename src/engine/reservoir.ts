import { expression, type SqlExpression } from './exact-mean.js';
import { duckdb, fromWhere, type Dialect } from './dialect.js';
import type { QueryableRun } from './queryable.js';
import { columnsOverX } from './answers.js';
import { inSpan, runSpans, type XSpan } from './range-state.js';
import { sampleHashSql, sampleSeed } from './sample-hash.js';
import { and, ident, join, lit, sql, type Sql } from './sql.js';

export interface ReservoirOptions {
  /** At most this many rows (default 10 000). */
  size?: number;
  seed?: number;
  table?: 'events' | 'uid_events';
  columns: readonly string[];
  /** A filter over the table's columns (typed SQL, or SQL text the program wrote). */
  where?: SqlExpression;
  /**
   * `where` holds only rows with an x (x IS NOT NULL): the sample is then drawn range of x by
   * range of x, each range's answer kept while its rows stay the same (columnsOverX), so a look
   * after an append draws again only from the ranges it reached. The same sample either way.
   */
  overX?: boolean;
  /** Rows per range of x at most, about (RANGE_ROWS). */
  pieceRows?: number;
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
const POS_NAME = '__runlens_pos';
const POS = ident(POS_NAME);
const KEY_NAME = '__runlens_key';
const KEY = ident(KEY_NAME);
const FILE_NAME = '__runlens_file';
const FILE = ident(FILE_NAME);
const REC_NAME = '__runlens_rec';
const REC = ident(REC_NAME);

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
  const { selected, position, key, d } = sampleParts(options);
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
 * reservoirSql over the rows with x in [span.from, span.to), with each row's key, file, rec and
 * position (so samples of several ranges merge: mergeSamples).
 */
export function reservoirRangeSql(options: ReservoirSql, span: XSpan): Sql {
  const { selected, position, key, d } = sampleParts(options);
  return join(
    [
      sql`SELECT ${selected}, ${key} AS ${KEY}, file_id AS ${FILE}, rec AS ${REC}, ${position} AS ${POS}`,
      fromWhere(d, options.table, inSpan(options.where, span)),
      sql`ORDER BY ${KEY}, ${ident('ord')}, ${POS} LIMIT ${lit(Math.max(0, Math.floor(options.size)))}`,
    ],
    ' ',
  );
}

/** A sample's columns, each row's position in its event (0 for events) and its sample key. */
function sampleParts(options: ReservoirSql): { selected: Sql; position: Sql; key: Sql; d: Dialect } {
  if (!options.columns.length) throw new Error('a reservoir sample needs at least one column');
  const position = options.table === 'uid_events' ? ident('pos') : lit(0);
  const d = options.dialect ?? duckdb;
  return {
    selected: join(options.columns.map((c) => ident(c))),
    position,
    key: sampleHashSql(options.seed, ident('file_id'), ident('line'), position, d),
    d,
  };
}

/**
 * The `size` rows with the smallest (key, row order) of the ranges' samples, in row order: the
 * sample of all their rows. Row order is the file order now (`firstOrd`), whenever each range was
 * drawn.
 */
export function mergeSamples(
  parts: readonly Record<string, unknown[]>[],
  columns: readonly string[],
  size: number,
  firstOrd: ReadonlyMap<number, number>,
): Record<string, unknown[]> {
  const rows: { part: number; i: number; key: number; ord: number; pos: number }[] = [];
  parts.forEach((part, p) => {
    const keys = part[KEY_NAME] ?? [];
    for (let i = 0; i < keys.length; i++)
      rows.push({
        part: p,
        i,
        key: Number(keys[i]),
        ord: (firstOrd.get(Number(part[FILE_NAME][i])) ?? 0) + Number(part[REC_NAME][i]),
        pos: Number(part[POS_NAME][i]),
      });
  });
  const byOrder = (a: (typeof rows)[number], b: (typeof rows)[number]) => a.ord - b.ord || a.pos - b.pos;
  const kept = rows
    .sort((a, b) => a.key - b.key || byOrder(a, b))
    .slice(0, size)
    .sort(byOrder);
  return Object.fromEntries(columns.map((c) => [c, kept.map((r) => parts[r.part][c][r.i])]));
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
  const rows = table === 'uid_events' ? run.ingest.uidRows : run.ingest.rows;
  const spans = options.overX ? await runSpans(run, rows, options.pieceRows) : undefined;
  if (spans) return sampleByRanges(run, options, spans, { table, size, seed });
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

async function sampleByRanges(
  run: QueryableRun,
  options: ReservoirOptions,
  spans: readonly XSpan[],
  common: { table: ReservoirSql['table']; size: number; seed: number },
): Promise<ReservoirSample> {
  const query: ReservoirSql = {
    ...common,
    columns: options.columns,
    where: options.where,
    dialect: run.dialect,
  };
  const files = await run.session.all<{ file_id: number; first_ord: number }>(
    'SELECT file_id, CAST(first_ord AS DOUBLE) AS first_ord FROM files',
  );
  const firstOrd = new Map(files.map((f) => [Number(f.file_id), f.first_ord]));
  // Merged range by range (the smallest keys of the smallest keys are the smallest keys): at most
  // two ranges' samples are held at once, not one per range.
  const held = [...options.columns, KEY_NAME, FILE_NAME, REC_NAME, POS_NAME];
  let total = 0;
  let merged: Record<string, unknown[]> | undefined;
  for (const span of spans) {
    const where = inSpan(options.where, span);
    const population = await columnsOverX(
      run.answers,
      populationSql(common.table, where.length ? and(where) : undefined, run.dialect).text,
      span,
    );
    total += Number(population.n?.[0] ?? 0);
    const part = await columnsOverX(run.answers, reservoirRangeSql(query, span).text, span);
    merged = mergeSamples(merged ? [merged, part] : [part], held, common.size, firstOrd);
  }
  const columns = Object.fromEntries(options.columns.map((c) => [c, merged?.[c] ?? []]));
  const taken = (Object.values(columns)[0] ?? []).length;
  return { population: total, columns, size: taken, ratio: total === 0 ? 0 : taken / total };
}
