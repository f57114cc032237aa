import type { Run } from '../engine/run.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { uidBarChart } from './analysis-charts.js';
import { eventConditions, whereClause } from './filters.js';
import { requireUidColumn } from './run-columns.js';

/** Unique ÷ total non-empty completions per uid (1 = never repeats itself, near 0 = canned answers). */
export async function completionDiversity(run: Run, options: AnalysisOptions): Promise<AnalysisResult> {
  requireUidColumn(run, 'completions', 'the diversity analysis');
  const where = whereClause([...eventConditions(options), `completions IS NOT NULL AND completions <> ''`]);
  const rows = await run.session.all<{ uid: number; completions: number; unique: number; diversity: number }>(
    `SELECT uid, CAST(count(*) AS DOUBLE) AS completions, CAST(count(DISTINCT completions) AS DOUBLE) AS "unique",
       count(DISTINCT completions) / count(*) AS diversity
     FROM uid_events ${where} GROUP BY uid ORDER BY uid`,
  );
  const limited = options.top
    ? [...rows]
        .sort((a, b) => b.completions - a.completions || a.uid - b.uid)
        .slice(0, options.top)
        .sort((a, b) => a.uid - b.uid)
    : rows;
  const result: AnalysisResult = {
    kind: 'diversity',
    title: 'Completion diversity per uid',
    columns: [
      { name: 'uid', type: 'number' },
      { name: 'completions', type: 'number' },
      { name: 'unique', type: 'number' },
      { name: 'diversity', type: 'number' },
    ],
    rows: limited,
    notes: [
      'diversity = distinct completion texts ÷ completions, per uid; empty completions (failed calls) are left out',
      ...(options.top
        ? [`showing the ${limited.length} uids with most completions (--top), ordered by uid`]
        : []),
    ],
    total: rows.length,
  };
  result.chart = uidBarChart(result, {
    value: 'diversity',
    title: 'Completion diversity per uid',
    yTitle: 'unique ÷ total completions',
    percent: false,
    caption: 'exact texts compared; empty completions left out',
  });
  return result;
}
