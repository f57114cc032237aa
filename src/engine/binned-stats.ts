import { columnsOverX } from './answers.js';
import { binIndexSql, binSpec, xSpans, type BinSpec } from './bins.js';
import { exactMeanSql, expression, maxAbsSql, meanScale, type SqlExpression } from './exact-mean.js';
import { duckdb, fromWhere, type Dialect } from './dialect.js';
import type { QueryableRun } from './queryable.js';
import { inSpan, RANGE_ROWS, runSpans, type XSpan } from './range-state.js';
import { sampleHashSql } from './sample-hash.js';
import { and, ident, join, lit, sql, type Sql } from './sql.js';

export interface BinnedSeries {
  column: string;
  /** The group (task name, uid) when grouped; undefined otherwise. */
  group: string | undefined;
  bin: number[];
  /** Bin start, end and the mean x of the rows in the bin. */
  x0: number[];
  x1: number[];
  xMean: number[];
  count: number[];
  mean: number[];
  min: number[];
  max: number[];
  /** Quantile band (lower, upper) of the values in each bin. */
  lower: number[];
  upper: number[];
  /** The bin's last value in row order. */
  last: number[];
  /** Values that were NaN or ±Infinity (failed calls); not in the statistics above. */
  nonFinite: number[];
}

export type BinnedTable = 'events' | 'uid_events';

export interface BinnedStatsOptions {
  columns: readonly string[];
  /** `events` (one row per event) or `uid_events` (one row per event × uid). */
  table?: BinnedTable;
  maxBins?: number;
  /** Quantile band, default [0.1, 0.9]; `none`: no band (lower and upper NaN, nothing held per bin). */
  band?: [number, number] | 'none';
  /** Group each series by `task` or `uid` (or, in a fleet, by `run`). */
  groupBy?: 'task' | 'uid' | 'run';
  /**
   * Another numeric column of the table as x (e.g. a wandb history's `_runtime` or `_timestamp`)
   * instead of the run's x axis.
   */
  xColumn?: string;
  /** Filter over the table's columns (typed SQL, or SQL text the program wrote). */
  where?: SqlExpression;
  /**
   * Exact quantiles up to this many rows; above, the quantiles of a deterministic sample of each
   * bin (bounded memory, see QUANTILE_SAMPLE_VALUES).
   */
  exactQuantileRows?: number;
  /**
   * Run between one column's query and the next (e.g. letting DuckDB release its cached blocks):
   * the columns share the one range query, which scans the table once for all of them.
   */
  between?: () => Promise<void>;
  /**
   * Rows a query reads at most, about (RANGE_ROWS): on the run's own x, a larger table is read
   * range of x by range of x, each range's answer kept while its rows stay the same (columnsOverX),
   * so a look after an append reads again only the ranges it reached. The same numbers either way.
   */
  pieceRows?: number;
}

export interface BinnedStats {
  spec: BinSpec;
  quantiles: 'exact' | 'approximate' | 'none';
  /** With approximate quantiles: the most values sampled per bin. */
  quantileSample?: number;
  band: [number, number];
  series: BinnedSeries[];
}

/** Rows up to which the quantile band is exact (README). */
export const EXACT_QUANTILE_ROWS = 5_000_000;
/**
 * Values held for the sampled quantiles of all groups and bins together: each (group, bin) keeps
 * the values of the rows with the smallest sample key (sampleKey: the portable hash of the row's
 * place, so a fleet draws the same sample), at most
 * QUANTILE_SAMPLE_MAX and at least QUANTILE_SAMPLE_MIN (a bin with fewer rows has exact quantiles).
 * A larger budget (2^21, with the place as a tie-breaker in the key) ran a 1 GB FileTAO report out
 * of DuckDB's 320 MB.
 */
const QUANTILE_SAMPLE_VALUES = 1 << 20;
const QUANTILE_SAMPLE_MAX = 1024;
const QUANTILE_SAMPLE_MIN = 64;
/** Positions in an event's uid list that the packed row order (ord · POSITIONS + pos) allows. */
const POSITIONS = 2 ** 20;
/** Groups assumed per bin when sizing the sample of series grouped by task or uid. */
const GROUPS: Record<'task' | 'uid' | 'run' | 'none', number> = { task: 16, uid: 1024, run: 16, none: 1 };

const X = ident('x');
const ORD = ident('ord');
const POS = ident('pos');

/** x: the run's axis, or another column of the table read as DOUBLE. */
function xOf(column: string | undefined, d: Dialect = duckdb): Sql {
  return column === undefined ? X : d.double(ident(column));
}

/**
 * The rows whose x (the run's axis, or `xColumn`) lies in [xmin, xmax] (either end may be open);
 * undefined when neither end is given.
 */
export function xRangeSql(
  range: { xmin?: number; xmax?: number },
  xColumn?: string,
  d: Dialect = duckdb,
): Sql | undefined {
  const x = xOf(xColumn, d);
  const parts = [
    ...(range.xmin === undefined ? [] : [sql`${x} >= ${lit(range.xmin)}`]),
    ...(range.xmax === undefined ? [] : [sql`${x} <= ${lit(range.xmax)}`]),
  ];
  return parts.length ? and(parts) : undefined;
}

/** The rows every binned statistic reads: a finite x, and the caller's filter. */
function rowsWithX(where: SqlExpression | undefined, X: Sql, d: Dialect): Sql[] {
  const conditions = [sql`${X} IS NOT NULL`, d.isFinite(X)];
  if (where !== undefined) conditions.push(expression(where));
  return conditions;
}

export interface BinnedRangeSql {
  table: BinnedTable;
  columns: readonly string[];
  where?: SqlExpression;
  /** x from this column instead of the run's axis. */
  xColumn?: string;
  dialect?: Dialect;
}

/**
 * One scan for what the per-column queries need: x's range (the bins), the row count (exact or
 * sampled quantiles), the largest ord and position (the row-order key) and each column's largest
 * finite magnitude (`m0`, `m1`, …: the exact means' scales).
 */
export function binnedRangeSql(options: BinnedRangeSql): Sql {
  const d = options.dialect ?? duckdb;
  const X = xOf(options.xColumn, d);
  const maxPos = d.double(options.table === 'uid_events' ? sql`max(${POS})` : sql`NULL`);
  const magnitudes = options.columns.map((c, i) => sql`${maxAbsSql(ident(c), d)} AS ${ident(`m${i}`)}`);
  return join(
    [
      sql`SELECT min(${X}) AS ${ident('min')}, max(${X}) AS ${ident('max')},`,
      sql`${d.all(sql`${X} = round(${X})`)} AS ${ident('integer')}, CAST(count(*) AS DOUBLE) AS n,`,
      sql`${d.double(sql`max(${ORD})`)} AS max_ord, ${maxPos} AS max_pos${
        magnitudes.length ? sql`, ${join(magnitudes)}` : sql``
      }`,
      fromWhere(d, options.table, rowsWithX(options.where, X, d)),
    ],
    ' ',
  );
}

export interface BinnedSeriesSql {
  table: BinnedTable;
  column: string;
  spec: BinSpec;
  /** The quantile band, or none (the query's q is NULL). */
  band: readonly [number, number] | 'none';
  groupBy?: 'task' | 'uid' | 'run';
  where?: SqlExpression;
  /** Exact quantiles, or those of at most this many values per (group, bin). */
  quantileSample?: number;
  /**
   * ClickHouse: per (group, bin), the largest sample hash a row of the sample can have (see
   * sampleLimits); rows above it are left out before the bin's rows are held, and `sampled` counts
   * those kept.
   */
  sampleLimits?: SampleLimits;
  /** uid_events only: the row order fits one BIGINT, ord · 2^20 + pos (else a struct of both). */
  packedOrder?: boolean;
  /** meanScale of |x| and of the column. */
  xScale: number;
  scale: number;
  /** x from this column instead of the run's axis. */
  xColumn?: string;
  dialect?: Dialect;
}

/**
 * One column's per-(group, bin) count, exact mean, min, max, quantile band, last value in row
 * order and count of non-finite values, ordered by group (NULL first), then bin.
 */
export function binnedSeriesSql(options: BinnedSeriesSql): Sql {
  const d = options.dialect ?? duckdb;
  const X = xOf(options.xColumn, d);
  const v = ident(options.column);
  const finite = d.isFinite(v);
  const uidRows = options.table === 'uid_events';
  // Row order: per-uid rows of one event share its ord, so their position breaks the tie (else the
  // "last" value is any of them, whichever thread's partial DuckDB combines first). One BIGINT
  // when ord and pos fit in it (an arg_max over a struct key took twice as long).
  const place = uidRows
    ? d.name === 'duckdb'
      ? sql`{'o': ${ORD}, 'p': ${POS}}`
      : sql`(${ORD}, ${POS})`
    : ORD;
  const lastOrder = !uidRows ? ORD : options.packedOrder ? sql`(${ORD} * ${lit(POSITIONS)} + ${POS})` : place;
  const key = sampleKey(uidRows, d);
  const limits = options.sampleLimits;
  const kept = limits
    ? sql`${finite} AND ${belowLimitSql(key, limits, groupSql(options.groupBy, d), binIndexSql(X, options.spec), d)}`
    : finite;
  const quantile =
    options.band === 'none'
      ? d.nullDoubles()
      : options.quantileSample === undefined
        ? d.quantiles(v, options.band, finite)
        : d.sampledQuantiles(v, key, options.quantileSample, options.band, kept);
  return join(
    [
      sql`SELECT ${groupAndBin(options, d)}, ${exactMeanSql(X, options.xScale, d)} AS x_mean,`,
      sql`CAST(${d.countIf(finite)} AS DOUBLE) AS n, ${exactMeanSql(v, options.scale, d)} AS mean,`,
      sql`${d.aggregateIf('min', v, finite)} AS lo, ${d.aggregateIf('max', v, finite)} AS hi, ${quantile} AS q,`,
      sql`${d.argMaxIf(v, lastOrder, finite)} AS ${ident('last')},`,
      sql`CAST(${d.countIf(sql`NOT ${finite}`)} AS DOUBLE) AS non_finite${
        limits ? sql`, CAST(${d.countIf(kept)} AS DOUBLE) AS sampled` : sql``
      }`,
      seriesRows(options, d),
      sql`GROUP BY grp, bin ORDER BY grp NULLS FIRST, bin`,
    ],
    ' ',
  );
}

/**
 * A row's key for the sampled band: the sample hash (sample-hash.ts) of its file, line and uid
 * position, times 2^31, plus the low 31 bits of its place in its file (line · 2^20 + pos) to set
 * apart rows whose 32-bit hashes are equal. A BIGINT in both dialects. Nothing in it moves when
 * rows are added to another file (the row ordinal would), so a range's sample stays the same.
 */
export function sampleKey(uidRows: boolean, d: Dialect): Sql {
  const pos = uidRows ? POS : lit(0);
  const line = ident('line');
  const hash = sampleHashSql(0, ident('file_id'), line, pos, d);
  const place = sql`(${d.bigint(line)} * ${lit(POSITIONS)} + ${pos})`;
  return sql`(CAST(${hash} AS BIGINT) * ${lit(2 ** 31)} + (${place} % ${lit(2 ** 31)}))`;
}

/**
 * Per (group, bin) of a ClickHouse query, the largest sample hash that a row of the sample can have:
 * with n rows in the bin and `size` to keep, a hash limit under which n · limit / 2^32 ≈ size +
 * 6·√size + 16 rows are expected. If at least `size` rows of a bin are at or under its limit, the
 * `size` smallest keys are among them (the key orders by hash first), so the sample is the same as
 * without the limit; a bin with fewer (about e^-18 per bin) is caught by `sampled` and the query
 * runs again without limits. Without a bounded top-N aggregate (ClickHouse 18.16) this keeps what
 * a bin holds near `size` instead of all its rows.
 */
export interface SampleLimits {
  /** `group|bin` of every (group, bin) with more rows than the sample needs (unique: bin is digits). */
  keys: string[];
  limits: number[];
}

/** (group, bin)s above which no limits are passed (the query text would grow too large). */
const MAX_SAMPLE_LIMITS = 50_000;

/** The limits for bins of `counts` (rows per group and bin), or undefined when none is needed. */
export function sampleLimits(
  counts: readonly { grp: string | null; bin: number; n: number }[],
  size: number,
): SampleLimits | undefined {
  const expected = size + 6 * Math.sqrt(size) + 16;
  const keys: string[] = [];
  const limits: number[] = [];
  for (const { grp, bin, n } of counts) {
    if (n <= expected) continue;
    keys.push(`${grp ?? ''}|${bin}`);
    limits.push(Math.min(2 ** 32 - 1, Math.ceil((expected / n) * 2 ** 32)));
  }
  return keys.length && keys.length <= MAX_SAMPLE_LIMITS ? { keys, limits } : undefined;
}

/** ClickHouse: whether the row's sample hash (its key's high bits) is at or under its limit. */
function belowLimitSql(key: Sql, limits: SampleLimits, group: Sql, bin: Sql, d: Dialect): Sql {
  const at = sql`concat(ifNull(${group}, ''), '|', toString(${bin}))`;
  const from = sql`[${join(limits.keys.map((k) => d.quote(k)))}]`;
  const to = sql`[${join(limits.limits.map((l) => lit(l)))}]`;
  return sql`intDiv(${key}, ${lit(2 ** 31)}) <= transform(${at}, ${from}, CAST(${to} AS Array(UInt32)), toUInt32(4294967295))`;
}

/** Rows per (group, bin) of what binnedSeriesSql samples: the input of sampleLimits. */
export function binnedCountsSql(options: Omit<BinnedSeriesSql, 'band' | 'xScale' | 'scale'>): Sql {
  const d = options.dialect ?? duckdb;
  const n = d.countIf(d.isFinite(ident(options.column)));
  return join(
    [
      sql`SELECT ${groupAndBin(options, d)}, CAST(${n} AS DOUBLE) AS n`,
      seriesRows(options, d),
      sql`GROUP BY grp, bin`,
    ],
    ' ',
  );
}

type SeriesRowsSql = Pick<BinnedSeriesSql, 'table' | 'column' | 'spec' | 'groupBy' | 'where' | 'xColumn'>;

/** `grp` and `bin` of a row of a series (binnedSeriesSql and its count pass alike). */
function groupAndBin(options: SeriesRowsSql, d: Dialect): Sql {
  return sql`${groupSql(options.groupBy, d)} AS grp, ${binIndexSql(xOf(options.xColumn, d), options.spec)} AS bin`;
}

/** FROM and WHERE of a series' rows: a finite x, the caller's filter, a value (NULL left out). */
function seriesRows(options: SeriesRowsSql, d: Dialect): Sql {
  const X = xOf(options.xColumn, d);
  return fromWhere(d, options.table, [
    ...rowsWithX(options.where, X, d),
    sql`${ident(options.column)} IS NOT NULL`,
  ]);
}

/** A series' group: the task, the uid as text, the run, or NULL (one series). */
function groupSql(groupBy: 'task' | 'uid' | 'run' | undefined, d: Dialect): Sql {
  if (groupBy === 'uid') return d.text(ident('uid'));
  return groupBy === undefined ? d.nullText() : ident(groupBy);
}

/**
 * The most values sampled per (group, bin) for bins of `spec`: the budget over the bin count
 * rounded up to a power of two, so that a run growing by a few bins keeps its sample size (and its
 * ranges' answers).
 */
export function quantileSampleSize(spec: BinSpec, groupBy: 'task' | 'uid' | 'run' | undefined): number {
  const groups = GROUPS[groupBy ?? 'none'];
  const bins = 2 ** Math.ceil(Math.log2(Math.max(1, spec.count)));
  return Math.max(
    QUANTILE_SAMPLE_MIN,
    Math.min(QUANTILE_SAMPLE_MAX, Math.floor(QUANTILE_SAMPLE_VALUES / (bins * groups))),
  );
}

/**
 * Exact per-bin count, mean, min, max, quantile band and last value over every row, in SQL.
 *
 * Deterministic: the same rows give the same numbers whatever order DuckDB's threads combine their
 * partials in. Means are exact sums (exact-mean.ts: `avg` of doubles differed in the last bits from
 * run to run), and beyond `exactQuantileRows` the quantile band comes from a sample of each bin
 * chosen by a hash of each row's place (t-digest's `approx_quantile` depends on the merge order).
 */
export async function binnedStats(run: QueryableRun, options: BinnedStatsOptions): Promise<BinnedStats> {
  const table = options.table ?? 'events';
  const band = options.band ?? [0.1, 0.9];
  const noBand = band === 'none';
  const rows = table === 'uid_events' ? run.ingest.uidRows : run.ingest.rows;
  const pieceRows = options.pieceRows ?? RANGE_ROWS;
  // Ranges of the run's x for the range scan: its spec is not known before it.
  const runRanges = options.xColumn === undefined ? await runSpans(run, rows, pieceRows) : undefined;
  const range = await binnedRange(run, { ...options, table }, runRanges);
  const xScale = meanScale(Math.max(Math.abs(range.min ?? 0), Math.abs(range.max ?? 0)));
  const spec = binSpec(range.min ?? 0, range.max ?? 0, options.maxBins ?? 1000, Boolean(range.integer));
  const exact = noBand || range.n <= (options.exactQuantileRows ?? EXACT_QUANTILE_ROWS);
  const sample = quantileSampleSize(spec, options.groupBy);
  const packedOrder = (range.max_ord ?? 0) < 2 ** 42 && (range.max_pos ?? 0) < POSITIONS;
  // The series' own ranges: whole bins of its spec, so that no bin is cut in two.
  const spans = runRanges ? xSpans(spec, rows, pieceRows) : [];
  const series: BinnedSeries[] = [];
  for (const [index, column] of options.columns.entries()) {
    if (index > 0) await options.between?.();
    const common = {
      table,
      column,
      spec,
      groupBy: options.groupBy,
      where: options.where,
      quantileSample: exact ? undefined : sample,
      packedOrder,
      xColumn: options.xColumn,
      dialect: run.dialect,
    };
    const query = (limits?: SampleLimits, span?: XSpan): string =>
      binnedSeriesSql({
        ...common,
        where: span ? and(inSpan(options.where, span)) : options.where,
        band,
        xScale,
        scale: meanScale(range[`m${index}`]),
        sampleLimits: limits,
      }).text;
    if (spans.length > 1) {
      const parts = [];
      for (const span of spans) parts.push(await columnsOverX(run.answers, query(undefined, span), span));
      series.push(...seriesOf(column, spec, seriesInOrder(parts)));
      continue;
    }
    // ClickHouse holds a bin's rows before it cuts the sample: a first pass counts them, and the
    // sample's query leaves out the rows no sample can hold (sampleLimits).
    const limits =
      !exact && run.dialect.name === 'clickhouse'
        ? sampleLimits(
            await run.answers.all<{ grp: string | null; bin: number; n: number }>(
              binnedCountsSql(common).text,
            ),
            sample,
          )
        : undefined;
    let found = await run.answers.columns(query(limits));
    if (limits && found.sampled.some((kept, i) => (kept as number) < Math.min(sample, found.n[i] as number)))
      found = await run.answers.columns(query());
    series.push(...seriesOf(column, spec, found));
  }
  return {
    spec,
    quantiles: noBand ? 'none' : exact ? 'exact' : 'approximate',
    quantileSample: exact ? undefined : sample,
    band: noBand ? [NaN, NaN] : band,
    series,
  };
}

type BinnedRange = {
  min: number | null;
  max: number | null;
  integer: boolean | null;
  n: number;
  max_ord: number | null;
  max_pos: number | null;
  [maxAbs: `m${number}`]: number | null;
};

/**
 * binnedRangeSql's row: in one query, or merged from one per range of x (`spans`), each kept while
 * its range's rows stay the same.
 */
async function binnedRange(
  run: QueryableRun,
  options: BinnedStatsOptions & { table: BinnedTable },
  spans: readonly XSpan[] | undefined,
): Promise<BinnedRange> {
  const query = (span?: XSpan) =>
    binnedRangeSql({
      table: options.table,
      columns: options.columns,
      where: span ? and(inSpan(options.where, span)) : options.where,
      xColumn: options.xColumn,
      dialect: run.dialect,
    }).text;
  if (!spans) {
    const row = await run.answers.one<BinnedRange>(query());
    return row ?? { min: null, max: null, integer: null, n: 0, max_ord: null, max_pos: null };
  }
  const parts: BinnedRange[] = [];
  for (const span of spans) {
    const found = await columnsOverX(run.answers, query(span), span);
    parts.push(Object.fromEntries(Object.entries(found).map(([k, v]) => [k, v[0]])) as BinnedRange);
  }
  return mergeRanges(parts, options.columns.length);
}

/** The range of all rows from those of disjoint parts of them (a part without rows has n = 0). */
function mergeRanges(parts: readonly BinnedRange[], columns: number): BinnedRange {
  const held = parts.filter((p) => p.n > 0);
  /** The least or greatest of a field over the parts that have it. */
  const most = (field: keyof BinnedRange, pick: (...v: number[]) => number): number | null => {
    const present = held.map((p) => p[field]).filter((v): v is number => typeof v === 'number');
    return present.length ? pick(...present) : null;
  };
  const merged: BinnedRange = {
    min: most('min', Math.min),
    max: most('max', Math.max),
    integer: held.length ? held.every((p) => p.integer) : null,
    n: held.reduce((sum, p) => sum + p.n, 0),
    max_ord: most('max_ord', Math.max),
    max_pos: most('max_pos', Math.max),
  };
  for (let i = 0; i < columns; i++) merged[`m${i}`] = most(`m${i}`, Math.max);
  return merged;
}

/**
 * The rows of binnedSeriesSql's queries over consecutive ranges of whole bins as one query's:
 * ordered by group (NULL first, then by code point as DuckDB orders text), then bin.
 */
function seriesInOrder(parts: readonly Record<string, unknown[]>[]): Record<string, unknown[]> {
  const columns = Object.keys(parts.find((p) => (p.bin ?? []).length) ?? parts[0] ?? {});
  const rows = parts.flatMap((p) => (p.bin ?? []).map((_, i) => ({ p, i })));
  const groups = [...new Set(rows.map((r) => r.p.grp[r.i] as string | null))].sort(compareGroups);
  const rank = new Map(groups.map((g, i) => [g, i]));
  const at = (r: (typeof rows)[number]) => rank.get(r.p.grp[r.i] as string | null)!;
  rows.sort((a, b) => at(a) - at(b) || (a.p.bin[a.i] as number) - (b.p.bin[b.i] as number));
  return Object.fromEntries(columns.map((c) => [c, rows.map((r) => r.p[c][r.i])]));
}

/** Text in DuckDB's order (its bytes in UTF-8: code point by code point), NULL first. */
function compareGroups(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** binnedSeriesSql's rows as one series per group, in the query's order. */
function seriesOf(column: string, spec: BinSpec, rows: Record<string, unknown[]>): BinnedSeries[] {
  const groups = new Map<string | null, BinnedSeries>();
  const n = (rows.bin ?? []).length;
  for (let i = 0; i < n; i++) {
    const key = rows.grp[i] as string | null;
    let s = groups.get(key);
    if (!s) {
      s = emptySeries(column, key ?? undefined);
      groups.set(key, s);
    }
    const b = rows.bin[i] as number;
    const q = (rows.q[i] as (number | null)[] | null) ?? [NaN, NaN];
    s.bin.push(b);
    s.x0.push(spec.x0 + b * spec.width);
    s.x1.push(spec.x0 + (b + 1) * spec.width);
    s.xMean.push(rows.x_mean[i] as number);
    s.count.push(rows.n[i] as number);
    s.mean.push(orNaN(rows.mean[i]));
    s.min.push(orNaN(rows.lo[i]));
    s.max.push(orNaN(rows.hi[i]));
    s.lower.push(orNaN(q[0]));
    s.upper.push(orNaN(q[1]));
    s.last.push(orNaN(rows.last[i]));
    s.nonFinite.push(rows.non_finite[i] as number);
  }
  return [...groups.values()];
}

export function emptySeries(column: string, group: string | undefined): BinnedSeries {
  return {
    column,
    group,
    bin: [],
    x0: [],
    x1: [],
    xMean: [],
    count: [],
    mean: [],
    min: [],
    max: [],
    lower: [],
    upper: [],
    last: [],
    nonFinite: [],
  };
}

function orNaN(value: unknown): number {
  return typeof value === 'number' ? value : NaN;
}

/** A filter on one task. */
export function taskFilter(task: string): Sql {
  return sql`${ident('task')} = ${lit(task)}`;
}
