import type { UidPerformance } from '../charts/uid-performance.js';
import { duckdb, fromWhere, type Dialect } from './dialect.js';
import { finiteCounts } from './finite-counts.js';
import { shareSql } from './key-means.js';
import type { QueryableRun } from './queryable.js';
import { sampleHashSql } from './sample-hash.js';
import { ident, join, lit, sql, type Sql } from './sql.js';

export type { UidPerformance } from '../charts/uid-performance.js';

/** Completion-time quantiles per uid: p10, p25, median, p75, p90. */
const QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9];

/** Completion times up to which the quantiles are exact (as binned statistics' bands). */
export const EXACT_QUANTILE_ROWS = 5_000_000;
/** Beyond, the quantiles come from the times whose place (ord, pos) hashes below a share of this. */
const HASH_RANGE = 1_000_003;

/**
 * Per uid (≥ 0) over every uid row: rows, success rate (share of rows with a `successful` flag
 * whose flag is set) and the completion-time quantiles of its finite times: exact, or with
 * `sample` (a share of HASH_RANGE) from the times whose place hashes below it — a deterministic
 * uniform sample, so DuckDB holds a bounded number of values on large runs.
 */
export function uidPerformanceSql(
  columns: { successful: boolean; completionTimes: boolean },
  sample?: number,
  d: Dialect = duckdb,
): Sql {
  const uid = ident('uid');
  const ok = ident('successful');
  const times = ident('completion_times');
  // The report's leaderboard takes the same share (key-means.ts).
  const rate = columns.successful ? shareSql(d, ok) : d.nullDouble();
  // The sample: the rows whose place hashes (sample-hash.ts, the same in every dialect) below a
  // share. The hash is computed once per row, in the inner SELECT: written into the aggregate's
  // filter, DuckDB evaluated its repeated terms for each (twice the time of the whole query).
  const place = ident('__place');
  const kept =
    sample === undefined
      ? d.isFinite(times)
      : sql`${d.isFinite(times)} AND ${place} % ${lit(HASH_RANGE)} < ${lit(sample)}`;
  const quantiles = columns.completionTimes ? d.quantiles(times, QUANTILES, kept) : d.nullDoubles();
  const inner = [
    uid,
    ...(columns.successful ? [ok] : []),
    ...(columns.completionTimes ? [times] : []),
    ...(sample === undefined
      ? []
      : [sql`${sampleHashSql(0, ident('file_id'), ident('line'), ident('pos'), d)} AS ${place}`]),
  ];
  return join(
    [
      sql`SELECT ${uid} AS ${ident('key')}, ${rate} AS rate, ${quantiles} AS q, CAST(count(*) AS DOUBLE) AS n`,
      sql`FROM (SELECT ${join(inner)} ${fromWhere(d, 'uid_events', [sql`${uid} >= 0`])})`,
      sql`GROUP BY ${uid} ORDER BY ${uid}`,
    ],
    ' ',
  );
}

/** Success rate and completion-time distribution per uid, or undefined without either field. */
export async function uidPerformance(
  run: QueryableRun,
  uidColumns = run.storedColumns('uid_rows'),
): Promise<UidPerformance | undefined> {
  const columns = {
    successful: uidColumns.has('successful'),
    completionTimes: uidColumns.has('completion_times'),
  };
  if (!columns.successful && !columns.completionTimes) return undefined;
  // Rows with a finite time: range by range on a large run (answers.ts), as the report's counts.
  const total = columns.completionTimes
    ? (await finiteCounts(run, 'uid_events', ['completion_times']))[0]
    : 0;
  const sample =
    total > EXACT_QUANTILE_ROWS ? Math.ceil((HASH_RANGE * EXACT_QUANTILE_ROWS) / total) : undefined;
  const cols = await run.answers.columns(uidPerformanceSql(columns, sample, run.dialect).text);
  const q = (cols.q as (number[] | null)[]).map((v) => v ?? []);
  const at = (i: number) => q.map((v) => v[i] ?? NaN);
  return {
    uid: ((cols.key ?? []) as number[]).map(Number),
    successRate: (cols.rate as (number | null)[]).map((v) => v ?? NaN),
    p10: at(0),
    p25: at(1),
    p50: at(2),
    p75: at(3),
    p90: at(4),
    count: cols.n as number[],
    quantileShare: sample === undefined ? undefined : sample / HASH_RANGE,
  };
}
