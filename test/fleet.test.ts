import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun, type AnalysisOptions } from '../src/analysis/analyses.js';
import { analyzeFleet } from '../src/analysis/fleet-analyses.js';
import { runCharts } from '../src/analysis/plot-run.js';
import { binnedCountsSql, binnedSeriesSql, binnedStats, sampleLimits } from '../src/engine/binned-stats.js';
import { binSpec } from '../src/engine/bins.js';
import { blockDurations } from '../src/engine/block-durations.js';
import { movingAverageScores, xGoesBackSql } from '../src/engine/moving-average-scores.js';
import { positionCounts } from '../src/engine/positions.js';
import { reservoirSample } from '../src/engine/reservoir.js';
import { uidPerformance } from '../src/engine/uid-performance.js';
import { weightsMatrix } from '../src/engine/uid-indexed-matrix.js';
import { renderSvg } from '../src/render/index.js';
import { gatherReport } from '../src/report/gather-report.js';
import { factsOf } from '../src/report/run-facts.js';
import { Run } from '../src/engine/run.js';
import { Fleet, parseFleetTarget } from '../src/fleet/clickhouse.js';
import { FleetRun } from '../src/fleet/fleet-run.js';
import { pushRun } from '../src/fleet/push.js';
import { simulate } from '../src/simulate/index.js';
import { CLUSTER, startCluster, type ClickHouseCluster } from './helpers/clickhouse.js';
import { tempDir } from './helpers/temp.js';

/**
 * The same aggregate definitions on a 2-shard ClickHouse cluster and on the local index: runs of
 * each profile pushed, every ported aggregate and analysis compared value for value.
 */
const dir = tempDir('runlens-fleet-');
let cluster: ClickHouseCluster;
let fleet: Fleet;
const local = new Map<string, Run>();

const RUNS = [
  { name: 'ft-a', profile: 'filetao', options: { size: '400KB', seed: 3 } },
  { name: 'ft-b', profile: 'filetao', options: { size: '300KB', seed: 4 } },
  {
    name: 'ov-a',
    profile: 'openvalidators',
    options: { size: '300KB', seed: 5, neurons: 30, sampleSize: 10 },
  },
  {
    name: 'ov-b',
    profile: 'openvalidators',
    options: { size: '300KB', seed: 6, neurons: 30, sampleSize: 10 },
  },
  { name: 'rl-a', profile: 'rl', options: { size: '600KB', seed: 7 } },
  { name: 'rl-b', profile: 'rl', options: { size: '400KB', seed: 8 } },
] as const;

/** A run whose x goes back: two validators' logs of the same blocks in one directory. */
const MIXED = 'ft-mixed';

beforeAll(async () => {
  cluster = await startCluster(2);
  fleet = new Fleet(parseFleetTarget(cluster.url, { cluster: CLUSTER }));
  for (const r of RUNS) {
    const out = path.join(dir, r.name);
    await simulate(r.profile, { out, ...r.options });
    const run = await Run.open(out, { cache: false });
    local.set(r.name, run);
    await pushRun(fleet, run, { name: r.name, blockEvents: 120 });
  }
  const mixed = path.join(dir, MIXED);
  for (const [seed, file] of [
    [8, 'a-events.json'],
    [9, 'b-events.json'],
  ] as const) {
    const out = path.join(dir, `mix-${seed}`);
    await simulate('filetao', { out, size: '200KB', seed });
    fs.mkdirSync(mixed, { recursive: true });
    fs.renameSync(path.join(out, 'events.json'), path.join(mixed, file));
  }
  const run = await Run.open(mixed, { cache: false });
  local.set(MIXED, run);
  await pushRun(fleet, run, { name: MIXED });
}, 180_000);

afterAll(async () => {
  for (const run of local.values()) run.close();
  await fleet?.close();
  await cluster?.stop();
});

describe('push', () => {
  it('stores every row of each run once, and a second push adds nothing', async () => {
    for (const r of RUNS) {
      const run = local.get(r.name)!;
      const again = await pushRun(fleet, run, { name: r.name });
      expect(again.inserted).toEqual({ events: 0, uid_events: 0, uid_indexed: 0 });
      const counts = await fleet.query.all<{ events: number; uid: number; distinct: number }>(
        `SELECT (SELECT count() FROM runlens.events WHERE run = '${r.name}') AS events,
                (SELECT count() FROM runlens.uid_events WHERE run = '${r.name}') AS uid,
                (SELECT uniqExact(file_id, rec, pos) FROM runlens.uid_events WHERE run = '${r.name}') AS distinct`,
      );
      expect(Number(counts[0].events)).toBe(run.ingest.rows);
      expect(Number(counts[0].uid)).toBe(run.ingest.uidRows);
      expect(Number(counts[0].distinct)).toBe(run.ingest.uidRows);
    }
  });

  it('puts each run on one shard, and the runs on both shards', async () => {
    const perNode = await Promise.all(
      fleet.nodes.map((n) => n.all<{ run: string }>('SELECT DISTINCT run FROM runlens.events_local')),
    );
    const names = perNode.map((rows) => rows.map((r) => r.run).sort());
    expect(names.flat().sort()).toEqual([...RUNS.map((r) => r.name), MIXED].sort());
    expect(names.every((n) => n.length > 0)).toBe(true);
  });
});

/** Every analysis, with options that take each of its paths (local errors must be the fleet's too). */
const ANALYSIS_CASES: { kind: string; options: AnalysisOptions }[] = [
  { kind: 'throughput', options: {} },
  { kind: 'throughput', options: { interval: '2m' } },
  { kind: 'throughput', options: { interval: '20' } },
  { kind: 'leaderboard', options: { top: 0 } },
  { kind: 'leaderboard', options: { sort: 'count', top: 5 } },
  { kind: 'leaderboard', options: { by: 'completion', top: 4 } },
  { kind: 'success', options: {} },
  { kind: 'diversity', options: {} },
  { kind: 'completion-rates', options: { interval: '5', top: 4 } },
  { kind: 'completion-rates', options: { interval: '5', top: 0 } },
  { kind: 'completion-rates', options: { match: '(?i)^the|\\d+' } },
  { kind: 'completion-rates', options: { match: '(' } },
  { kind: 'weights', options: { top: 5 } },
  { kind: 'weights', options: { top: 0 } },
  { kind: 'similarity', options: { completions: 10, top: 0 } },
];

describe('the same analyses on the cluster', () => {
  for (const r of RUNS)
    it(`every analysis of ${r.name} equals the local engine's (or fails with the same message)`, async () => {
      const run = local.get(r.name)!;
      const remote = await FleetRun.open(fleet, [r.name]);
      const xs = await run.xRange();
      const middle = { min: ((xs.min ?? 0) + (xs.max ?? 0)) / 2 };
      let computed = 0;
      for (const c of [...ANALYSIS_CASES, { kind: 'success', options: { xRange: middle } }]) {
        const label = `${c.kind} ${JSON.stringify(c.options)}`;
        const expected = await analyzeRun(run, c.kind, c.options).catch((e: Error) => e);
        const actual = await analyzeRun(remote, c.kind, c.options).catch((e: Error) => e);
        if (expected instanceof Error) {
          expect(actual, label).toBeInstanceOf(Error);
          expect((actual as Error).message, label).toBe(expected.message);
          continue;
        }
        if (actual instanceof Error) throw new Error(`${label}: ${actual.message}`);
        computed++;
        expect(actual.rows, label).toEqual(expected.rows);
        expect(actual.total, label).toBe(expected.total);
        expect(actual.notes, label).toEqual(expected.notes);
        expect(actual.chart, label).toEqual(expected.chart);
      }
      expect(computed).toBeGreaterThan(r.profile === 'rl' ? 0 : 5);
    });
});

describe('the same aggregates on the cluster', () => {
  for (const r of RUNS)
    it(`binned statistics of ${r.name} equal the local engine's (per uid row and per event, grouped)`, async () => {
      const run = local.get(r.name)!;
      const remote = await FleetRun.open(fleet, [r.name]);
      const numericScalars = [...run.columns.scalars]
        .filter(([, t]) => t === 'DOUBLE')
        .map(([n]) => n)
        .slice(0, 4);
      const perUid = run.ingest.uidRows > 0;
      const cases: Parameters<typeof binnedStats>[1][] = [
        ...(perUid
          ? [
              { table: 'uid_events' as const, columns: ['rewards'], maxBins: 40 },
              // The band of a sample (above exactQuantileRows): the same rows drawn on both.
              { table: 'uid_events' as const, columns: ['rewards'], maxBins: 2, exactQuantileRows: 10 },
              {
                table: 'uid_events' as const,
                columns: ['rewards'],
                maxBins: 25,
                groupBy: 'uid' as const,
                band: [0.25, 0.75] as [number, number],
              },
            ]
          : []),
        { table: 'events', columns: numericScalars, maxBins: 30 },
        { table: 'events', columns: numericScalars, maxBins: 1, exactQuantileRows: 10 },
      ];
      if (run.taskColumn)
        cases.push({ table: 'uid_events', columns: ['rewards'], maxBins: 20, groupBy: 'task' });
      for (const options of cases) {
        const expected = await binnedStats(run, options);
        const actual = await binnedStats(remote, options);
        expect(actual.spec).toEqual(expected.spec);
        expect(actual.series.length).toBe(expected.series.length);
        expect(actual.series).toEqual(expected.series);
        if (options.exactQuantileRows !== undefined) expect(expected.quantiles).toBe('approximate');
        // FileTAO's bins hold more rows than the sample: the band is a sample's.
        if (
          options.exactQuantileRows !== undefined &&
          options.table === 'uid_events' &&
          r.profile === 'filetao'
        )
          expect(Math.max(...expected.series[0].count)).toBeGreaterThan(expected.quantileSample!);
        expect(expected.series.some((s) => s.mean.some((m) => !Number.isInteger(m)))).toBe(true);
      }
      if (r.profile !== 'filetao') return;
      // ClickHouse's sampled band first counts each bin and leaves out the rows whose sample hash no
      // sample can reach: here it does (the equality above went through it), and a limit set too
      // tight is caught by the rows it kept, so binnedStats would run the query again without one.
      const { spec, quantileSample } = await binnedStats(run, {
        table: 'uid_events',
        columns: ['rewards'],
        maxBins: 2,
        exactQuantileRows: 10,
      });
      const common = {
        table: 'uid_events' as const,
        column: 'rewards',
        spec,
        quantileSample,
        dialect: remote.dialect,
      };
      const counts = await remote.session.all<{ grp: string | null; bin: number; n: number }>(
        binnedCountsSql(common).text,
      );
      const limits = sampleLimits(counts, quantileSample!)!;
      expect(limits.keys.length).toBe(2);
      expect(Math.max(...limits.limits)).toBeLessThan(2 ** 32 - 1);
      const kept = async (l: number[]) => {
        const rows = await remote.session.columns(
          binnedSeriesSql({
            ...common,
            band: [0.1, 0.9],
            xScale: 30,
            scale: 30,
            sampleLimits: { keys: limits.keys, limits: l },
          }).text,
        );
        return rows.sampled.map((k, i) => (k as number) - Math.min(quantileSample!, rows.n[i] as number));
      };
      expect((await kept(limits.limits)).every((spare) => spare >= 0)).toBe(true);
      expect((await kept(limits.limits.map(() => 2 ** 26))).some((spare) => spare < 0)).toBe(true);
    });
});

describe('fleet analyses over several runs', () => {
  it('leaderboard per uid across validators: overall means, each run’s mean, the spread', async () => {
    const names = ['ft-a', 'ft-b'];
    const runs = await FleetRun.open(fleet, names);
    const result = await analyzeFleet(runs, 'leaderboard', { top: 0 });
    const perRun = new Map<string, Map<number, { n: number; mean: number }>>();
    for (const name of names) {
      const lb = await analyzeRun(local.get(name)!, 'leaderboard', { top: 0 });
      perRun.set(
        name,
        new Map(lb.rows.map((r) => [Number(r.uid), { n: Number(r.n), mean: Number(r.mean) }])),
      );
    }
    const uids = new Set([...perRun.values()].flatMap((m) => [...m.keys()]));
    expect(result.rows.length).toBe(uids.size);
    expect(result.total).toBe(uids.size);
    const close = (a: number, b: number) =>
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));
    for (const row of result.rows) {
      const uid = Number(row.uid);
      const shares = names
        .map((n) => perRun.get(n)!.get(uid))
        .filter((s) => s !== undefined && Number.isFinite(s.mean));
      const n = shares.reduce((sum, s) => sum + s!.n, 0);
      expect(row.n).toBe(n);
      close(Number(row.mean), shares.reduce((sum, s) => sum + s!.mean * s!.n, 0) / n);
      for (const name of names) {
        const expected = perRun.get(name)!.get(uid);
        if (expected && Number.isFinite(expected.mean)) close(Number(row[`mean ${name}`]), expected.mean);
      }
      const means = shares.map((s) => s!.mean);
      close(Number(row.spread), Math.max(...means) - Math.min(...means));
      expect(row.runs).toBe(shares.length);
    }
    // Best first.
    const means = result.rows.map((r) => Number(r.mean));
    expect(means).toEqual([...means].sort((a, b) => b - a));
    expect(result.chart).toBeDefined();
  });

  it('success rates per uid across validators, with each run’s rate', async () => {
    const names = ['ov-a', 'ov-b'];
    const result = await analyzeFleet(await FleetRun.open(fleet, names), 'success', {});
    const perRun = new Map<string, Map<number, { calls: number; successes: number }>>();
    for (const name of names) {
      const s = await analyzeRun(local.get(name)!, 'success', {});
      perRun.set(
        name,
        new Map(
          s.rows.map((r) => [Number(r.uid), { calls: Number(r.calls), successes: Number(r.successes) }]),
        ),
      );
    }
    expect(result.rows.length).toBeGreaterThan(0);
    for (const row of result.rows) {
      const uid = Number(row.uid);
      const parts = names.map((n) => perRun.get(n)!.get(uid)).filter((p) => p !== undefined);
      expect(row.calls).toBe(parts.reduce((s, p) => s + p!.calls, 0));
      expect(row.successes).toBe(parts.reduce((s, p) => s + p!.successes, 0));
      for (const name of names) {
        const p = perRun.get(name)!.get(uid);
        if (p) expect(row[`rate ${name}`]).toBe(p.successes / p.calls);
      }
    }
  });

  it('the runs’ reward curves overlaid on shared bins, one per run, each with all its rewards', async () => {
    const names = ['ft-a', 'ft-b'];
    const runs = await FleetRun.open(fleet, names);
    const result = await analyzeFleet(runs, 'rewards', {});
    expect(result.rows.map((r) => r.run).sort()).toEqual(names);
    const overlaid = await binnedStats(runs, {
      table: 'uid_events',
      columns: ['rewards'],
      groupBy: 'run',
      maxBins: 200,
    });
    // The overlay asks for no band: the same means, counts, minima, maxima and last values.
    const plain = await binnedStats(runs, {
      table: 'uid_events',
      columns: ['rewards'],
      groupBy: 'run',
      maxBins: 200,
      band: 'none',
    });
    expect(plain.quantiles).toBe('none');
    expect(plain.series.map(({ lower: _l, upper: _u, ...rest }) => rest)).toEqual(
      overlaid.series.map(({ lower: _l, upper: _u, ...rest }) => rest),
    );
    expect(plain.series.flatMap((s) => [...s.lower, ...s.upper]).every(Number.isNaN)).toBe(true);
    for (const row of result.rows) {
      const series = plain.series.find((s) => s.group === row.run)!;
      expect(row.first).toBe(series.mean[0]);
      expect(row.last).toBe(series.mean.at(-1));
      expect(row.rows).toBe(series.count.reduce((a, b) => a + b, 0));
    }
    for (const series of overlaid.series) {
      const run = local.get(series.group!)!;
      const own = await binnedStats(run, {
        table: 'uid_events',
        columns: ['rewards'],
        maxBins: 200,
        where: `x >= ${overlaid.spec.x0}`,
      });
      // Every finite reward of the run is in its curve.
      const ownX = own.series[0];
      expect(series.count.reduce((a, b) => a + b, 0)).toBe(ownX.count.reduce((a, b) => a + b, 0));
    }
  });
});

describe('every chart aggregate on the cluster', () => {
  const names = () => [...RUNS.map((r) => r.name), MIXED];
  it('reservoir samples, per-uid performance, positions, weights, block durations and scores equal the local engine’s', async () => {
    for (const name of names()) {
      const run = local.get(name)!;
      const remote = await FleetRun.open(fleet, [name]);
      const uid = run.storedColumns('uid_rows');
      if (uid.has('rewards')) {
        const options = {
          table: 'uid_events' as const,
          columns: ['x', 'uid', 'task', 'rewards'],
          size: 300,
          seed: 11,
        };
        const sample = await reservoirSample(run, options);
        expect(sample.size).toBeGreaterThan(0);
        expect(await reservoirSample(remote, options)).toEqual(sample);
      }
      expect(await uidPerformance(remote)).toEqual(await uidPerformance(run));
      expect(await positionCounts(remote)).toEqual(await positionCounts(run));
      expect(await weightsMatrix(remote, 50)).toEqual(await weightsMatrix(run, 50));
      expect(await blockDurations(remote, 40)).toEqual(await blockDurations(run, 40));
      const scores = await movingAverageScores(run, { maxBins: 30 });
      expect(await movingAverageScores(remote, { maxBins: 30 })).toEqual(scores);
    }
  });

  it('the x of the mixed run goes back, so its scores take the stretch replay', async () => {
    const run = local.get(MIXED)!;
    const range = await run.xRange();
    const spec = binSpec(range.min!, range.max!, 30, range.integer);
    expect((await run.session.one<{ n: number }>(xGoesBackSql(spec).text))!.n).toBeGreaterThan(0);
    expect((await movingAverageScores(run, { maxBins: 30 }))?.uids.length).toBeGreaterThan(0);
  });

  it('plot draws the same SVGs from the cluster as from the logs', async () => {
    for (const name of names()) {
      const run = local.get(name)!;
      const remote = await FleetRun.open(fleet, [name]);
      const charts = await runCharts(run, { seed: 3 });
      const remoteCharts = await runCharts(remote, { seed: 3 });
      expect(remoteCharts.map((c) => c.name)).toEqual(charts.map((c) => c.name));
      expect(charts.length).toBeGreaterThan(1);
      for (let i = 0; i < charts.length; i++) {
        const [a, b] = await Promise.all([renderSvg(charts[i].spec), renderSvg(remoteCharts[i].spec)]);
        expect(b, `${name}: ${charts[i].name}`).toBe(a);
      }
    }
  });
});

describe('the report on the cluster', () => {
  it('has the same figures, leaderboard and 3-D samples as the report of the logs, and the same counts', async () => {
    for (const name of [...RUNS.map((r) => r.name), MIXED]) {
      const run = local.get(name)!;
      const remote = await FleetRun.open(fleet, [name]);
      const files = await remote.fileReports();
      const facts = factsOf({ name, root: 'fleet', summary: await remote.summary(), files });
      const options = { seed: 5, maxPoints: 2000, lineBins: 200 };
      const { facts: localFacts, ...expected } = await gatherReport(run, options);
      const { facts: remoteFacts, ...actual } = await gatherReport(remote, options, facts);
      expect(actual, name).toEqual(expected);
      expect(expected.metrics.length).toBeGreaterThan(0);
      // The axis was chosen at the push ("as pushed").
      const { x, ...summary } = localFacts.summary;
      expect(remoteFacts.summary).toMatchObject({ ...summary, x: { ...x, reason: 'as pushed' } });
      expect(remoteFacts.files.map((f) => [f.name, f.rows, f.bytes])).toEqual(
        localFacts.files.map((f) => [f.name, f.rows, f.bytes]),
      );
    }
  });
});
