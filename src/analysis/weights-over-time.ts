import { duckdb, type Dialect } from '../engine/dialect.js';
import { exactMeanSql, meanScales } from '../engine/exact-mean.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, lit, qualified, sql, type Sql } from '../engine/sql.js';
import { WEIGHT_KINDS } from '../engine/uid-indexed-matrix.js';
import { UserError } from '../errors.js';
import type { AnalysisOptions, AnalysisResult } from './analysis-result.js';
import { weightsChart } from './analysis-charts.js';
import { eventFilters, whereClause } from './filters.js';
import { bucketColumn, bucketStart, checkBucketCount, resolveInterval, type Interval } from './interval.js';
import { withEventColumns } from './run-columns.js';

const KINDS: readonly string[] = WEIGHT_KINDS;
const KIND = ident('kind');
const UID = ident('uid');
const VALUE = ident('value');
const ORD = ident('ord');

/**
 * uid-indexed values with their event's x, ord, task and `_timestamp` (NULL when the run has none):
 * a relation whose queries add the dialect's scope to their conditions.
 */
export function weightRowsSql(hasTime: boolean, d: Dialect = duckdb): Sql {
  const [i, e] = ['i', 'e'];
  const nullTime = sql`${d.nullDouble()} AS ${ident('_timestamp')}`;
  if (d.name === 'clickhouse')
    return withEventColumns(
      d,
      'uid_indexed',
      ['run', 'file_id', 'rec', 'kind', 'uid', 'value'].map((c) => ident(c)),
      [...['x', 'ord', 'task'].map((c) => ident(c)), hasTime ? ident('_timestamp') : nullTime],
    );
  const time = hasTime ? qualified(e, '_timestamp') : nullTime;
  const columns = [
    ...['kind', 'uid', 'value'].map((c) => qualified(i, c)),
    ...['x', 'ord', 'task'].map((c) => qualified(e, c)),
    time,
  ];
  return sql`(SELECT ${columns} FROM ${ident('uid_indexed')} ${ident(i)} JOIN ${ident('events')} ${ident(e)} USING (${ident('file_id')}, ${ident('rec')}))`;
}

/** Vectors per weight kind, most first. */
export function weightVectorsSql(relation: Sql, filters: readonly Sql[], d: Dialect = duckdb): Sql {
  const kinds = sql`${KIND} IN (${KINDS.map((k) => lit(k))})`;
  return sql`SELECT ${KIND}, CAST(count(DISTINCT ${ORD}) AS DOUBLE) AS vectors FROM ${relation}${whereClause([...d.scope(), ...filters, kinds])} GROUP BY ${KIND} ORDER BY vectors DESC, ${KIND}`;
}

/**
 * The `top` uids with the highest exact mean of their finite weights (`conditions`: filters and
 * kind), ties by uid; `top` 0: every uid.
 */
export function topWeightUidsSql(
  relation: Sql,
  conditions: readonly Sql[],
  scale: number,
  top: number,
  d: Dialect = duckdb,
): Sql {
  const limit = top > 0 ? sql` LIMIT ${lit(top)}` : sql``;
  const where = whereClause([...d.scope(), ...conditions, d.isFinite(VALUE)]);
  return sql`SELECT ${UID} FROM ${relation}${where} GROUP BY ${UID} ORDER BY ${exactMeanSql(VALUE, scale, d)} DESC, ${UID}${limit}`;
}

/** Every weight of the chosen uids, by vector (its ord, as `vector`) and uid. */
export function weightValuesSql(relation: Sql, conditions: readonly Sql[], d: Dialect = duckdb): Sql {
  const where = whereClause([...d.scope(), ...conditions]);
  return sql`SELECT ${d.double(ORD)} AS vector, ${ident('x')}, ${UID}, ${VALUE} FROM ${relation}${where} ORDER BY ${ORD}, ${UID}`;
}

/** The chosen uids' weight in the last vector (by row order) of each interval, as `last`. */
export function weightIntervalsSql(
  relation: Sql,
  conditions: readonly Sql[],
  interval: Interval,
  d: Dialect = duckdb,
): Sql {
  const where = whereClause([...d.scope(), ...conditions, d.isFinite(interval.expression)]);
  return sql`SELECT ${bucketColumn(interval, d)}, ${UID}, ${d.argMaxIf(VALUE, ORD)} AS ${ident('last')} FROM ${relation}${where} GROUP BY bucket, ${UID} ORDER BY bucket, ${UID}`;
}

/**
 * The N uids with the highest mean weight, their weight in every weight vector (set_weights or
 * neuron_weights rows) over x; with `--interval`, the last vector of each interval.
 */
export async function weightsOverTime(run: QueryableRun, options: AnalysisOptions): Promise<AnalysisResult> {
  const d = run.dialect;
  const filters = eventFilters(options);
  const relation = weightRowsSql(run.storedColumns('rows').has('_timestamp'), d);
  const kinds = await run.answers.all<{ kind: string; vectors: number }>(
    weightVectorsSql(relation, filters, d).text,
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
  const [scale] = await meanScales(
    run.answers,
    sql`${relation}${whereClause([...d.scope(), ...scope])}`,
    [VALUE],
    d,
  );
  const topUids = (
    await run.answers.all<{ uid: number }>(topWeightUidsSql(relation, scope, scale, top, d).text)
  ).map((r) => r.uid);
  const columnOf = (uid: number) => `uid_${uid}`;
  const rows: AnalysisResult['rows'] = [];
  const chosenUids = [
    ...scope,
    topUids.length ? sql`${UID} IN (${topUids.map((u) => lit(u))})` : d.bool(false),
  ];
  if (options.interval === undefined) {
    const values = await run.answers.all<{ vector: number; x: number | null; uid: number; value: number }>(
      weightValuesSql(relation, chosenUids, d).text,
    );
    let current: Record<string, number | null> | undefined;
    let currentVector = NaN;
    for (const v of values) {
      if (v.vector !== currentVector) {
        currentVector = v.vector;
        current = { x: v.x, ...Object.fromEntries(topUids.map((u) => [columnOf(u), null])) };
        rows.push(current);
      }
      current![columnOf(v.uid)] = v.value;
    }
  } else {
    const interval = await resolveInterval(run, options.interval, false);
    const values = await run.answers.all<{ bucket: number; uid: number; last: number }>(
      weightIntervalsSql(relation, chosenUids, interval, d).text,
    );
    if (values.length) checkBucketCount(interval, values[0].bucket, values[values.length - 1].bucket);
    for (const v of values) {
      let row = rows.at(-1);
      const start = bucketStart(interval, v.bucket);
      if (row?.start !== start) {
        row = { start, ...Object.fromEntries(topUids.map((u) => [columnOf(u), null])) };
        rows.push(row);
      }
      row[columnOf(v.uid)] = v.last;
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
