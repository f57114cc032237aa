import { binIndexSql, binSpec, type BinSpec } from './bins.js';
import { exactMeanSql, maxAbsSql, meanScale } from './exact-mean.js';
import type { Run } from './run.js';
import { quoteIdentifier, quoteString } from './session.js';

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

export interface BinnedStatsOptions {
  columns: string[];
  /** `events` (one row per event) or `uid_events` (one row per event × uid). */
  table?: 'events' | 'uid_events';
  maxBins?: number;
  /** Quantile band, default [0.1, 0.9]. */
  band?: [number, number];
  /** Group each series by `task` or `uid`. */
  groupBy?: 'task' | 'uid';
  /** SQL filter over the table's columns. */
  where?: string;
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
}

export interface BinnedStats {
  spec: BinSpec;
  quantiles: 'exact' | 'approximate';
  /** With approximate quantiles: the most values sampled per bin. */
  quantileSample?: number;
  band: [number, number];
  series: BinnedSeries[];
}

/**
 * Values held for the sampled quantiles of all groups and bins together: each (group, bin) keeps
 * the values of the rows with the smallest 64-bit hash of their place (ord, pos), at most
 * QUANTILE_SAMPLE_MAX and at least QUANTILE_SAMPLE_MIN (a bin with fewer rows has exact quantiles).
 * A larger budget (2^21, with the place as a tie-breaker in the key) ran a 1 GB FileTAO report out
 * of DuckDB's 320 MB.
 */
const QUANTILE_SAMPLE_VALUES = 1 << 20;
const QUANTILE_SAMPLE_MAX = 1024;
const QUANTILE_SAMPLE_MIN = 64;
/** Positions in an event's uid list that the packed row order (ord · POSITIONS + pos) allows. */
const POSITIONS = 2 ** 20;
/** Groups assumed per bin when sizing the sample of series grouped by task. */
const TASK_GROUPS = 16;

/**
 * Exact per-bin count, mean, min, max, quantile band and last value over every row, in SQL.
 *
 * Deterministic: the same rows give the same numbers whatever order DuckDB's threads combine their
 * partials in. Means are exact sums (exact-mean.ts: `avg` of doubles differed in the last bits from
 * run to run), and beyond `exactQuantileRows` the quantile band comes from a sample of each bin
 * chosen by a hash of each row's place (t-digest's `approx_quantile` depends on the merge order).
 */
export async function binnedStats(run: Run, options: BinnedStatsOptions): Promise<BinnedStats> {
  const table = options.table ?? 'events';
  const band = options.band ?? [0.1, 0.9];
  const where = options.where ? `AND (${options.where})` : '';
  const range = await run.session.one<{
    min: number | null;
    max: number | null;
    integer: boolean;
    n: number;
    max_ord: number | null;
    max_pos: number | null;
    [maxAbs: `m${number}`]: number | null;
  }>(
    `SELECT min(x) AS min, max(x) AS max, bool_and(x = round(x)) AS integer, CAST(count(*) AS DOUBLE) AS n,
       CAST(max(ord) AS DOUBLE) AS max_ord, CAST(${table === 'uid_events' ? 'max(pos)' : 'NULL'} AS DOUBLE) AS max_pos,
       ${options.columns.map((c, i) => `${maxAbsSql(quoteIdentifier(c))} AS m${i}`).join(', ') || 'NULL AS m'}
     FROM ${table} WHERE x IS NOT NULL AND isfinite(x) ${where}`,
  );
  const xScale = meanScale(Math.max(Math.abs(range?.min ?? 0), Math.abs(range?.max ?? 0)));
  const spec = binSpec(range?.min ?? 0, range?.max ?? 0, options.maxBins ?? 1000, range?.integer ?? false);
  const exact = (range?.n ?? 0) <= (options.exactQuantileRows ?? 5_000_000);
  const series: BinnedSeries[] = [];
  const bin = binIndexSql('x', spec);
  const group =
    options.groupBy === 'uid' ? 'CAST(uid AS VARCHAR)' : options.groupBy === 'task' ? 'task' : 'NULL';
  // Row order: per-uid rows of one event share its ord, so their position breaks the tie (else the
  // "last" value is any of them, whichever thread's partial DuckDB combines first).
  // One BIGINT when ord and pos fit in it (an arg_max over a struct key took twice as long).
  const packed = (range?.max_ord ?? 0) < 2 ** 42 && (range?.max_pos ?? 0) < POSITIONS;
  const rowOrder = table === 'uid_events' ? "{'o': ord, 'p': pos}" : 'ord';
  const lastOrder = table !== 'uid_events' ? 'ord' : packed ? `(ord * ${POSITIONS} + pos)` : rowOrder;
  const groupCount = options.groupBy === 'task' ? TASK_GROUPS : options.groupBy === 'uid' ? 1024 : 1;
  const sample = Math.max(
    QUANTILE_SAMPLE_MIN,
    Math.min(QUANTILE_SAMPLE_MAX, Math.floor(QUANTILE_SAMPLE_VALUES / (spec.count * groupCount))),
  );
  for (const [index, column] of options.columns.entries()) {
    if (index > 0) await options.between?.();
    const v = quoteIdentifier(column);
    const scale = meanScale(range?.[`m${index}`]);
    const finite = `isfinite(${v})`;
    const quantile = exact
      ? `quantile_cont(${v}, [${band[0]}, ${band[1]}]) FILTER (WHERE ${finite})`
      : `list_aggregate(arg_min(${v}, hash(${rowOrder}), ${sample}) FILTER (WHERE ${finite}),
          'quantile_cont', [${band[0]}, ${band[1]}])`;
    const rows = await run.session.columns(`
      SELECT ${group} AS grp, ${bin} AS bin, ${exactMeanSql('x', xScale)} AS x_mean,
        CAST(count(*) FILTER (WHERE ${finite}) AS DOUBLE) AS n,
        ${exactMeanSql(v, scale)} AS mean,
        min(${v}) FILTER (WHERE ${finite}) AS lo,
        max(${v}) FILTER (WHERE ${finite}) AS hi,
        ${quantile} AS q,
        arg_max(${v}, ${lastOrder}) FILTER (WHERE ${finite}) AS last,
        CAST(count(*) FILTER (WHERE NOT ${finite}) AS DOUBLE) AS non_finite
      FROM ${table}
      WHERE x IS NOT NULL AND isfinite(x) AND ${v} IS NOT NULL ${where}
      GROUP BY ALL ORDER BY grp NULLS FIRST, bin`);
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
    series.push(...groups.values());
  }
  return {
    spec,
    quantiles: exact ? 'exact' : 'approximate',
    quantileSample: exact ? undefined : sample,
    band,
    series,
  };
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

/** SQL literal for a task filter. */
export function taskFilter(task: string): string {
  return `task = ${quoteString(task)}`;
}
