import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import type { Run } from '../engine/run.js';
import { quoteString } from '../engine/session.js';
import { UserError } from '../errors.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { weightsChart } from './analysis-charts.js';
import { eventConditions, whereClause } from './filters.js';
import { bucketExpression, bucketStart, checkBucketCount, resolveInterval } from './interval.js';

const KINDS = ['set_weights', 'neuron_weights'];

/**
 * The N uids with the highest mean weight, their weight in every weight vector (set_weights or
 * neuron_weights rows) over x; with `--interval`, the last vector of each interval.
 */
export async function weightsOverTime(run: Run, options: AnalysisOptions): Promise<AnalysisResult> {
  const filters = eventConditions(options);
  const time = run.storedColumns('rows').has('_timestamp') ? 'e."_timestamp"' : 'NULL AS "_timestamp"';
  const relation = `(SELECT i.kind, i.uid, i.value, e.x, e.ord, e.task, ${time} FROM uid_indexed i JOIN events e USING (file_id, rec))`;
  const kinds = await run.session.all<{ kind: string; vectors: number }>(
    `SELECT kind, CAST(count(DISTINCT ord) AS DOUBLE) AS vectors FROM ${relation}
     ${whereClause([...filters, `kind IN (${KINDS.map(quoteString).join(', ')})`])} GROUP BY kind ORDER BY vectors DESC, kind`,
  );
  if (options.metric !== undefined && !KINDS.includes(options.metric))
    throw new UserError(`--metric ${options.metric}: weights come from ${KINDS.join(' or ')}`, {
      hint: `kinds in this run: ${kinds.map((k) => k.kind).join(', ') || 'none'}`,
    });
  const chosen = options.metric ? kinds.find((k) => k.kind === options.metric) : kinds[0];
  if (!chosen)
    throw new UserError(`this run has no ${options.metric ?? 'set_weights or neuron_weights'} rows`, {
      hint: 'weights are logged as lists indexed by uid (FileTAO SetWeights events, wandb neuron_weights rows)',
    });
  const kind = quoteString(chosen.kind);
  const scope = whereClause([...filters, `kind = ${kind}`]);
  const top = options.top || 10;
  const [scale] = await meanScales(run.session, `${relation} ${scope}`, ['value']);
  const topUids = (
    await run.session.all<{ uid: number }>(
      `SELECT uid FROM ${relation} ${scope} AND isfinite(value)
       GROUP BY uid ORDER BY ${exactMeanSql('value', scale)} DESC, uid LIMIT ${top}`,
    )
  ).map((r) => r.uid);
  const columnOf = (uid: number) => `uid_${uid}`;
  const rows: AnalysisResult['rows'] = [];
  const inTop = `uid IN (${topUids.join(', ') || 'NULL'})`;
  if (options.interval === undefined) {
    const values = await run.session.all<{ ord: number; x: number | null; uid: number; value: number }>(
      `SELECT CAST(ord AS DOUBLE) AS ord, x, uid, value FROM ${relation} ${scope} AND ${inTop} ORDER BY ord, uid`,
    );
    let current: Record<string, number | null> | undefined;
    let currentOrd = NaN;
    for (const v of values) {
      if (v.ord !== currentOrd) {
        currentOrd = v.ord;
        current = { x: v.x, ...Object.fromEntries(topUids.map((u) => [columnOf(u), null])) };
        rows.push(current);
      }
      current![columnOf(v.uid)] = v.value;
    }
  } else {
    const interval = await resolveInterval(run, options.interval, false);
    const values = await run.session.all<{ bucket: number; uid: number; value: number }>(
      `SELECT CAST(${bucketExpression(interval)} AS DOUBLE) AS bucket, uid, arg_max(value, ord) AS value
       FROM ${relation} ${scope} AND ${inTop} AND isfinite(${interval.expression})
       GROUP BY ALL ORDER BY bucket, uid`,
    );
    if (values.length) checkBucketCount(interval, values[0].bucket, values[values.length - 1].bucket);
    for (const v of values) {
      let row = rows.at(-1);
      const start = bucketStart(interval, v.bucket);
      if (row?.start !== start) {
        row = { start, ...Object.fromEntries(topUids.map((u) => [columnOf(u), null])) };
        rows.push(row);
      }
      row[columnOf(v.uid)] = v.value;
    }
  }
  const first = options.interval === undefined ? 'x' : 'start';
  const result: AnalysisResult = {
    kind: 'weights',
    title: `Weights of the top ${topUids.length} uids (${chosen.kind})`,
    columns: [
      {
        name: first,
        type: first === 'start' && rows.some((r) => typeof r.start === 'string') ? 'text' : 'number',
      },
      ...topUids.map((u) => ({ name: columnOf(u), type: 'number' as const })),
    ],
    rows,
    notes: [
      `${chosen.kind}: ${chosen.vectors.toLocaleString('en-US')} weight vectors; top uids by mean weight over them`,
      options.interval === undefined
        ? `one row per weight vector, x = ${run.x.label}`
        : 'one row per interval: the last weight vector in it',
    ],
  };
  result.chart = weightsChart(result, {
    caption: `${chosen.vectors.toLocaleString('en-US')} weight vectors · top ${topUids.length} uids by mean weight`,
    first,
    uids: topUids,
    xTitle: first === 'x' ? run.x.label : 'interval start',
    kind: chosen.kind,
  });
  return result;
}
