import { duckdb, fromWhere, type Dialect } from '../engine/dialect.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, join, lit, sql, type Sql } from '../engine/sql.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { similarityChart } from './analysis-charts.js';
import { frequentCompletionsSql } from './completion-rates.js';
import { eventFilters, nonEmptyCompletion } from './filters.js';
import { requireUidColumn } from './run-columns.js';

export interface SimilaritySql {
  filters: readonly Sql[];
  /** The most frequent completions that link uids. */
  pool: number;
  /** Pairs kept (0: all). */
  top: number;
  dialect?: Dialect;
}

/**
 * Pairs of uids (uid_a < uid_b) and how many of the `pool` most frequent non-empty completions
 * both sent, strongest first, with the number of pairs (`total`).
 */
export function completionSimilaritySql(options: SimilaritySql): Sql {
  const d = options.dialect ?? duckdb;
  const c = ident('completions');
  const uid = ident('uid');
  const text = ident('text');
  const [uidA, uidB] = [ident('uid_a'), ident('uid_b')];
  const conditions = [...options.filters, nonEmptyCompletion()];
  const frequent = frequentCompletionsSql(d.table('uid_events'), conditions, options.pool, d);
  // The texts as a subquery first: in ClickHouse an IN (subquery) of a distributed table is
  // refused in a query that reads one itself.
  const sent = join(
    [
      sql`SELECT DISTINCT ${uid}, ${text} FROM (SELECT ${uid}, ${c} AS ${text} ${fromWhere(d, 'uid_events', conditions)})`,
      sql`WHERE ${text} IN (${frequent})`,
    ],
    ' ',
  );
  const pairs = join(
    [
      sql`SELECT ${uidA}, ${uidB}, CAST(count(*) AS DOUBLE) AS shared`,
      sql`FROM (SELECT ${uid} AS ${uidA}, ${text} FROM (${sent}))`,
      sql`${d.innerJoin()} (SELECT ${uid} AS ${uidB}, ${text} FROM (${sent})) USING (${text})`,
      sql`WHERE ${uidA} < ${uidB} GROUP BY ${uidA}, ${uidB}`,
    ],
    ' ',
  );
  // The number of pairs beside each row: a window where the engine has them, else a second count.
  const total = d.windows
    ? sql`CAST(count(*) OVER () AS DOUBLE)`
    : sql`(SELECT CAST(count(*) AS DOUBLE) FROM (${pairs}))`;
  return join(
    [
      sql`SELECT ${uidA}, ${uidB}, shared, ${total} AS total FROM (${pairs})`,
      sql`ORDER BY shared DESC, ${uidA}, ${uidB}${options.top > 0 ? sql` LIMIT ${lit(options.top)}` : sql``}`,
    ],
    ' ',
  );
}

/**
 * Uids linked by the frequent completions they share: among the K most frequent non-empty
 * completions (`--completions`, default 50), every pair of uids that both sent at least one of
 * them, with how many of those texts they share. Spam rings show up as dense cliques.
 */
export async function completionSimilarity(
  run: QueryableRun,
  options: AnalysisOptions,
): Promise<AnalysisResult> {
  requireUidColumn(run, 'completions', 'the similarity analysis');
  const pool = options.completions ?? 50;
  const top = options.top ?? 100;
  const edges = await run.answers.all<{ uid_a: number; uid_b: number; shared: number; total: number }>(
    completionSimilaritySql({ filters: eventFilters(options), pool, top, dialect: run.dialect }).text,
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
