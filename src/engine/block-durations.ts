import type { BinnedSeries } from './binned-stats.js';
import { binIndexSql, binSpec, type BinSpec } from './bins.js';
import { exactMeanSql, meanScales } from './exact-mean.js';
import type { Run } from './run.js';
import { ident, join, litList, sql, type Sql } from './sql.js';

const BLOCK = ident('block');
const TIME = ident('_timestamp');
const ORD = ident('ord');
const BAND = [0.1, 0.9];

/** A field as DOUBLE (a text `block` or `_timestamp` that is not a number becomes NULL). */
function number(column: Sql): Sql {
  return sql`TRY_CAST(${column} AS DOUBLE)`;
}

/**
 * Each block's duration, as rows (ord, x = block, d = seconds per block): over events in row
 * order with a finite block and _timestamp, each run of one block starts at its first timestamp;
 * its duration is the time to the next run's start divided by the blocks advanced (runs that do
 * not move forward in both block and time have none).
 */
export function blockDurationRowsSql(): Sql {
  const b = ident('b');
  const t = ident('t');
  const previous = ident('previous');
  const nextBlock = ident('next_block');
  const nextTime = ident('next_t');
  return join(
    [
      sql`WITH timed AS (SELECT ${ORD}, ${number(BLOCK)} AS ${b}, ${number(TIME)} AS ${t} FROM ${ident('events')}`,
      sql`WHERE isfinite(${number(BLOCK)}) AND isfinite(${number(TIME)})),`,
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
export function blockRangeSql(): Sql {
  const b = ident('b');
  return join(
    [
      sql`SELECT min(${b}) AS ${ident('min')}, max(${b}) AS ${ident('max')},`,
      sql`coalesce(bool_and(${b} = round(${b})), false) AS ${ident('integer')}`,
      sql`FROM (SELECT ${number(BLOCK)} AS ${b} FROM ${ident('events')}) WHERE isfinite(${b})`,
    ],
    ' ',
  );
}

/**
 * Per bin of block: count, exact mean, min, max, exact p10–p90 and the last duration in row order.
 * `xScale` and `scale` are the exact means' scales of block and of the durations.
 */
export function blockDurationsSql(spec: BinSpec, xScale: number, scale: number): Sql {
  const x = ident('x');
  const d = ident('d');
  return join(
    [
      sql`SELECT ${binIndexSql(x, spec)} AS bin, ${exactMeanSql(x, xScale)} AS x_mean, CAST(count(*) AS DOUBLE) AS n,`,
      sql`${exactMeanSql(d, scale)} AS mean, min(${d}) AS lo, max(${d}) AS hi,`,
      sql`quantile_cont(${d}, ${litList(BAND)}) AS band, arg_max(${d}, ${ORD}) AS ${ident('last')}`,
      sql`FROM (${blockDurationRowsSql()}) GROUP BY 1 ORDER BY 1`,
    ],
    ' ',
  );
}

/**
 * Seconds per block, binned over block with the exact mean and p10–p90 band (see
 * blockDurationRowsSql). Undefined without `block` and `_timestamp`.
 */
export async function blockDurations(run: Run, maxBins: number): Promise<BinnedSeries | undefined> {
  const stored = run.storedColumns('rows');
  if (!stored.has('block') || !stored.has('_timestamp')) return undefined;
  const range = await run.session.one<{ min: number | null; max: number | null; integer: boolean }>(
    blockRangeSql().text,
  );
  if (!range || range.min === null || range.max === null) return undefined;
  const spec = binSpec(range.min, range.max, maxBins, range.integer);
  const [xScale, scale] = await meanScales(run.session, sql`(${blockDurationRowsSql()})`, [
    ident('x'),
    ident('d'),
  ]);
  const cols = await run.session.columns(blockDurationsSql(spec, xScale, scale).text);
  const bin = cols.bin as number[];
  const band = cols.band as number[][];
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
