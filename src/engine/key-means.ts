import { duckdbMeanOfSum, duckdbScaledSum, fromWhere, scoped, type Dialect } from './dialect.js';
import { exactMeanSql, maxAbsesSql, meanScale, meanScales } from './exact-mean.js';
import { finiteCountSql } from './finite-counts.js';
import type { QueryableRun } from './queryable.js';
import type { Row } from './session.js';
import { columnsByParts, runSpans } from './range-state.js';
import { ident, join, lit, sql, type Sql } from './sql.js';

/**
 * A metric averaged per key: the exact mean of its finite values, their count and maximum; or,
 * as a `share`, the share of its values (not NULL) that are not 0 — a success flag's rate — and
 * their count.
 */
export interface KeyMetric {
  expr: Sql;
  kind?: 'mean' | 'share';
  /** Output names: the mean (or share), and the values' count and maximum where asked. */
  mean: string;
  n?: string;
  max?: string;
}

/** The share of `flag`'s values (not NULL) that are not 0; NULL without any. */
export function shareSql(d: Dialect, flag: Sql): Sql {
  return sql`CASE WHEN count(${flag}) > 0 THEN CAST(${d.countIf(sql`${flag} <> 0`)} AS DOUBLE) / count(${flag}) END`;
}

const isShare = (m: KeyMetric) => m.kind === 'share';

/**
 * Per-key means over the uid rows (`uid_events`): per group of `keys`, the rows (`calls`), the
 * distinct values of `distinct` where asked, and each metric's exact mean, finite count and max.
 */
export interface KeyMeansSpec {
  keys: readonly { expr: Sql; name: string }[];
  calls: string;
  metrics: readonly KeyMetric[];
  /** Conditions on the rows. */
  filters: readonly Sql[];
  /** Distinct values per key (uids per completion): does not add up over ranges, one query only. */
  distinct?: { expr: Sql; name: string };
  /** Sort by these output names, each highest first (NULLs last) unless `ascending`. */
  order?: readonly { name: string; ascending?: boolean }[];
  /** Rows kept after sorting (0 or undefined: all). */
  limit?: number;
  /** Output name of the number of keys, beside each row. */
  total?: string;
}

/** The greatest finite value, as a double. */
const maxSql = (d: Dialect, m: Sql) => d.aggregateIf('max', d.double(m), d.isFinite(m));

function orderBy(spec: KeyMeansSpec): Sql {
  const order = spec.order ?? [];
  if (!order.length) return sql``;
  const terms = order.map((o) => (o.ascending ? ident(o.name) : sql`${ident(o.name)} DESC NULLS LAST`));
  const limit = spec.limit ? sql` LIMIT ${lit(spec.limit)}` : sql``;
  return sql` ORDER BY ${join(terms)}${limit}`;
}

/** The per-key means in one query, each metric's mean at `scales[i]` (meanScale of its magnitude). */
export function keyMeansSql(spec: KeyMeansSpec, scales: readonly number[], d: Dialect): Sql {
  const columns = [
    ...spec.keys.map((k) => sql`${k.expr} AS ${ident(k.name)}`),
    sql`CAST(count(*) AS DOUBLE) AS ${ident(spec.calls)}`,
    ...(spec.distinct
      ? [sql`CAST(count(DISTINCT ${spec.distinct.expr}) AS DOUBLE) AS ${ident(spec.distinct.name)}`]
      : []),
    ...spec.metrics.flatMap((m, i) =>
      isShare(m)
        ? [
            ...(m.n ? [sql`CAST(count(${m.expr}) AS DOUBLE) AS ${ident(m.n)}`] : []),
            sql`${shareSql(d, m.expr)} AS ${ident(m.mean)}`,
          ]
        : [
            ...(m.n ? [sql`${finiteCountSql(d, m.expr)} AS ${ident(m.n)}`] : []),
            sql`${exactMeanSql(m.expr, scales[i], d)} AS ${ident(m.mean)}`,
            ...(m.max ? [sql`${maxSql(d, m.expr)} AS ${ident(m.max)}`] : []),
          ],
    ),
  ];
  const grouped = sql`SELECT ${join(columns)} ${fromWhere(d, 'uid_events', spec.filters)} GROUP BY ${join(spec.keys.map((k) => k.expr))}`;
  if (!spec.total) return sql`${grouped}${orderBy(spec)}`;
  // The number of keys beside each row: a window where the engine has them, else a second count.
  const total = d.windows
    ? sql`CAST(count(*) OVER () AS DOUBLE)`
    : sql`(SELECT CAST(count(*) AS DOUBLE) FROM (${grouped}))`;
  return sql`SELECT *, ${total} AS ${ident(spec.total)} FROM (${grouped})${orderBy(spec)}`;
}

/**
 * The per-key means of `spec`: in one query, or on a large run range of x by range of x (each
 * range's answer kept while its rows stay the same) plus the rows without a finite x, the parts'
 * exact sums added up exactly and divided by the one query's arithmetic — the same numbers.
 * `pieceRows`: rows per range (tests).
 */
export async function keyMeans<T extends Row>(
  run: QueryableRun,
  spec: KeyMeansSpec,
  pieceRows?: number,
): Promise<T[]> {
  const d = run.dialect;
  const spans = spec.distinct ? undefined : await runSpans(run, run.ingest.uidRows, pieceRows);
  if (!spans) {
    const from = scoped(d, 'uid_events', spec.filters);
    const scales = await meanScales(
      run.answers,
      from,
      spec.metrics.map((m) => m.expr),
      d,
    );
    return run.answers.all<T>(keyMeansSql(spec, scales, d).text);
  }
  const metrics = spec.metrics;
  const scales = metrics.map(() => 0);
  if (metrics.length) {
    const magnitudes = await columnsByParts(
      run,
      spans,
      [...spec.filters],
      (where) =>
        maxAbsesSql(
          scoped(d, 'uid_events', where),
          metrics.map((m) => m.expr),
          d,
        ).text,
    );
    metrics.forEach((_, i) => {
      const m = magnitudes.map((p) => p[`m${i}`]?.[0]).filter((v): v is number => typeof v === 'number');
      scales[i] = meanScale(m.length ? Math.max(...m) : null);
    });
  }
  const k = (i: number) => ident(`k${i}`);
  const parts = await columnsByParts(run, spans, [...spec.filters], (where) => {
    const columns = [
      ...spec.keys.map((key, i) => sql`${key.expr} AS ${k(i)}`),
      sql`CAST(count(*) AS DOUBLE) AS calls`,
      ...metrics.flatMap((m, i) => {
        // A share: its flags not 0 (in s) and not NULL (in n); a mean: the exact scaled sum, the
        // finite values, the max.
        if (isShare(m))
          return [
            sql`CAST(${d.countIf(sql`${m.expr} <> 0`)} AS VARCHAR) AS ${ident(`s${i}`)}`,
            sql`CAST(count(${m.expr}) AS DOUBLE) AS ${ident(`n${i}`)}`,
            sql`CAST(NULL AS DOUBLE) AS ${ident(`x${i}`)}`,
          ];
        const { sum } = duckdbScaledSum(m.expr, scales[i]);
        return [
          sql`CAST(${sum} AS VARCHAR) AS ${ident(`s${i}`)}`,
          sql`${finiteCountSql(d, m.expr)} AS ${ident(`n${i}`)}`,
          sql`${maxSql(d, m.expr)} AS ${ident(`x${i}`)}`,
        ];
      }),
    ];
    return sql`SELECT ${join(columns)} ${fromWhere(d, 'uid_events', where)} GROUP BY ${join(spec.keys.map((key) => key.expr))}`
      .text;
  });
  const merged = mergedSql(spec, scales, parts);
  return merged ? run.session.all<T>(merged.text) : [];
}

type Totals = { keys: unknown[]; calls: number; sums: bigint[]; counts: number[]; maxes: (number | null)[] };

/**
 * The parts' per-key rows added up (counts, exact sums in BigInt, maxima), then the means taken
 * in SQL as the one query takes them (duckdbMeanOfSum), sorted and limited as it is.
 */
function mergedSql(
  spec: KeyMeansSpec,
  scales: readonly number[],
  parts: Record<string, unknown[]>[],
): Sql | undefined {
  const metrics = spec.metrics;
  const totals = new Map<string, Totals>();
  for (const part of parts) {
    const rows = part.calls?.length ?? 0;
    for (let row = 0; row < rows; row++) {
      const keys = spec.keys.map((_, i) => part[`k${i}`][row]);
      const id = JSON.stringify(keys, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      let t = totals.get(id);
      if (!t)
        totals.set(
          id,
          (t = {
            keys,
            calls: 0,
            sums: metrics.map(() => 0n),
            counts: metrics.map(() => 0),
            maxes: metrics.map(() => null),
          }),
        );
      t.calls += Number(part.calls[row]);
      metrics.forEach((_, i) => {
        const sum = part[`s${i}`][row];
        if (typeof sum === 'string') t.sums[i] += BigInt(sum);
        t.counts[i] += Number(part[`n${i}`][row]);
        const max = part[`x${i}`][row];
        if (typeof max === 'number' && (t.maxes[i] === null || max > t.maxes[i])) t.maxes[i] = max;
      });
    }
  }
  const names = [
    ...spec.keys.map((_, i) => `k${i}`),
    'calls',
    ...metrics.flatMap((_, i) => [`s${i}`, `n${i}`, `x${i}`]),
  ].map((n) => ident(n));
  // As text, a number that is not an integer: a literal with a decimal point is read as a DECIMAL.
  const double = (v: number) => sql`CAST(${lit(String(v))} AS DOUBLE)`;
  const value = (v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v)
      ? double(v)
      : typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'
        ? lit(v)
        : lit(null);
  const rows = [...totals.values()].map(
    (t) =>
      sql`(${join([
        ...t.keys.map(value),
        lit(t.calls),
        ...metrics.flatMap((_, i) => [
          t.counts[i] > 0 ? sql`CAST(${lit(t.sums[i].toString())} AS HUGEINT)` : sql`CAST(NULL AS HUGEINT)`,
          sql`CAST(${lit(t.counts[i])} AS BIGINT)`,
          t.maxes[i] === null ? sql`CAST(NULL AS DOUBLE)` : double(t.maxes[i]),
        ]),
      ])})`,
  );
  const columns = [
    ...spec.keys.map((key, i) => sql`${ident(`k${i}`)} AS ${ident(key.name)}`),
    sql`CAST(calls AS DOUBLE) AS ${ident(spec.calls)}`,
    ...metrics.flatMap((m, i) => {
      const [sum, n] = [ident(`s${i}`), ident(`n${i}`)];
      const value = isShare(m) ? sql`CAST(${sum} AS DOUBLE) / ${n}` : duckdbMeanOfSum(sum, n, scales[i]);
      return [
        ...(m.n ? [sql`CAST(${n} AS DOUBLE) AS ${ident(m.n)}`] : []),
        sql`CASE WHEN ${n} > 0 THEN ${value} END AS ${ident(m.mean)}`,
        ...(m.max && !isShare(m) ? [sql`${ident(`x${i}`)} AS ${ident(m.max)}`] : []),
      ];
    }),
    ...(spec.total ? [sql`CAST(${lit(totals.size)} AS DOUBLE) AS ${ident(spec.total)}`] : []),
  ];
  if (!rows.length) return undefined;
  return sql`SELECT ${join(columns)} FROM (VALUES ${join(rows)}) t(${join(names)})${orderBy(spec)}`;
}
