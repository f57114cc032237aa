import { duckdb, scoped, type Dialect } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, lit, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';

/** An interval of `_timestamp` time (seconds) or of x units (blocks, steps, …). */
export interface Interval {
  axis: 'time' | 'x';
  /** Width in seconds (time) or x units. */
  width: number;
  /** The expression the buckets are cut from, over a relation with `x` and `_timestamp`. */
  expression: Sql;
  label: string;
}

const UNITS: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86_400, w: 604_800 };
const NICE_SECONDS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800,
  604_800,
];
const MAX_BUCKETS = 100_000;
const TIME = ident('_timestamp');
const X = ident('x');

/** Describes a width in seconds as `10m`, `1h`, `90s`. */
export function formatSeconds(seconds: number): string {
  for (const [unit, size] of [
    ['w', 604_800],
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

/**
 * Parses `--interval`: a duration (`30s`, `10m`, `1h`, `2d`, `1w`) cuts `_timestamp` time; a bare
 * number cuts the run's x axis (blocks for validator logs). Without one, a width giving about 60
 * intervals is chosen: of time when the run has `_timestamp` and `preferTime`, else of x.
 */
export async function resolveInterval(
  run: QueryableRun,
  text: string | undefined,
  preferTime: boolean,
): Promise<Interval> {
  const hasTime = run.storedColumns('rows').has('_timestamp');
  const xLabel = run.x.label;
  if (text !== undefined) {
    const trimmed = text.trim().toLowerCase();
    const duration = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/.exec(trimmed);
    if (duration && UNITS[duration[2]] !== undefined) {
      const width = Number(duration[1]) * UNITS[duration[2]];
      if (!(width > 0)) throw badInterval(text);
      if (!hasTime)
        throw new UserError(`--interval ${text} is a duration, but this run has no _timestamp field`, {
          hint: `give a number of ${xLabel} units instead, e.g. --interval 100`,
        });
      return { axis: 'time', width, expression: TIME, label: formatSeconds(width) };
    }
    const width = Number(trimmed);
    if (!(Number.isFinite(width) && width > 0)) throw badInterval(text);
    return { axis: 'x', width, expression: X, label: `${width} ${xLabel}` };
  }
  const axis = hasTime && preferTime ? 'time' : 'x';
  const expression = axis === 'time' ? TIME : X;
  const range = await run.answers.one<{ lo: number | null; hi: number | null; integer: boolean | null }>(
    intervalRangeSql(expression, run.dialect).text,
  );
  const span = range?.lo === null || range?.lo === undefined ? 0 : (range.hi ?? range.lo) - range.lo;
  if (axis === 'time') {
    const width = NICE_SECONDS.find((s) => span / s <= 60) ?? 604_800 * Math.ceil(span / 60 / 604_800);
    return { axis, width, expression, label: formatSeconds(width) };
  }
  const width = niceWidth(span / 60, range?.integer ?? false);
  return { axis, width, expression, label: `${width} ${xLabel}` };
}

/** 1, 2 or 5 × 10^k at or above `raw` (at least 1 for integer axes). */
export function niceWidth(raw: number, integer: boolean): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const width = [1, 2, 5, 10].map((m) => m * power).find((w) => w >= raw) ?? 10 * power;
  return integer ? Math.max(1, Math.round(width)) : width;
}

function badInterval(text: string): UserError {
  return new UserError(`--interval "${text}" is neither a duration nor a positive number`, {
    hint: 'e.g. --interval 10m (of _timestamp time: s, m, h, d, w) or --interval 100 (x units, e.g. blocks)',
  });
}

/** The range of an interval's expression over every event (for a default width). */
export function intervalRangeSql(expression: Sql, d: Dialect = duckdb): Sql {
  const integer = d.all(sql`${expression} = round(${expression})`);
  return sql`SELECT min(${expression}) AS lo, max(${expression}) AS hi, ${integer} AS ${ident('integer')} FROM ${scoped(d, 'events', [d.isFinite(expression)])}`;
}

/** The bucket number of a row: floor(value / width). */
export function bucketExpression(interval: Interval, d: Dialect = duckdb): Sql {
  return d.bigint(sql`FLOOR(${interval.expression} / ${lit(interval.width)})`);
}

/** The bucket number as DOUBLE (what the queries return), named `bucket`. */
export function bucketColumn(interval: Interval, d: Dialect = duckdb): Sql {
  return sql`${d.double(bucketExpression(interval, d))} AS bucket`;
}

/** Checks the number of buckets between `lo` and `hi` is reasonable. */
export function checkBucketCount(interval: Interval, lo: number, hi: number): void {
  const count = hi - lo + 1;
  if (count > MAX_BUCKETS)
    throw new UserError(
      `--interval ${interval.label} would cut this run into ${count.toLocaleString('en-US')} intervals`,
      {
        hint: `choose a wider interval (at most ${MAX_BUCKETS.toLocaleString('en-US')} intervals)`,
      },
    );
}

/** The start of bucket `b` for display: an ISO time (UTC) or an x value. */
export function bucketStart(interval: Interval, bucket: number): string | number {
  const start = bucket * interval.width;
  if (interval.axis === 'x') return +start.toPrecision(12);
  return new Date(start * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$/, 'Z');
}
