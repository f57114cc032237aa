import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import type { Run } from '../engine/run.js';
import { quoteIdentifier } from '../engine/session.js';

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
export async function leaderboard(run: Run, max = 5000): Promise<Leaderboard | undefined> {
  const stored = run.storedColumns('uid_rows');
  if (!stored.has('uid')) return undefined;
  const columns = {
    reward: stored.has('rewards'),
    success: stored.has('successful'),
    completionTime: stored.has('completion_times'),
  };
  const present = ['rewards', 'successful', 'completion_times'].filter((c) => stored.has(c));
  const scales = await meanScales(run.session, 'uid_rows WHERE uid >= 0', present.map(quoteIdentifier));
  const mean = (column: string) => {
    const i = present.indexOf(column);
    return i < 0 ? 'NULL' : exactMeanSql(quoteIdentifier(column), scales[i]);
  };
  const rows = await run.session.all<{
    uid: number;
    count: number;
    meanReward: number | null;
    successRate: number | null;
    meanCompletionTime: number | null;
  }>(`
    SELECT CAST(uid AS INTEGER) AS uid, CAST(count(*) AS DOUBLE) AS count,
           ${mean('rewards')} AS "meanReward",
           ${mean('successful')} AS "successRate",
           ${mean('completion_times')} AS "meanCompletionTime"
    FROM uid_rows WHERE uid >= 0 GROUP BY uid
    ORDER BY "meanReward" DESC NULLS LAST, uid`);
  if (!rows.length) return undefined;
  return { rows: rows.slice(0, max), columns, omitted: Math.max(0, rows.length - max) };
}
