import type { BinnedSeries } from './binned-stats.js';
import { binIndexSql, binSpec, type BinSpec } from './bins.js';
import { exactMeanSql, meanScales } from './exact-mean.js';
import { duckdb, fromWhere, type Dialect } from './dialect.js';
import type { QueryableRun } from './queryable.js';
import { ident, join, sql, type Sql } from './sql.js';

const BLOCK = ident('block');
const TIME = ident('_timestamp');
const ORD = ident('ord');
const BAND = [0.1, 0.9];

/** A field as DOUBLE (a text `block` or `_timestamp` that is not a number becomes NULL). */
function number(column: Sql, d: Dialect, numeric: boolean): Sql {
  if (d.name === 'duckdb') return sql`TRY_CAST(${column} AS DOUBLE)`;
  // A fleet's column is Float64 or String (a field's first type): parsed only when text.
  return numeric ? d.double(column) : sql`toFloat64OrNull(${column})`;
}

/** Whether the run's block and _timestamp are numbers (a fleet parses them when text). */
export interface BlockColumns {
  blockNumeric: boolean;
  timeNumeric: boolean;
}

const NUMERIC: BlockColumns = { blockNumeric: true, timeNumeric: true };

/**
 * Each block's duration, as rows (ord, x = block, d = seconds per block): over events in row
 * order with a finite block and _timestamp, each run of one block starts at its first timestamp;
 * its duration is the time to the next run's start divided by the blocks advanced (runs that do
 * not move forward in both block and time have none).
 */
export function blockDurationRowsSql(d: Dialect = duckdb, types: BlockColumns = NUMERIC): Sql {
  const b = ident('b');
  const t = ident('t');
  const previous = ident('previous');
  const nextBlock = ident('next_block');
  const nextTime = ident('next_t');
  const block = number(BLOCK, d, types.blockNumeric);
  const time = number(TIME, d, types.timeNumeric);
  const timed = sql`SELECT ${ORD}, ${block} AS ${b}, ${time} AS ${t} ${fromWhere(d, 'events', [d.isFinite(block), d.isFinite(time)])}`;
  if (d.name === 'clickhouse')
    // No window functions before ClickHouse 21: the events in row order as one sorted array, the
    // starts of block runs filtered from it, each start paired with the next.
    return join(
      [
        sql`SELECT e.1 AS ${ORD}, e.2 AS ${ident('x')}, (n.3 - e.3) / (n.2 - e.2) AS ${ident('d')} FROM (`,
        sql`SELECT arrayFilter((v, i) -> i = 1 OR v.2 != a[i - 1].2, a, arrayEnumerate(a)) AS s FROM (`,
        sql`SELECT arraySort(v -> v.1, groupArray((${ORD}, ${b}, ${t}))) AS a FROM (${timed})))`,
        sql`ARRAY JOIN arrayPopBack(s) AS e, arrayPopFront(s) AS n WHERE n.2 > e.2 AND n.3 > e.3`,
      ],
      ' ',
    );
  return join(
    [
      sql`WITH timed AS (SELECT ${ORD}, ${block} AS ${b}, ${time} AS ${t} FROM ${ident('events')}`,
      sql`WHERE isfinite(${block}) AND isfinite(${time})),`,
      sql`starts AS (SELECT ${ORD}, ${b}, ${t}, lag(${b}) OVER (ORDER BY ${ORD}) AS ${previous} FROM timed),`,
      sql`runs AS (SELECT ${ORD}, ${b}, ${t}, lead(${b}) OVER (ORDER BY ${ORD}) AS ${nextBlock},`,
      sql`lead(${t}) OVER (ORDER BY ${ORD}) AS ${nextTime} FROM starts WHERE ${previous} IS NULL OR ${previous} <> ${b})`,
      sql`SELECT ${ORD}, ${b} AS ${ident('x')}, (${nextTime} - ${t}) / (${nextBlock} - ${b}) AS ${ident('d')} FROM runs`,
      sql`WHERE ${nextBlock} > ${b} AND ${nextTime} > ${t}`,
    ],
    ' ',
  );
}

/** The range of block over every event: the durations' bins cut it, as x's bins cut x's range. */
export function blockRangeSql(d: Dialect = duckdb, types: BlockColumns = NUMERIC): Sql {
  const b = ident('b');
  return join(
    [
      sql`SELECT min(${b}) AS ${ident('min')}, max(${b}) AS ${ident('max')},`,
      sql`coalesce(${d.all(sql`${b} = round(${b})`)}, ${d.bool(false)}) AS ${ident('integer')}`,
      sql`FROM (SELECT ${number(BLOCK, d, types.blockNumeric)} AS ${b} ${fromWhere(d, 'events', [])}) WHERE ${d.isFinite(b)}`,
    ],
    ' ',
  );
}

/**
 * Per bin of block: count, exact mean, min, max, exact p10–p90 and the last duration in row order.
 * `xScale` and `scale` are the exact means' scales of block and of the durations.
 */
export function blockDurationsSql(
  spec: BinSpec,
  xScale: number,
  scale: number,
  dialect: Dialect = duckdb,
  types: BlockColumns = NUMERIC,
): Sql {
  const x = ident('x');
  const d = ident('d');
  const bin = ident('bin');
  return join(
    [
      sql`SELECT ${binIndexSql(x, spec)} AS ${bin}, ${exactMeanSql(x, xScale, dialect)} AS x_mean, CAST(count(*) AS DOUBLE) AS n,`,
      sql`${exactMeanSql(d, scale, dialect)} AS mean, min(${d}) AS lo, max(${d}) AS hi,`,
      sql`${dialect.quantiles(d, BAND)} AS band, ${dialect.argMaxIf(d, ORD)} AS ${ident('last')}`,
      sql`FROM (${blockDurationRowsSql(dialect, types)}) GROUP BY ${bin} ORDER BY ${bin}`,
    ],
    ' ',
  );
}

/**
 * Seconds per block, binned over block with the exact mean and p10–p90 band (see
 * blockDurationRowsSql). Undefined without `block` and `_timestamp`.
 */
export async function blockDurations(run: QueryableRun, maxBins: number): Promise<BinnedSeries | undefined> {
  const stored = run.storedColumns('rows');
  if (!stored.has('block') || !stored.has('_timestamp')) return undefined;
  const d = run.dialect;
  const types: BlockColumns = {
    blockNumeric: run.columns.scalars.get('block') === 'DOUBLE',
    timeNumeric: run.columns.scalars.get('_timestamp') === 'DOUBLE',
  };
  const range = await run.answers.one<{ min: number | null; max: number | null; integer: boolean }>(
    blockRangeSql(d, types).text,
  );
  if (!range || range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, Boolean(range.integer));
  const [xScale, scale] = await meanScales(
    run.answers,
    sql`(${blockDurationRowsSql(d, types)})`,
    [ident('x'), ident('d')],
    d,
  );
  const cols = await run.answers.columns(blockDurationsSql(spec, xScale, scale, d, types).text);
  if (!(cols.bin ?? []).length) return undefined;
  const bin = cols.bin as number[];
  const band = (cols.band as (number[] | null)[]).map((q) => q ?? [NaN, NaN]);
  return {
    column: 'block_duration',
    group: undefined,
    bin,
    x0: bin.map((b) => spec.x0 + b * spec.width),
    x1: bin.map((b) => spec.x0 + (b + 1) * spec.width),
    xMean: cols.x_mean as number[],
    count: cols.n as number[],
    mean: cols.mean as number[],
    min: cols.lo as number[],
    max: cols.hi as number[],
    lower: band.map((q) => q[0]),
    upper: band.map((q) => q[1]),
    last: cols.last as number[],
    nonFinite: bin.map(() => 0),
  };
}
