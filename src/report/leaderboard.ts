import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import { scoped } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, sql } from '../engine/sql.js';

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
export async function leaderboard(run: QueryableRun, max = 5000): Promise<Leaderboard | undefined> {
  const stored = run.storedColumns('uid_rows');
  if (!stored.has('uid')) return undefined;
  const columns = {
    reward: stored.has('rewards'),
    success: stored.has('successful'),
    completionTime: stored.has('completion_times'),
  };
  const d = run.dialect;
  const uid = ident('uid');
  const rows = scoped(d, 'uid_rows', [sql`${uid} >= 0`]);
  const present = ['rewards', 'successful', 'completion_times'].filter((c) => stored.has(c));
  const scales = await meanScales(run.answers, rows, present.map(ident), d);
  const mean = (column: string) => {
    const i = present.indexOf(column);
    return i < 0 ? d.nullDouble() : exactMeanSql(ident(column), scales[i], d);
  };
  const found = await run.answers.all<{
    key: number;
    count: number;
    meanReward: number | null;
    successRate: number | null;
    meanCompletionTime: number | null;
  }>(
    sql`SELECT ${uid} AS ${ident('key')}, CAST(count(*) AS DOUBLE) AS ${ident('count')},
           ${mean('rewards')} AS ${ident('meanReward')},
           ${mean('successful')} AS ${ident('successRate')},
           ${mean('completion_times')} AS ${ident('meanCompletionTime')}
    FROM ${rows} GROUP BY ${uid}
    ORDER BY ${ident('meanReward')} DESC NULLS LAST, ${uid}`.text,
  );
  if (!found.length) return undefined;
  const board = found.map(({ key, ...rest }) => ({ uid: Number(key), ...rest }));
  return { rows: board.slice(0, max), columns, omitted: Math.max(0, board.length - max) };
}
