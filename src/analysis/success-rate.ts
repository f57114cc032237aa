import type { Run } from '../engine/run.js';
import { UserError } from '../errors.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { uidBarChart } from './analysis-charts.js';
import { eventConditions, whereClause } from './filters.js';

/**
 * How a call's success is decided, per row, first that applies: the `successful` flag (FileTAO),
 * else a non-empty completion (OpenValidators; "" is a failed call), else a finite non-zero reward.
 */
const DEFINITIONS = [
  { column: 'successful', label: 'successful flag', test: 'successful <> 0' },
  { column: 'completions', label: 'non-empty completion', test: `completions <> ''` },
  {
    column: 'rewards',
    label: 'finite non-zero reward',
    test: 'coalesce(isfinite(rewards) AND rewards <> 0, false)',
  },
] as const;

/** Call success rate per uid, saying which definition decided how many calls. */
export async function successRate(run: Run, options: AnalysisOptions): Promise<AnalysisResult> {
  const present = DEFINITIONS.filter((d) => run.storedColumns('uid_rows').has(d.column));
  if (!present.length)
    throw new UserError(
      'success rates need a per-uid successful flag, completions or rewards; this run has none',
      {
        hint: 'run `runlens inspect` to see its per-uid fields',
      },
    );
  const which = `CASE ${present.map((d, i) => `WHEN ${d.column} IS NOT NULL THEN ${i}`).join(' ')} END`;
  const ok = `CASE ${present.map((d) => `WHEN ${d.column} IS NOT NULL THEN ${d.test}`).join(' ')} END`;
  const where = whereClause([...eventConditions(options), `${which} IS NOT NULL`]);
  const base = `SELECT uid, ${which} AS def, ${ok} AS ok FROM uid_events ${where}`;
  const rows = await run.session.all<{ uid: number; calls: number; successes: number; rate: number }>(
    `SELECT uid, CAST(count(*) AS DOUBLE) AS calls, CAST(count(*) FILTER (WHERE ok) AS DOUBLE) AS successes,
       count(*) FILTER (WHERE ok) / count(*) AS rate
     FROM (${base}) GROUP BY uid ORDER BY uid`,
  );
  const used = await run.session.all<{ def: number; n: number }>(
    `SELECT def, CAST(count(*) AS DOUBLE) AS n FROM (${base}) GROUP BY def ORDER BY def`,
  );
  const definition = used
    .map((u) => `${present[u.def].label} (${u.n.toLocaleString('en-US')} calls)`)
    .join(', ');
  const limited = options.top
    ? [...rows].sort((a, b) => b.calls - a.calls || a.uid - b.uid).slice(0, options.top)
    : rows;
  if (options.top) limited.sort((a, b) => a.uid - b.uid);
  const result: AnalysisResult = {
    kind: 'success',
    title: 'Call success rate per uid',
    columns: [
      { name: 'uid', type: 'number' },
      { name: 'calls', type: 'number' },
      { name: 'successes', type: 'number' },
      { name: 'rate', type: 'number' },
    ],
    rows: limited,
    notes: [
      `success decided by: ${definition || 'no calls'}`,
      'order of precedence per call: successful flag, else non-empty completion, else finite non-zero reward',
      ...(options.top ? [`showing the ${limited.length} uids with most calls (--top), ordered by uid`] : []),
    ],
    total: rows.length,
  };
  result.chart = uidBarChart(result, {
    value: 'rate',
    title: 'Success rate per uid',
    yTitle: 'success rate',
    percent: true,
    caption: `success = ${definition}`,
  });
  return result;
}
