import { binnedStats, type BinnedSeries } from '../engine/binned-stats.js';
import { scoped } from '../engine/dialect.js';
import { meanScales } from '../engine/exact-mean.js';
import { keyMeansSql } from '../engine/key-means.js';
import type { QueryableRun } from '../engine/queryable.js';
import { ident, sql, type Sql } from '../engine/sql.js';
import { UserError } from '../errors.js';
import { binnedLineSpec } from '../charts/binned-line.js';
import { defaultSmoothingWindow } from '../charts/smoothing.js';
import type { AnalysisOptions, AnalysisResult, CellValue } from './analysis-result.js';
import { fleetMatrixChart } from './analysis-charts.js';
import { eventFilters } from './filters.js';
import { leaderboardSql } from './leaderboard.js';
import { requireMetric } from './run-columns.js';
import { SUCCESS_DEFINITIONS, successRateSql, successRowsSql } from './success-rate.js';

/**
 * Analyses over several runs of a fleet read together (a FleetRun of many names): the same
 * definitions as one run's, over the union of their rows, plus each run's share and the spread
 * between runs. A miner one validator rewards and the others do not shows as a large spread.
 */
export interface MultiRun extends QueryableRun {
  readonly names: readonly string[];
}

export const FLEET_KINDS = ['leaderboard', 'success', 'rewards'] as const;
export type FleetKind = (typeof FLEET_KINDS)[number];

/** Runs shown as columns of their own in the tables (more are in --json only). */
const RUN_COLUMNS = 10;

export async function analyzeFleet(
  run: MultiRun,
  kind: string,
  options: AnalysisOptions,
): Promise<AnalysisResult> {
  if (run.dialect.name !== 'clickhouse')
    throw new Error('fleet analyses read several runs of a ClickHouse fleet');
  switch (kind) {
    case 'leaderboard':
      return fleetLeaderboard(run, options);
    case 'success':
      return fleetSuccess(run, options);
    case 'rewards':
      return fleetRewards(run, options);
    default:
      throw new UserError(`--kind ${kind} is not a fleet analysis`, {
        hint: `over several runs (--runs, --all): ${FLEET_KINDS.join(', ')}; one run (--run NAME): every --kind of analyze`,
      });
  }
}

/** Per (uid, run): calls, finite values of the metric and their exact mean (one scale for all runs). */
export function perRunMeansSql(metric: Sql, scale: number, run: MultiRun, filters: readonly Sql[]): Sql {
  const keys = ['uid', 'run'].map((name) => ({ expr: ident(name), name }));
  return keyMeansSql(
    { keys, calls: 'calls', metrics: [{ expr: metric, n: 'n', mean: 'mean' }], filters },
    [scale],
    run.dialect,
  );
}

interface PerRun {
  uid: number;
  run: string;
  value: number | null;
}

/** Each key's per-run values, the number of runs, the spread and which runs are lowest and highest. */
function breakdown(
  perRun: readonly PerRun[],
): Map<
  number,
  { byRun: Map<string, number | null>; spread: number | null; lowest: string | null; highest: string | null }
> {
  const out = new Map<
    number,
    {
      byRun: Map<string, number | null>;
      spread: number | null;
      lowest: string | null;
      highest: string | null;
    }
  >();
  for (const r of perRun) {
    let entry = out.get(r.uid);
    if (!entry) {
      entry = { byRun: new Map(), spread: null, lowest: null, highest: null };
      out.set(r.uid, entry);
    }
    entry.byRun.set(r.run, r.value);
  }
  for (const entry of out.values()) {
    let lo: [string, number] | undefined;
    let hi: [string, number] | undefined;
    for (const [name, value] of entry.byRun) {
      if (value === null || !Number.isFinite(value)) continue;
      if (!lo || value < lo[1]) lo = [name, value];
      if (!hi || value > hi[1]) hi = [name, value];
    }
    if (lo && hi) {
      entry.spread = hi[1] - lo[1];
      entry.lowest = lo[0];
      entry.highest = hi[0];
    }
  }
  return out;
}

function sortRows(rows: Record<string, CellValue>[], column: string, key: string): void {
  rows.sort((a, b) => {
    const x = a[column];
    const y = b[column];
    const xn = typeof x === 'number' && Number.isFinite(x) ? x : -Infinity;
    const yn = typeof y === 'number' && Number.isFinite(y) ? y : -Infinity;
    return yn - xn || Number(a[key]) - Number(b[key]);
  });
}

function runColumnName(prefix: string, run: string): string {
  return `${prefix} ${run}`;
}

/** The leaderboard per uid over all the runs, with each run's mean and the spread between runs. */
export async function fleetLeaderboard(run: MultiRun, options: AnalysisOptions): Promise<AnalysisResult> {
  const metricName = options.metric ?? 'rewards';
  const metric = await requireMetric(run, metricName);
  const filters = eventFilters(options);
  const [scale] = await meanScales(
    run.answers,
    scoped(run.dialect, 'uid_events', filters),
    [metric],
    run.dialect,
  );
  const overall = await run.answers.all<{
    key: number;
    calls: number;
    n: number;
    mean: number | null;
    max: number | null;
  }>(leaderboardSql({ by: 'uid', metric, scale, filters, sort: 'mean', top: 0, dialect: run.dialect }).text);
  const perRun = await run.answers.all<{
    uid: number;
    run: string;
    calls: number;
    n: number;
    mean: number | null;
  }>(perRunMeansSql(metric, scale, run, filters).text);
  const split = breakdown(perRun.map((r) => ({ uid: Number(r.uid), run: r.run, value: r.mean })));
  const shown = run.names.length <= RUN_COLUMNS ? run.names : [];
  const rows: Record<string, CellValue>[] = overall.map((o) => {
    const s = split.get(Number(o.key));
    const runsWithValue = s
      ? [...s.byRun.values()].filter((v) => v !== null && Number.isFinite(v)).length
      : 0;
    return {
      uid: Number(o.key),
      runs: runsWithValue,
      calls: o.calls,
      n: o.n,
      mean: o.mean,
      spread: s?.spread ?? null,
      lowest: s?.lowest ?? null,
      highest: s?.highest ?? null,
      ...Object.fromEntries(shown.map((name) => [runColumnName('mean', name), s?.byRun.get(name) ?? null])),
    };
  });
  const sort =
    options.sort === 'count' ? 'calls' : options.sort === 'max' ? 'spread' : (options.sort ?? 'mean');
  sortRows(rows, sort, 'uid');
  const top = options.top ?? 20;
  const kept = top > 0 ? rows.slice(0, top) : rows;
  const result: AnalysisResult = {
    kind: 'fleet-leaderboard',
    title: `Top uids by ${sort} ${metricName} across ${run.names.length} runs`,
    columns: [
      { name: 'uid', type: 'number' },
      { name: 'runs', type: 'number' },
      { name: 'calls', type: 'number' },
      { name: 'n', type: 'number' },
      { name: 'mean', type: 'number' },
      { name: 'spread', type: 'number' },
      { name: 'lowest', type: 'text' },
      { name: 'highest', type: 'text' },
      ...shown.map((name) => ({ name: runColumnName('mean', name), type: 'number' as const })),
    ],
    rows: kept,
    notes: [
      `runs: ${run.names.join(', ')}`,
      `metric ${metricName}: mean over its finite values in all runs (n); each run's mean over its own; NaN/Infinity left out`,
      'spread = highest run mean − lowest run mean (runs where the uid has a finite value); lowest/highest name those runs',
      `sorted by ${sort}, highest first${options.sort === 'max' ? ' (--sort max sorts a fleet leaderboard by spread)' : ''}`,
    ],
    total: rows.length,
  };
  result.chart = fleetMatrixChart(kept, {
    title: `Mean ${metricName} per uid and run`,
    subtitle: `${kept.length} of ${rows.length} uids · ${run.names.length} runs · exact means of finite values`,
    runs: run.names,
    values: perRun.map((r) => ({ uid: Number(r.uid), run: r.run, value: r.mean })),
    colorTitle: `mean ${metricName}`,
  });
  return result;
}

/** Call success rate per uid over all the runs, with each run's rate and the spread. */
export async function fleetSuccess(run: MultiRun, options: AnalysisOptions): Promise<AnalysisResult> {
  const present = SUCCESS_DEFINITIONS.filter((d) => run.storedColumns('uid_rows').has(d.column));
  if (!present.length)
    throw new UserError(
      'success rates need a per-uid successful flag, completions or rewards; these runs have none',
    );
  const filters = eventFilters(options);
  const d = run.dialect;
  const overall = await run.answers.all<{ uid: number; calls: number; successes: number; rate: number }>(
    successRateSql(present, filters, d).text,
  );
  const perRun = await run.answers.all<{ uid: number; run: string; rate: number }>(
    sql`SELECT ${ident('uid')}, ${ident('run')}, ${d.countIf(sql`ok`)} / count(*) AS rate FROM (${successRowsSql(present, filters, d, [ident('run')])}) GROUP BY ${ident('uid')}, ${ident('run')}`
      .text,
  );
  const split = breakdown(perRun.map((r) => ({ uid: Number(r.uid), run: r.run, value: r.rate })));
  const shown = run.names.length <= RUN_COLUMNS ? run.names : [];
  const rows: Record<string, CellValue>[] = overall.map((o) => {
    const s = split.get(Number(o.uid));
    return {
      uid: Number(o.uid),
      runs: s?.byRun.size ?? 0,
      calls: o.calls,
      successes: o.successes,
      rate: o.rate,
      spread: s?.spread ?? null,
      lowest: s?.lowest ?? null,
      highest: s?.highest ?? null,
      ...Object.fromEntries(shown.map((name) => [runColumnName('rate', name), s?.byRun.get(name) ?? null])),
    };
  });
  const top = options.top ?? 0;
  if (top > 0) sortRows(rows, 'calls', 'uid');
  const kept = top > 0 ? rows.slice(0, top).sort((a, b) => Number(a.uid) - Number(b.uid)) : rows;
  const result: AnalysisResult = {
    kind: 'fleet-success',
    title: `Call success rate per uid across ${run.names.length} runs`,
    columns: [
      { name: 'uid', type: 'number' },
      { name: 'runs', type: 'number' },
      { name: 'calls', type: 'number' },
      { name: 'successes', type: 'number' },
      { name: 'rate', type: 'number' },
      { name: 'spread', type: 'number' },
      { name: 'lowest', type: 'text' },
      { name: 'highest', type: 'text' },
      ...shown.map((name) => ({ name: runColumnName('rate', name), type: 'number' as const })),
    ],
    rows: kept,
    notes: [
      `runs: ${run.names.join(', ')}`,
      'success per call as for one run: successful flag, else non-empty completion, else finite non-zero reward',
      'spread = highest run rate − lowest run rate',
    ],
    total: rows.length,
  };
  result.chart = fleetMatrixChart(kept, {
    title: 'Success rate per uid and run',
    subtitle: `${kept.length} uids · ${run.names.length} runs`,
    runs: run.names,
    values: perRun.map((r) => ({ uid: Number(r.uid), run: r.run, value: r.rate })),
    colorTitle: 'success rate',
  });
  return result;
}

/** The runs' reward curves overlaid: exact per-bin means of one reward per run, on shared bins of x. */
export async function fleetRewards(run: MultiRun, options: AnalysisOptions): Promise<AnalysisResult> {
  const perUid = run.storedColumns('uid_rows');
  const scalars = run.storedColumns('rows');
  const metric =
    options.metric ??
    (perUid.has('rewards') ? 'rewards' : scalars.has('rewards.total') ? 'rewards.total' : undefined);
  if (metric === undefined || (!perUid.has(metric) && !scalars.has(metric)))
    throw new UserError(`no reward field ${metric === undefined ? '' : `"${metric}" `}in these runs`, {
      hint: 'give --metric: a per-uid field (rewards) or a per-event one (rewards.total)',
    });
  const table = perUid.has(metric) ? 'uid_events' : 'events';
  const stats = await binnedStats(run, {
    table,
    columns: [metric],
    groupBy: 'run',
    maxBins: 200,
    where: undefined,
    // The overlay draws means only: no band, so nothing is held per bin (on ClickHouse 18.16 a
    // band holds a bin's values in an array: 8 runs of 1 GB ran a shard out of 9.3 GB).
    band: 'none',
  });
  const series: BinnedSeries[] = stats.series;
  const rows: Record<string, CellValue>[] = series.map((s) => {
    const n = s.count.reduce((a, b) => a + b, 0);
    const lastBin = s.mean.length - 1;
    return {
      run: s.group ?? '',
      bins: s.bin.length,
      rows: n,
      first: s.mean[0] ?? null,
      last: lastBin >= 0 ? s.mean[lastBin] : null,
      min: Math.min(...s.mean.filter(Number.isFinite)),
      max: Math.max(...s.mean.filter(Number.isFinite)),
    };
  });
  const result: AnalysisResult = {
    kind: 'fleet-rewards',
    title: `${metric} over x, ${series.length} runs overlaid`,
    columns: [
      { name: 'run', type: 'text' },
      { name: 'bins', type: 'number' },
      { name: 'rows', type: 'number' },
      { name: 'first', type: 'number' },
      { name: 'last', type: 'number' },
      { name: 'min', type: 'number' },
      { name: 'max', type: 'number' },
    ],
    rows,
    notes: [
      `exact per-bin means of ${metric} (${table === 'uid_events' ? 'every uid row' : 'every event'}), ${stats.spec.count} bins of x shared by all runs`,
      'first/last/min/max: of the per-bin means',
    ],
    total: rows.length,
  };
  const window = defaultSmoothingWindow(stats.spec.count);
  result.chart = binnedLineSpec(series, {
    title: `${metric} per run`,
    caption: `${series.length} runs on ${stats.spec.count} shared bins of ${run.x.label} · thin: exact per-bin means; bold: their EMA over ${window} bins`,
    xTitle: run.x.label,
    yTitle: metric,
    band: 'none',
    smoothing: { method: 'ema', window },
  });
  return result;
}
