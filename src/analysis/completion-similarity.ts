import type { Run } from '../engine/run.js';
import { ident, join, lit, sql, type Sql } from '../engine/sql.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { similarityChart } from './analysis-charts.js';
import { eventFilters, nonEmptyCompletion, whereClause } from './filters.js';
import { requireUidColumn } from './run-columns.js';

export interface SimilaritySql {
  filters: readonly Sql[];
  /** The most frequent completions that link uids. */
  pool: number;
  /** Pairs kept (0: all). */
  top: number;
}

/**
 * Pairs of uids (uid_a < uid_b) and how many of the `pool` most frequent non-empty completions
 * both sent, strongest first, with the number of pairs (`total`).
 */
export function completionSimilaritySql(options: SimilaritySql): Sql {
  const c = ident('completions');
  const uid = ident('uid');
  const text = ident('text');
  const where = whereClause([...options.filters, nonEmptyCompletion()]);
  const [a, b] = [ident('a'), ident('b')];
  return join(
    [
      sql`WITH frequent AS (SELECT ${c} AS ${text} FROM ${ident('uid_events')}${where}`,
      sql`GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ${lit(options.pool)}),`,
      sql`sent AS (SELECT DISTINCT ${uid}, ${c} AS ${text} FROM ${ident('uid_events')}${where} AND ${c} IN (SELECT ${text} FROM frequent)),`,
      sql`pairs AS (SELECT ${a}.${uid} AS uid_a, ${b}.${uid} AS uid_b, CAST(count(*) AS DOUBLE) AS shared`,
      sql`FROM sent ${a} JOIN sent ${b} ON ${a}.${text} = ${b}.${text} AND ${a}.${uid} < ${b}.${uid} GROUP BY 1, 2)`,
      sql`SELECT *, CAST(count(*) OVER () AS DOUBLE) AS total FROM pairs`,
      sql`ORDER BY shared DESC, uid_a, uid_b${options.top > 0 ? sql` LIMIT ${lit(options.top)}` : sql``}`,
    ],
    ' ',
  );
}

/**
 * Uids linked by the frequent completions they share: among the K most frequent non-empty
 * completions (`--completions`, default 50), every pair of uids that both sent at least one of
 * them, with how many of those texts they share. Spam rings show up as dense cliques.
 */
export async function completionSimilarity(run: Run, options: AnalysisOptions): Promise<AnalysisResult> {
  requireUidColumn(run, 'completions', 'the similarity analysis');
  const pool = options.completions ?? 50;
  const top = options.top ?? 100;
  const edges = await run.session.all<{ uid_a: number; uid_b: number; shared: number; total: number }>(
    completionSimilaritySql({ filters: eventFilters(options), pool, top }).text,
  );
  const total = edges[0]?.total ?? 0;
  const result: AnalysisResult = {
    kind: 'similarity',
    title: 'Uids linked by shared frequent completions',
    columns: [
      { name: 'uid_a', type: 'number' },
      { name: 'uid_b', type: 'number' },
      { name: 'shared', type: 'number' },
    ],
    rows: edges.map(({ total: _total, ...edge }) => edge),
    notes: [
      `links come from the ${pool} most frequent non-empty completions (--completions); shared = how many of those texts both uids sent`,
      `${total.toLocaleString('en-US')} linked pairs${top > 0 && total > top ? `, showing the ${top} strongest (--top 0 for all)` : ''}`,
    ],
    total,
  };
  result.chart = similarityChart(
    result,
    `${result.rows.length.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} pairs · links from the ${pool} most frequent completions`,
  );
  return result;
}
