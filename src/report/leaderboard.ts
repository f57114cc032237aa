import { exactMeanSql, maxAbsesSql, meanScale, meanScales } from '../engine/exact-mean.js';
import { duckdbMeanOfSum, duckdbScaledSum, fromWhere, scoped } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { columnsByParts, runSpans, type XSpan } from '../engine/range-state.js';
import { ident, join, lit, sql } from '../engine/sql.js';

export interface LeaderboardRow {
  uid: number;
  /** uid rows (queries answered or not). */
  count: number;
  meanReward: number | null;
  successRate: number | null;
  meanCompletionTime: number | null;
}

export interface Leaderboard {
  rows: LeaderboardRow[];
  columns: { reward: boolean; success: boolean; completionTime: boolean };
  /** uids beyond the cap (the report lists the best `max` by mean reward). */
  omitted: number;
}

/**
 * Per uid over every uid row: count, mean reward, success rate and mean completion time (NaN and
 * null values are left out of each mean), best mean reward first.
 */
export async function leaderboard(
  run: QueryableRun,
  max = 5000,
  pieceRows?: number,
): Promise<Leaderboard | undefined> {
  const stored = run.storedColumns('uid_rows');
  if (!stored.has('uid')) return undefined;
  const columns = {
    reward: stored.has('rewards'),
    success: stored.has('successful'),
    completionTime: stored.has('completion_times'),
  };
  const present = ['rewards', 'successful', 'completion_times'].filter((c) => stored.has(c));
  const spans = await runSpans(run, run.ingest.uidRows, pieceRows);
  const found = spans ? await boardByRanges(run, present, spans) : await boardInOneQuery(run, present);
  if (!found.length) return undefined;
  const board = found.map(({ key, ...rest }) => ({ uid: Number(key), ...rest }));
  return { rows: board.slice(0, max), columns, omitted: Math.max(0, board.length - max) };
}

type BoardRow = {
  key: number;
  count: number;
  meanReward: number | null;
  successRate: number | null;
  meanCompletionTime: number | null;
};

const MEANS = [
  ['rewards', 'meanReward'],
  ['successful', 'successRate'],
  ['completion_times', 'meanCompletionTime'],
] as const;

async function boardInOneQuery(run: QueryableRun, present: readonly string[]): Promise<BoardRow[]> {
  const d = run.dialect;
  const uid = ident('uid');
  const rows = scoped(d, 'uid_rows', [sql`${uid} >= 0`]);
  const scales = await meanScales(run.answers, rows, present.map(ident), d);
  const mean = (column: string) => {
    const i = present.indexOf(column);
    return i < 0 ? d.nullDouble() : exactMeanSql(ident(column), scales[i], d);
  };
  return run.answers.all<BoardRow>(
    sql`SELECT ${uid} AS ${ident('key')}, CAST(count(*) AS DOUBLE) AS ${ident('count')},
           ${join(MEANS.map(([column, name]) => sql`${mean(column)} AS ${ident(name)}`))}
    FROM ${rows} GROUP BY ${uid}
    ORDER BY ${ident('meanReward')} DESC NULLS LAST, ${uid}`.text,
  );
}

/**
 * The same board from the uid rows range of x by range of x (each range's answer kept while its
 * rows stay the same) and those without a finite x: per range and uid the count and each column's
 * exact scaled sum (HUGEINT, as text) and finite count, added up exactly, the means then taken by
 * the one query's arithmetic.
 */
async function boardByRanges(
  run: QueryableRun,
  present: readonly string[],
  spans: readonly XSpan[],
): Promise<BoardRow[]> {
  const d = run.dialect;
  const uid = ident('uid');
  const rows = [sql`${uid} >= 0`];
  const scales = present.map(() => 0);
  if (present.length) {
    const magnitudes = await columnsByParts(
      run,
      spans,
      rows,
      (where) => maxAbsesSql(scoped(d, 'uid_events', where), present.map(ident), d).text,
    );
    present.forEach((_, i) => {
      const m = magnitudes.map((p) => p[`m${i}`]?.[0]).filter((v): v is number => typeof v === 'number');
      scales[i] = meanScale(m.length ? Math.max(...m) : null);
    });
  }
  const sums = present.map((column, i) => duckdbScaledSum(ident(column), scales[i]));
  const parts = await columnsByParts(
    run,
    spans,
    rows,
    (where) =>
      sql`SELECT ${uid} AS ${ident('key')}, CAST(count(*) AS DOUBLE) AS ${ident('count')}${join(
        sums.map(
          (s, i) =>
            sql`, CAST(${s.sum} AS VARCHAR) AS ${ident(`s${i}`)}, CAST(${s.count} AS DOUBLE) AS ${ident(`n${i}`)}`,
        ),
        '',
      )} ${fromWhere(d, 'uid_events', where)} GROUP BY ${uid}`.text,
  );
  // Per uid: rows, and per column the exact sum (BigInt) and its count.
  const totals = new Map<number, { count: number; sums: bigint[]; counts: number[] }>();
  for (const part of parts)
    (part.key ?? []).forEach((k, row) => {
      const key = Number(k);
      let t = totals.get(key);
      if (!t) totals.set(key, (t = { count: 0, sums: present.map(() => 0n), counts: present.map(() => 0) }));
      t.count += Number(part.count[row]);
      present.forEach((_, i) => {
        const sum = part[`s${i}`][row];
        if (typeof sum === 'string') t.sums[i] += BigInt(sum);
        t.counts[i] += Number(part[`n${i}`][row]);
      });
    });
  if (!totals.size) return [];
  const values = [...totals].map(
    ([key, t]) =>
      sql`(${lit(key)}, ${lit(t.count)}${join(
        present.map((_, i) =>
          t.counts[i] > 0
            ? sql`, CAST(${lit(t.sums[i].toString())} AS HUGEINT), CAST(${lit(t.counts[i])} AS BIGINT)`
            : sql`, CAST(NULL AS HUGEINT), CAST(0 AS BIGINT)`,
        ),
        '',
      )})`,
  );
  const names = ['key', 'count', ...present.flatMap((_, i) => [`s${i}`, `n${i}`])].map((n) => ident(n));
  const mean = (column: string) => {
    const i = present.indexOf(column);
    return i < 0 ? d.nullDouble() : duckdbMeanOfSum(ident(`s${i}`), ident(`n${i}`), scales[i]);
  };
  return run.session.all<BoardRow>(
    sql`SELECT CAST(${ident('key')} AS INTEGER) AS ${ident('key')}, CAST(${ident('count')} AS DOUBLE) AS ${ident('count')},
           ${join(MEANS.map(([column, name]) => sql`${mean(column)} AS ${ident(name)}`))}
    FROM (VALUES ${join(values)}) t(${join(names)})
    ORDER BY ${ident('meanReward')} DESC NULLS LAST, ${ident('key')}`.text,
  );
}
