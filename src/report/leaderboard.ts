import { keyMeans } from '../engine/key-means.js';
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
 * Per uid over every uid row: count, mean reward, success rate (share of the rows with a
 * `successful` flag whose flag is set) and mean completion time (NaN and null values are left out
 * of each mean), best mean reward first.
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
  const present = MEANS.filter(([column]) => stored.has(column));
  const uid = ident('uid');
  const found = await keyMeans<BoardRow>(
    run,
    {
      keys: [{ expr: uid, name: 'key' }],
      calls: 'count',
      // The success rate as uid performance's (uid-performance.ts): flags set among flags.
      metrics: present.map(([column, name]) => ({
        expr: ident(column),
        mean: name,
        kind: column === 'successful' ? ('share' as const) : ('mean' as const),
      })),
      filters: [sql`${uid} >= 0`],
      order: [...(columns.reward ? [{ name: 'meanReward' }] : []), { name: 'key', ascending: true }],
    },
    pieceRows,
  );
  if (!found.length) return undefined;
  const board = found.map((row) => ({
    uid: Number(row.key),
    count: row.count,
    meanReward: row.meanReward ?? null,
    successRate: row.successRate ?? null,
    meanCompletionTime: row.meanCompletionTime ?? null,
  }));
  return { rows: board.slice(0, max), columns, omitted: Math.max(0, board.length - max) };
}

type BoardRow = {
  key: number;
  count: number;
  meanReward?: number | null;
  successRate?: number | null;
  meanCompletionTime?: number | null;
};

const MEANS = [
  ['rewards', 'meanReward'],
  ['successful', 'successRate'],
  ['completion_times', 'meanCompletionTime'],
] as const;
