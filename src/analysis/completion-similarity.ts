import type { Run } from '../engine/run.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { similarityChart } from './analysis-charts.js';
import { eventConditions, whereClause } from './filters.js';
import { requireUidColumn } from './run-columns.js';

/**
 * Uids linked by the frequent completions they share: among the K most frequent non-empty
 * completions (`--completions`, default 50), every pair of uids that both sent at least one of
 * them, with how many of those texts they share. Spam rings show up as dense cliques.
 */
export async function completionSimilarity(run: Run, options: AnalysisOptions): Promise<AnalysisResult> {
  requireUidColumn(run, 'completions', 'the similarity analysis');
  const pool = options.completions ?? 50;
  const top = options.top ?? 100;
  const where = whereClause([...eventConditions(options), `completions IS NOT NULL AND completions <> ''`]);
  const edges = await run.session.all<{ uid_a: number; uid_b: number; shared: number; total: number }>(
    `WITH frequent AS (
       SELECT completions AS text FROM uid_events ${where} GROUP BY completions ORDER BY count(*) DESC, completions LIMIT ${pool}),
     sent AS (
       SELECT DISTINCT uid, completions AS text FROM uid_events ${where} AND completions IN (SELECT text FROM frequent)),
     pairs AS (
       SELECT a.uid AS uid_a, b.uid AS uid_b, CAST(count(*) AS DOUBLE) AS shared
       FROM sent a JOIN sent b ON a.text = b.text AND a.uid < b.uid GROUP BY ALL)
     SELECT *, CAST(count(*) OVER () AS DOUBLE) AS total FROM pairs
     ORDER BY shared DESC, uid_a, uid_b ${top > 0 ? `LIMIT ${top}` : ''}`,
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
