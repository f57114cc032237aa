import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { metricColumns, metricsChart } from '../src/analysis/plot-metrics.js';
import { validatorData, type ValidatorData } from '../src/analysis/plot-validator.js';
import { binnedStats, type BinnedSeries } from '../src/engine/binned-stats.js';
import { Run } from '../src/engine/run.js';
import { sampleHash, sampleHashSql, sampleSeed } from '../src/engine/sample-hash.js';
import { Session } from '../src/engine/session.js';
import { discoverRun } from '../src/formats/discover.js';
import { mergeSamples } from '../src/scan/bin-acc.js';
import { seededRandom } from '../src/scan/group-stats.js';
import { scanValidatorRun, splitTasks, withLineNumbers } from '../src/scan/validator-run.js';
import { simulate } from '../src/simulate/index.js';
import { runCli } from './helpers/cli.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/** Relative closeness for sums computed in another order. */
function close(a: number, b: number, what: string): void {
  if (Number.isNaN(b)) expect(a, what).toBeNaN();
  else expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
}

function expectSeries(
  mine: BinnedSeries | undefined,
  oracle: BinnedSeries | undefined,
  what: string,
  exactBand: boolean,
): void {
  expect(mine === undefined, `${what} present`).toBe(oracle === undefined || oracle.count.length === 0);
  if (!mine || !oracle) return;
  expect(mine.bin, what).toEqual(oracle.bin);
  expect(mine.count, what).toEqual(oracle.count);
  expect(mine.nonFinite, what).toEqual(oracle.nonFinite);
  expect(mine.min, what).toEqual(oracle.min);
  expect(mine.max, what).toEqual(oracle.max);
  expect(mine.x0, what).toEqual(oracle.x0);
  mine.mean.forEach((m, i) => close(m, oracle.mean[i], `${what} mean[${i}]`));
  mine.xMean.forEach((m, i) => close(m, oracle.xMean[i], `${what} xMean[${i}]`));
  // Block durations take the value at the bin's largest block, which two run starts can share
  // (SQL's arg_max then picks either): there the last value only has to lie in the bin's range.
  if (what === 'block durations')
    mine.last.forEach((m, i) => expect(m >= oracle.min[i] && m <= oracle.max[i]).toBe(true));
  else mine.last.forEach((m, i) => close(m, oracle.last[i], `${what} last[${i}]`));
  if (exactBand) {
    mine.lower.forEach((m, i) => close(m, oracle.lower[i], `${what} p10[${i}]`));
    mine.upper.forEach((m, i) => close(m, oracle.upper[i], `${what} p90[${i}]`));
  } else {
    mine.lower.forEach((q, i) => expect(q).toBeGreaterThanOrEqual(oracle.min[i]));
    mine.upper.forEach((q, i) => expect(q).toBeLessThanOrEqual(oracle.max[i]));
  }
}

/**
 * The validator scan must give what the full DuckDB path gives (the oracle). Quantiles are exact
 * while a bin or uid holds at most the sample's size (small inputs), approximate beyond.
 */
async function expectSameAsOracle(
  dir: string,
  options: {
    threads?: number;
    rangeBytes?: number;
    exactBands?: boolean;
    passes?: number;
    probe?: { records: number; bytes: number };
  } = {},
): Promise<void> {
  const fast = await scanValidatorRun(discoverRun(dir), {
    threads: options.threads ?? 1,
    rangeBytes: options.rangeBytes,
    probe: options.probe,
    seed: 7,
    sampleSize: 300,
  });
  expect(fast, 'fast path answered').toBeDefined();
  const run = await Run.open(dir);
  try {
    const oracle: ValidatorData = await validatorData(run, { seed: 7, sampleSize: 300 });
    const data = fast!.data;
    const exact = options.exactBands ?? true;
    expect(fast!.x.column).toBe(run.x.column);
    expect(fast!.records).toBe(run.ingest.rows);
    expect(fast!.profile).toBe(run.profile);
    if (options.passes) expect(fast!.passes).toBe(options.passes);
    const summary = await run.summary();
    expect([fast!.xMin, fast!.xMax, fast!.rowsWithoutX]).toEqual([
      summary.x.min,
      summary.x.max,
      summary.x.rowsWithoutX,
    ]);
    expect(data.events).toBe(oracle.events);
    // Point clouds: the same rows (same hash in SQL and JS), in the same order.
    expect(data.clouds.map((c) => [c.value, c.size, c.population])).toEqual(
      oracle.clouds.map((c) => [c.value, c.size, c.population]),
    );
    for (const [i, cloud] of data.clouds.entries()) expect(cloud.columns).toEqual(oracle.clouds[i].columns);
    // Scores: logged or replayed; the affine composition of chunks equals the sequential replay.
    expect(data.scores === undefined).toBe(oracle.scores === undefined);
    if (data.scores && oracle.scores) {
      expect([data.scores.source, data.scores.events, data.scores.uids, data.scores.spec]).toEqual([
        oracle.scores.source,
        oracle.scores.events,
        oracle.scores.uids,
        oracle.scores.spec,
      ]);
      data.scores.values.forEach((v, i) => close(v, oracle.scores!.values[i], `score[${i}]`));
    }
    expect(data.weights === undefined).toBe(oracle.weights === undefined);
    if (data.weights && oracle.weights) {
      const { values, ...rest } = data.weights;
      const { values: oracleValues, ...oracleRest } = oracle.weights;
      expect(rest).toEqual(oracleRest);
      expect(Array.from(values)).toEqual(Array.from(oracleValues));
    }
    expect(data.performance === undefined).toBe(oracle.performance === undefined);
    if (data.performance && oracle.performance) {
      const [mine, them] = [data.performance, oracle.performance];
      expect(mine.uid).toEqual(them.uid);
      expect(mine.count).toEqual(them.count);
      mine.successRate.forEach((v, i) => close(v, them.successRate[i], `success[${i}]`));
      for (const q of ['p10', 'p25', 'p50', 'p75', 'p90'] as const) {
        if (exact) mine[q].forEach((v, i) => close(v, them[q][i], `${q}[${i}]`));
        else mine[q].forEach((v, i) => expect(Number.isNaN(v)).toBe(Number.isNaN(them[q][i])));
      }
    }
    expectSeries(data.stepLength, oracle.stepLength, 'step length', exact);
    expectSeries(data.blockDurations, oracle.blockDurations, 'block durations', exact);
    // Metrics: the same columns the full path charts, the same per-bin statistics.
    const columns = metricColumns(run, ['step_length']);
    expect(fast!.metrics.series.map((s) => s.column)).toEqual(columns);
    if (columns.length) {
      const stats = await binnedStats(run, { columns, maxBins: 400 });
      expect(fast!.metrics.spec).toEqual(stats.spec);
      for (const [i, s] of stats.series.entries()) expectSeries(fast!.metrics.series[i], s, s.column, exact);
      expect(await metricsChart(run, undefined, ['step_length'])).toBeDefined();
    }
    expect(fast!.problems.map((p) => `${p.file}:${p.line} ${p.kind}`)).toEqual(
      run.ingest.problems.map((p) => `${p.file}:${p.line} ${p.kind}`),
    );
    expect(fast!.problemCount).toBe(run.ingest.problemCount);
  } finally {
    run.close();
  }
}

describe('sample hash', () => {
  it('is the same number in JS and in DuckDB SQL, for any seed', async () => {
    const session = await Session.create();
    try {
      for (const seed of [0, 7, -3, 2 ** 40 + 5]) {
        const s = sampleSeed(seed);
        const rows = await session.columns(`
          SELECT f, l, p, ${sampleHashSql(s, 'f', 'l', 'p')} AS h
          FROM (SELECT (i % 5) AS f, (i * 7919) % 3000000 + 1 AS l, i % 300 AS p FROM range(2000) t(i)) ORDER BY f, l, p`);
        const mine = (rows.f as unknown[]).map((f, i) =>
          sampleHash(s, Number(f), Number(rows.l[i]), Number(rows.p[i])),
        );
        expect(mine).toEqual((rows.h as unknown[]).map(Number));
      }
    } finally {
      session.close();
    }
  });
});

describe('reservoir merge', () => {
  it('keeps each side in proportion to what it saw', () => {
    const random = seededRandom(3);
    let fromA = 0;
    for (let trial = 0; trial < 200; trial++) {
      const width = 16;
      const sample = new Float64Array(width).fill(1);
      const seen = Float64Array.of(300);
      mergeSamples(sample, seen, new Float64Array(width).fill(2), Float64Array.of(100), width, random);
      expect(seen[0]).toBe(400);
      fromA += sample.filter((v) => v === 1).length;
    }
    // 3/4 of the values came from side A: expect ~75 % of the slots (200 × 16 draws).
    expect(fromA / (200 * 16)).toBeGreaterThan(0.72);
    expect(fromA / (200 * 16)).toBeLessThan(0.78);
  });
});

describe('validator scan agrees with the DuckDB path', () => {
  it('on the shared FileTAO sample', async () => {
    await expectSameAsOracle(path.join(FORMATS, 'filetao'));
  });

  it('on the shared OpenValidators history (NaN rewards)', async () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(FORMATS, 'openvalidators', 'history.jsonl'), path.join(dir, 'history.jsonl'));
    await expectSameAsOracle(dir);
  });

  it('on a simulated FileTAO run cut into byte ranges on two workers', async () => {
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: '3MB', seed: 5 });
    const files = discoverRun(dir).files;
    expect(splitTasks(files, 256 << 10).length).toBeGreaterThan(8);
    await expectSameAsOracle(dir, { threads: 2, rangeBytes: 256 << 10, exactBands: false, passes: 1 });
  });

  it('the built module on real worker threads: the same result as in this thread', async () => {
    // Tests run the TypeScript sources, where the pool scans in this thread; the built module has
    // the compiled worker, so this runs the pool itself: line numbers counted in the background
    // while the first ranges are scanned, results merged in order.
    const built = (await import(
      new URL('../dist/scan/validator-run.js', import.meta.url).href
    )) as typeof import('../src/scan/validator-run.js');
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: '3MB', seed: 6 });
    const lines = fs.readFileSync(path.join(dir, 'events.json'), 'utf8').split('\n');
    lines.splice(700, 0, 'not json at all'); // a problem whose line number must come out right
    fs.writeFileSync(path.join(dir, 'events.json'), lines.join('\n'));
    const options = { threads: 2, rangeBytes: 128 << 10 };
    expect(splitTasks(discoverRun(dir).files, options.rangeBytes).length).toBeGreaterThan(16);
    const onWorkers = await built.scanValidatorRun(discoverRun(dir), options);
    const here = await scanValidatorRun(discoverRun(dir), options);
    expect(onWorkers).toBeDefined();
    expect(onWorkers!.problems.map((p) => p.line)).toEqual([701]);
    expect(onWorkers).toEqual(here);
  });

  it('line numbers of the ranges: the newlines before each, counted in the background', async () => {
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: '1MB', seed: 7 });
    const file = path.join(dir, 'events.json');
    const tasks = splitTasks(discoverRun(dir).files, 64 << 10);
    expect(tasks.length).toBeGreaterThan(8);
    expect(tasks.slice(1).every((t) => t.line === -1)).toBe(true);
    const bytes = fs.readFileSync(file);
    const newlinesBefore = (offset: number) => bytes.subarray(0, offset).filter((b) => b === 10).length;
    const { ready } = withLineNumbers(tasks);
    const lines = (await Promise.all(ready)).map((t) => t.line);
    expect(lines).toEqual(tasks.map((t) => newlinesBefore(t.start)));
    expect(lines[tasks.length - 1]).toBeGreaterThan(500);
    // Stopped early (the scan is over): the ranges not yet counted reject, and nothing else happens.
    const stopped = withLineNumbers(tasks);
    stopped.stop();
    await expect(stopped.ready[0]).resolves.toMatchObject({ line: 0 });
    await expect(stopped.ready[tasks.length - 1]).rejects.toThrow(/stopped/);
  });

  it('on a simulated OpenValidators run cut into ranges', async () => {
    const dir = tempDir();
    await simulate('openvalidators', { out: dir, size: '2MB', seed: 9 });
    await expectSameAsOracle(dir, { threads: 2, rangeBytes: 128 << 10, exactBands: false });
  });

  it('on hostile input: corrupt and truncated lines, a gzip member, a mispredicted range (second pass)', async () => {
    const sim = tempDir();
    await simulate('filetao', { out: sim, size: '300KB', seed: 11 });
    const source = fs.readFileSync(discoverRun(sim).files[0].path, 'utf8').split('\n').filter(Boolean);
    const blocks = source.map((line) => (JSON.parse(line) as { block: number }).block);
    const at = blocks.findIndex((b, i) => i > 20 && blocks[i + 1] > b);
    expect(at).toBeGreaterThan(0);
    // A fractional block in the middle: x is no longer all integers, which the probe of the first
    // and last records cannot see, so the bins change and the scan runs again with the true range.
    const odd = JSON.parse(source[at]) as Record<string, unknown>;
    odd.block = blocks[at] + 0.5;
    const lines = [...source];
    lines.splice(at + 1, 0, JSON.stringify(odd));
    lines.splice(5, 0, '{"block": 12, "uids": [1, 2], "rewards": [0.5');
    lines.splice(9, 0, 'not json at all');
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'events.json'), `${lines.join('\n')}\n{"block": 1, "uids": [3], "rew`);
    fs.writeFileSync(path.join(dir, 'events.json.1.gz'), zlib.gzipSync(`${source.slice(0, 6).join('\n')}\n`));
    await expectSameAsOracle(dir, { passes: 2, probe: { records: 5, bytes: 2000 }, exactBands: false });
  });

  it('declines what it does not model: RL runs, CSV, --x ordinal', async () => {
    const rl = tempDir();
    await simulate('rl', { out: rl, size: '200KB', seed: 2 });
    expect(await scanValidatorRun(discoverRun(rl), { threads: 1 })).toBeUndefined();
    const csv = tempDir();
    fs.writeFileSync(path.join(csv, 'a.csv'), 'block,x\n1,2\n');
    expect(await scanValidatorRun(discoverRun(csv), { threads: 1 })).toBeUndefined();
    expect(
      await scanValidatorRun(discoverRun(path.join(FORMATS, 'filetao')), { x: 'ordinal' }),
    ).toBeUndefined();
  });
});

describe('runlens plot on a validator run (built CLI, worker threads)', () => {
  it('draws from the scan what the DuckDB path draws: same charts, identical point clouds and weights', async () => {
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: '1MB', seed: 4 });
    const out = tempDir();
    // Small byte ranges: the file is read as many ranges on two worker threads.
    const fast = runCli(['plot', dir, '--out', path.join(out, 'fast'), '--format', 'svg'], {
      env: { RUNLENS_RANGE_BYTES: String(64 << 10) },
    });
    const full = runCli(['plot', dir, '--out', path.join(out, 'full'), '--format', 'svg'], {
      env: { RUNLENS_ENGINE: 'duckdb' },
    });
    expect(fast.code, fast.stderr).toBe(0);
    expect(full.code, full.stderr).toBe(0);
    const index = (kind: string) =>
      JSON.parse(fs.readFileSync(path.join(out, kind, 'index.json'), 'utf8')) as {
        engine?: string;
        rows: number;
        charts: { name: string }[];
      };
    expect(index('fast').engine).toBe('projection scanner');
    expect(index('full').engine).toBeUndefined();
    expect(index('fast').rows).toBe(index('full').rows);
    expect(index('fast').charts.map((c) => c.name)).toEqual(index('full').charts.map((c) => c.name));
    expect(index('fast').charts.length).toBeGreaterThanOrEqual(9);
    for (const name of ['rewards-by-uid', 'completion-times-3d', 'weights', 'weights-top']) {
      const svg = (kind: string) => fs.readFileSync(path.join(out, kind, `${name}.svg`), 'utf8');
      expect(svg('fast') === svg('full'), `${name}.svg identical`).toBe(true);
    }
    // The closing summary says the same (rows, x range, the sample's size and ratio).
    expect(fast.stderr).toBe(full.stderr);
  });
});
