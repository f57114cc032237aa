import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binnedStats } from '../src/engine/binned-stats.js';
import { binIndex } from '../src/engine/bins.js';
import { exactMeanSql, meanScale, meanScales } from '../src/engine/exact-mean.js';
import { blockDurations } from '../src/engine/block-durations.js';
import { reservoirSample } from '../src/engine/reservoir.js';
import { Run } from '../src/engine/run.js';
import { uidPerformance } from '../src/engine/uid-performance.js';
import { Session } from '../src/engine/session.js';
import { leaderboard } from '../src/report/leaderboard.js';
import { tempDir } from './helpers/temp.js';

/**
 * Aggregates whose floating-point result used to depend on the order in which DuckDB's threads
 * combined their partials (reports of one run differed from run to run): the same rows must give
 * the same bits whatever the thread count or the row order.
 */

describe('exact means', () => {
  it('do not depend on the order of the values, where a plain sum does', async () => {
    const session = await Session.create({ threads: 2 });
    try {
      // 100 000 ones and two huge values that cancel: summed in order the ones vanish next to 1e16.
      const n = 100_000;
      await session.run(`CREATE TABLE v AS SELECT i, CASE WHEN i = 0 THEN 1e16 WHEN i = ${n + 1} THEN -1e16 ELSE 1.0 END AS v
        FROM range(${n + 2}) t(i)`);
      await session.run(`CREATE TABLE forward AS SELECT v FROM v ORDER BY i`);
      await session.run(`CREATE TABLE ones_first AS SELECT v FROM v ORDER BY v = 1.0 DESC, i`);
      const [scale] = await meanScales(session, 'forward', ['v']);
      expect(scale).toBe(meanScale(1e16));
      const mean = async (table: string) =>
        (await session.one<{ exact: number; plain: number }>(
          `SELECT ${exactMeanSql('v', scale)} AS exact, avg(v) AS plain FROM ${table}`,
        ))!;
      const forward = await mean('forward');
      const onesFirst = await mean('ones_first');
      expect(forward.exact).toBe(n / (n + 2));
      expect(onesFirst.exact).toBe(n / (n + 2));
      // The plain mean of the same rows in DuckDB is off (why the exact one exists).
      expect(forward.plain).not.toBe(n / (n + 2));
    } finally {
      session.close();
    }
  });

  it('skip NaN and infinities, and are NULL without finite values', async () => {
    const session = await Session.create();
    try {
      const row = await session.one<{ m: number | null }>(
        `SELECT ${exactMeanSql('v', meanScale(3))} AS m
         FROM (VALUES (1.0), (2.0), ('NaN'::DOUBLE), ('Infinity'::DOUBLE), (3.0), (NULL)) t(v)`,
      );
      expect(row).toEqual({ m: 2 });
      const none = await session.one<{ m: number | null }>(
        `SELECT ${exactMeanSql('v', 0)} AS m FROM (VALUES ('NaN'::DOUBLE), ('-Infinity'::DOUBLE), (NULL)) t(v)`,
      );
      expect(none).toEqual({ m: null });
      // The mean of equal values is that value (a double sum of three 0.05 is 0.15000000000000002).
      for (const v of [0.05, -0.1, 1 / 3, 123456.789, 5e-324, 1.7e308]) {
        const equal = await session.one<{ m: number }>(
          `SELECT ${exactMeanSql('v', meanScale(Math.abs(v)))} AS m FROM (SELECT ${v.toExponential(17)}::DOUBLE AS v FROM range(3))`,
        );
        expect(equal!.m).toBe(v);
      }
      // Tiny and huge magnitudes keep their precision relative to the column's largest value.
      const tiny = await session.one<{ m: number }>(
        `SELECT ${exactMeanSql('v', meanScale(3e-300))} AS m FROM (VALUES (1e-300), (2e-300), (3e-300)) t(v)`,
      );
      expect(tiny!.m).toBeCloseTo(2e-300, 310);
      expect(tiny!.m / 2e-300).toBeCloseTo(1, 14);
      const huge = await session.one<{ m: number }>(
        `SELECT ${exactMeanSql('v', meanScale(3e300))} AS m FROM (VALUES (1e300), (2e300), (3e300)) t(v)`,
      );
      expect(huge!.m / 2e300).toBeCloseTo(1, 14);
    } finally {
      session.close();
    }
  });
});

describe('binned statistics and the leaderboard are the same bits on 1 and 2 threads', () => {
  const dir = tempDir();
  // 24 000 events × 20 uids = 480 000 per-uid rows: several row groups, so two threads split them.
  const events = 24_000;
  let seed = 11;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    const uids = Array.from({ length: 20 }, (_, k) => (i * 7 + k * 13) % 256);
    const rewards = uids.map(() => (random() < 0.02 ? 'NaN' : (random() * 3 - 1).toString()));
    const times = uids.map(() => (random() * 40).toFixed(4));
    lines.push(
      `{"task_name": "${['Store', 'Retrieve', 'Challenge'][i % 3]}", "block": ${1000 + Math.floor(i / 3)}, ` +
        `"uids": [${uids.join(', ')}], "rewards": [${rewards.join(', ')}], ` +
        `"completion_times": [${times.join(', ')}], "successful": [${uids.map(() => random() < 0.7).join(', ')}], ` +
        `"_timestamp": ${(1.7e9 + i * 4.1 + random()).toFixed(3)}, "loss": ${(random() * 1e-7).toExponential(6)}}`,
    );
  }
  fs.writeFileSync(path.join(dir, 'events.json'), lines.join('\n') + '\n');
  const runs: Run[] = [];
  beforeAll(async () => {
    runs.push(await Run.open(dir, { session: { threads: 1 } }));
    runs.push(await Run.open(dir, { session: { threads: 2 } }));
  }, 120_000);
  afterAll(async () => {
    for (const run of runs) await run.close();
  });

  it('per-uid metric (exact and sampled quantiles) and per-event metric', async () => {
    for (const options of [
      { columns: ['rewards', 'completion_times'], table: 'uid_events' as const, maxBins: 50 },
      { columns: ['rewards'], table: 'uid_events' as const, maxBins: 50, exactQuantileRows: 0 },
      { columns: ['rewards'], table: 'uid_events' as const, groupBy: 'task' as const, exactQuantileRows: 0 },
      { columns: ['loss'], maxBins: 7 },
    ]) {
      const [one, two] = await Promise.all(runs.map((run) => binnedStats(run, options)));
      expect(two.series.length).toBeGreaterThan(0);
      expect(two).toEqual(one);
      expect(two.quantiles).toBe(options.exactQuantileRows === 0 ? 'approximate' : 'exact');
    }
  });

  it('sampled quantiles: exact in bins within the sample, inside the bin beyond it', async () => {
    const exact = await binnedStats(runs[1], { columns: ['rewards'], table: 'uid_events', maxBins: 4000 });
    const sampled = await binnedStats(runs[1], {
      columns: ['rewards'],
      table: 'uid_events',
      maxBins: 4000,
      exactQuantileRows: 0,
    });
    const [e] = exact.series;
    const [s] = sampled.series;
    // The budget over the bin count rounded up to a power of two (a growing run keeps its size).
    expect(sampled.quantileSample).toBe(2 ** 20 / 2 ** Math.ceil(Math.log2(sampled.spec.count)));
    // 8 000 blocks in 4 000 bins: 2 blocks × 3 events × 20 uids ≈ 120 values per bin, all sampled.
    expect(Math.max(...s.count)).toBeLessThanOrEqual(sampled.quantileSample!);
    expect(s.lower).toEqual(e.lower);
    expect(s.upper).toEqual(e.upper);
    const coarse = await binnedStats(runs[1], {
      columns: ['rewards'],
      table: 'uid_events',
      maxBins: 5,
      exactQuantileRows: 0,
    });
    const [c] = coarse.series;
    expect(coarse.quantileSample).toBe(1024);
    expect(Math.min(...c.count)).toBeGreaterThan(1024 * 50);
    for (let i = 0; i < c.bin.length; i++) {
      expect(c.lower[i]).toBeGreaterThanOrEqual(c.min[i]);
      expect(c.upper[i]).toBeLessThanOrEqual(c.max[i]);
      // rewards are uniform on [-1, 2): p10 ≈ -0.7, p90 ≈ 1.7 within a 1 024-value sample's error.
      expect(Math.abs(c.lower[i] + 0.7)).toBeLessThan(0.15);
      expect(Math.abs(c.upper[i] - 1.7)).toBeLessThan(0.15);
    }
    expect(binIndex(1000, coarse.spec)).toBe(0);
  });

  it('per-uid performance, block durations and the reservoir sample', async () => {
    const [one, two] = await Promise.all(runs.map((run) => uidPerformance(run)));
    expect(two!.uid.length).toBe(256);
    expect(two).toEqual(one);
    const [d1, d2] = await Promise.all(runs.map((run) => blockDurations(run, 300)));
    expect(d2!.count.length).toBeGreaterThan(100);
    expect(d2).toEqual(d1);
    const sample = (run: Run) =>
      reservoirSample(run, { table: 'uid_events', columns: ['x', 'uid', 'rewards'], size: 5000, seed: 3 });
    const [s1, s2] = await Promise.all(runs.map(sample));
    expect(s2.size).toBe(5000);
    expect(s2).toEqual(s1);
  });

  it('report leaderboard', async () => {
    const [one, two] = await Promise.all(runs.map((run) => leaderboard(run)));
    expect(two!.rows.length).toBe(256);
    expect(two).toEqual(one);
  });
});
