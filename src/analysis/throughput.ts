import { duckdb, fromWhere, type Dialect } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { sql, type Sql } from '../engine/sql.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { throughputChart } from './analysis-charts.js';
import { eventFilters, whereClause } from './filters.js';
import { bucketColumn, bucketStart, checkBucketCount, resolveInterval, type Interval } from './interval.js';
import { hasUidRows, uidEventsWithTime } from './run-columns.js';

/**
 * Rows of `relation` (a view of the run, or a relation built on them: uidEventsWithTime) per bucket
 * of the interval (rows without a finite value left out), by bucket.
 */
export function bucketCountsSql(
  relation: Sql,
  interval: Interval,
  filters: readonly Sql[],
  d: Dialect = duckdb,
): Sql {
  const valid = d.isFinite(interval.expression);
  return sql`SELECT ${bucketColumn(interval, d)}, CAST(count(*) AS DOUBLE) AS n FROM ${relation}${whereClause([...d.scope(), ...filters, valid])} GROUP BY bucket ORDER BY bucket`;
}

/** Events the interval cannot place (no finite `_timestamp` or x). */
export function unplacedEventsSql(interval: Interval, filters: readonly Sql[], d: Dialect = duckdb): Sql {
  const unplaced = sql`NOT coalesce(${d.isFinite(interval.expression)}, ${d.bool(false)})`;
  return sql`SELECT CAST(count(*) AS DOUBLE) AS n ${fromWhere(d, 'events', [...filters, unplaced])}`;
}

/** Events (and per-uid calls) per interval of `_timestamp` time or of x, empty intervals included. */
export async function throughput(run: QueryableRun, options: AnalysisOptions): Promise<AnalysisResult> {
  const d = run.dialect;
  const interval = await resolveInterval(run, options.interval, true);
  const filters = eventFilters(options);
  const events = await run.answers.all<{ bucket: number; n: number }>(
    bucketCountsSql(d.table('events'), interval, filters, d).text,
  );
  const hasCalls = hasUidRows(run);
  const calls = hasCalls
    ? await run.answers.all<{ bucket: number; n: number }>(
        bucketCountsSql(uidEventsWithTime(run), interval, filters, d).text,
      )
    : [];
  const missing = await run.answers.one<{ n: number }>(unplacedEventsSql(interval, filters, d).text);
  const rows: AnalysisResult['rows'] = [];
  const timeAxis = interval.axis === 'time';
  if (events.length) {
    const lo = events[0].bucket;
    const hi = events[events.length - 1].bucket;
    checkBucketCount(interval, lo, hi);
    const eventsBy = new Map(events.map((r) => [r.bucket, r.n]));
    const callsBy = new Map(calls.map((r) => [r.bucket, r.n]));
    for (let b = lo; b <= hi; b++) {
      const n = eventsBy.get(b) ?? 0;
      rows.push({
        start: bucketStart(interval, b),
        end: bucketStart(interval, b + 1),
        events: n,
        ...(hasCalls ? { uid_rows: callsBy.get(b) ?? 0 } : {}),
        ...(timeAxis ? { events_per_minute: +((n * 60) / interval.width).toPrecision(6) } : {}),
      });
    }
  }
  const notes = [
    `interval ${interval.label} of ${timeAxis ? '_timestamp (UTC)' : run.x.label}; intervals without events are listed with 0`,
  ];
  if (missing?.n)
    notes.push(
      `${missing.n} events without a finite ${timeAxis ? '_timestamp' : run.x.label} are not counted`,
    );
  const columns: AnalysisResult['columns'] = [
    { name: 'start', type: timeAxis ? 'text' : 'number' },
    { name: 'end', type: timeAxis ? 'text' : 'number' },
    { name: 'events', type: 'number' },
  ];
  if (hasCalls) columns.push({ name: 'uid_rows', type: 'number' });
  if (timeAxis) columns.push({ name: 'events_per_minute', type: 'number' });
  const result: AnalysisResult = {
    kind: 'throughput',
    title: `Events per ${interval.label}`,
    columns,
    rows,
    notes,
  };
  result.chart = throughputChart(result, {
    timeAxis,
    xTitle: timeAxis ? 'time (UTC)' : run.x.label,
    caption: `${rows.reduce((sum, r) => sum + (r.events as number), 0).toLocaleString('en-US')} events · interval ${interval.label}`,
  });
  return result;
}
