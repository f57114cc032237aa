import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import type { Run } from '../engine/run.js';
import { ident, lit, qualified, sql, type Sql } from '../engine/sql.js';
import { WEIGHT_KINDS } from '../engine/uid-indexed-matrix.js';
import { UserError } from '../errors.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { weightsChart } from './analysis-charts.js';
import { eventFilters, whereClause } from './filters.js';
import {
  bucketExpression,
  bucketStart,
  checkBucketCount,
  resolveInterval,
  type Interval,
} from './interval.js';

const KINDS: readonly string[] = WEIGHT_KINDS;
const KIND = ident('kind');
const UID = ident('uid');
const VALUE = ident('value');
const ORD = ident('ord');

/** uid-indexed values with their event's x, ord, task and `_timestamp` (NULL when the run has none). */
export function weightRowsSql(hasTime: boolean): Sql {
  const [i, e] = ['i', 'e'];
  const time = hasTime ? qualified(e, '_timestamp') : sql`CAST(NULL AS DOUBLE) AS ${ident('_timestamp')}`;
  const columns = [
    ...['kind', 'uid', 'value'].map((c) => qualified(i, c)),
    ...['x', 'ord', 'task'].map((c) => qualified(e, c)),
    time,
  ];
  return sql`(SELECT ${columns} FROM ${ident('uid_indexed')} ${ident(i)} JOIN ${ident('events')} ${ident(e)} USING (${ident('file_id')}, ${ident('rec')}))`;
}

/** Vectors per weight kind, most first. */
export function weightVectorsSql(relation: Sql, filters: readonly Sql[]): Sql {
  const kinds = sql`${KIND} IN (${KINDS.map((k) => lit(k))})`;
  return sql`SELECT ${KIND}, CAST(count(DISTINCT ${ORD}) AS DOUBLE) AS vectors FROM ${relation}${whereClause([...filters, kinds])} GROUP BY 1 ORDER BY 2 DESC, 1`;
}

/**
 * The `top` uids with the highest exact mean of their finite weights (`scope` = filters and kind);
 * `top` 0: every uid.
 */
export function topWeightUidsSql(relation: Sql, scope: readonly Sql[], scale: number, top: number): Sql {
  const limit = top > 0 ? sql` LIMIT ${lit(top)}` : sql``;
  return sql`SELECT ${UID} FROM ${relation}${whereClause([...scope, sql`isfinite(${VALUE})`])} GROUP BY 1 ORDER BY ${exactMeanSql(VALUE, scale)} DESC, 1${limit}`;
}

/** Every weight of the chosen uids, by vector (ord) and uid. */
export function weightValuesSql(relation: Sql, scope: readonly Sql[]): Sql {
  return sql`SELECT CAST(${ORD} AS DOUBLE) AS ${ORD}, ${ident('x')}, ${UID}, ${VALUE} FROM ${relation}${whereClause(scope)} ORDER BY 1, 3`;
}

/** The chosen uids' weight in the last vector (by row order) of each interval. */
export function weightIntervalsSql(relation: Sql, scope: readonly Sql[], interval: Interval): Sql {
  const placed = sql`isfinite(${interval.expression})`;
  return sql`SELECT CAST(${bucketExpression(interval)} AS DOUBLE) AS bucket, ${UID}, arg_max(${VALUE}, ${ORD}) AS ${VALUE} FROM ${relation}${whereClause([...scope, placed])} GROUP BY 1, 2 ORDER BY 1, 2`;
}

/**
 * The N uids with the highest mean weight, their weight in every weight vector (set_weights or
 * neuron_weights rows) over x; with `--interval`, the last vector of each interval.
 */
export async function weightsOverTime(run: Run, options: AnalysisOptions): Promise<AnalysisResult> {
  const filters = eventFilters(options);
  const relation = weightRowsSql(run.storedColumns('rows').has('_timestamp'));
  const kinds = await run.session.all<{ kind: string; vectors: number }>(
    weightVectorsSql(relation, filters).text,
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
  const scope = [...filters, sql`${KIND} = ${lit(chosen.kind)}`];
  const top = options.top ?? 10;
  const [scale] = await meanScales(run.session, sql`${relation}${whereClause(scope)}`, [VALUE]);
  const topUids = (
    await run.session.all<{ uid: number }>(topWeightUidsSql(relation, scope, scale, top).text)
  ).map((r) => r.uid);
  const columnOf = (uid: number) => `uid_${uid}`;
  const rows: AnalysisResult['rows'] = [];
  const chosenUids = [...scope, topUids.length ? sql`${UID} IN (${topUids.map((u) => lit(u))})` : sql`false`];
  if (options.interval === undefined) {
    const values = await run.session.all<{ ord: number; x: number | null; uid: number; value: number }>(
      weightValuesSql(relation, chosenUids).text,
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
      weightIntervalsSql(relation, chosenUids, interval).text,
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
