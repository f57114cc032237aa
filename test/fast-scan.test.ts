import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binnedStats } from '../src/engine/binned-stats.js';
import { positionCounts } from '../src/engine/positions.js';
import { Run } from '../src/engine/run.js';
import { discoverRun } from '../src/formats/discover.js';
import { buildPathTrie } from '../src/scan/path-trie.js';
import { extractRecord } from '../src/scan/extract.js';
import { scanTrainingRun } from '../src/scan/fast-training.js';
import { simulate } from '../src/simulate/index.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/** The projection scanner must agree with the full DuckDB path (the oracle) wherever it answers. */
async function expectSameAsOracle(dir: string, maxBins = 50): Promise<void> {
  const fast = await scanTrainingRun(discoverRun(dir), { maxBins, threads: 1 });
  expect(fast, 'fast path answered').toBeDefined();
  const run = await Run.open(dir);
  try {
    expect(fast!.x.column).toBe(run.x.column);
    expect(fast!.records).toBe(run.ingest.rows);
    const columns = fast!.stats.series.map((s) => s.column);
    const rewards = (list: string[]): string[] => list.filter((c) => c.startsWith('rewards.')).sort();
    expect(rewards(columns)).toEqual(rewards([...run.storedColumns('rows')]));
    // The metrics it reads are exactly those the full path charts (same fields, same order).
    const { metricColumns } = await import('../src/analysis/plot-metrics.js');
    expect(columns.filter((c) => !c.startsWith('rewards.'))).toEqual(metricColumns(run));
    const oracle = await binnedStats(run, { columns, maxBins });
    expect(fast!.stats.spec).toEqual(oracle.spec);
    for (const series of oracle.series) {
      const mine = fast!.stats.series.find((s) => s.column === series.column)!;
      expect(mine.bin, series.column).toEqual(series.bin);
      expect(mine.count).toEqual(series.count);
      expect(mine.nonFinite).toEqual(series.nonFinite);
      expect(mine.min).toEqual(series.min);
      expect(mine.max).toEqual(series.max);
      expect(mine.last).toEqual(series.last);
      mine.mean.forEach((m, i) => expect(m).toBeCloseTo(series.mean[i], 9));
      mine.xMean.forEach((m, i) => expect(m).toBeCloseTo(series.xMean[i], 6));
      // The band is approximate (sampled); it must lie within the bin's range.
      mine.lower.forEach((q, i) => expect(q).toBeGreaterThanOrEqual(series.min[i]));
      mine.upper.forEach((q, i) => expect(q).toBeLessThanOrEqual(series.max[i]));
    }
    expect(fast!.positions).toEqual(await positionCounts(run));
    expect(fast!.problems.map((p) => `${p.file}:${p.line} ${p.kind}`)).toEqual(
      run.ingest.problems.map(
        (p) => `${p.file}:${p.line} ${p.kind === 'not-an-object' ? 'corrupt' : p.kind}`,
      ),
    );
  } finally {
    run.close();
  }
}

describe('projection scanner', () => {
  it('extracts nested and flat paths, NaN tokens, booleans, escapes, and skips the rest', () => {
    const trie = buildPathTrie(
      new Map([
        ['a.b', 0],
        ['c', 1],
        ['d', 2],
        ['e', 3],
      ]),
    );
    const text = Buffer.from(
      '{"s": "x\\"}{[", "a": {"z": [1, {"b": 9}], "b": -1.5e3}, "c": NaN, "d": true, "list": [[1], {"c": 5}], "e": null}',
    );
    const out = new Float64Array(4);
    const seen = new Uint8Array(4);
    extractRecord(text, 0, text.length, trie, out, seen);
    expect([...out.slice(0, 3)]).toEqual([-1500, NaN, 1]);
    expect([...seen]).toEqual([1, 1, 1, 0]);
    const bad = Buffer.from('{"a": {"b": 1,, }}');
    expect(() => extractRecord(bad, 0, bad.length, trie, out, seen)).toThrow();
  });

  it('agrees with the DuckDB path on the shared RL sample (old flat + new nested)', async () => {
    await expectSameAsOracle(path.join(FORMATS, 'rl-experiments/v4/20250726_130714'));
  });

  it('agrees with the DuckDB path on a simulated RL run', async () => {
    const dir = tempDir();
    await simulate('rl', { out: dir, size: '6MB', seed: 5, recordsPerFile: 800, envs: 4 });
    await expectSameAsOracle(dir, 37);
  });

  it('agrees on hostile input: corrupt records, NaN rewards, a truncated array, gzip', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'json_logs');
    fs.mkdirSync(logs);
    const record = (total: number, r: number | string, x: number): string =>
      `{"step": 1, "total_steps": ${total}, "position": {"x": ${x}, "y": 2, "map": 1}, "rewards": {"total": ${r}, "components": {"heal": ${r}}}}`;
    fs.writeFileSync(
      path.join(logs, 'stats_1.json'),
      `[${record(10, 1.5, 1)}, ${record(10, 'NaN', 2)}, {"broken": ,}, ${record(10, -2, 1)}]`,
    );
    fs.writeFileSync(
      path.join(logs, 'stats_2.json'),
      `[\n  ${record(20, 3, 4)},\n  ${record(20, 4.25, 4)},\n  {"step": 3, "tota`,
    );
    const zlib = await import('node:zlib');
    fs.writeFileSync(path.join(logs, 'stats_final_3.json.gz'), zlib.gzipSync(`[${record(30, 7, 5)}]`));
    await expectSameAsOracle(dir);
  });

  it('declines what it cannot answer exactly (no reward fields, CSV)', async () => {
    expect(await scanTrainingRun(discoverRun(path.join(FORMATS, 'filetao/events.json')))).toBeUndefined();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'm.csv'), 'total_steps,rewards.total\n1,2\n');
    expect(await scanTrainingRun(discoverRun(dir))).toBeUndefined();
  });
});

describe('projection scanner on indent=2 arrays that break their layout', () => {
  it('a corrupt record and one-line records inside an indent=2 file lose no good record', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'json_logs');
    fs.mkdirSync(logs);
    const pretty = (total: number, r: number): string =>
      JSON.stringify(
        { step: 1, total_steps: total, position: { x: 1, y: 2, map: 3 }, rewards: { total: r } },
        null,
        2,
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n');
    const compact = (total: number, r: number): string =>
      `  {"step": 1, "total_steps": ${total}, "position": {"x": 1, "y": 2, "map": 3}, "rewards": {"total": ${r}}}`;
    const body = [
      pretty(5, 1),
      compact(5, 2),
      compact(5, 3),
      pretty(5, 4),
      '  {\n    "total_steps": 5,,\n  }',
      pretty(6, 5),
    ];
    fs.writeFileSync(path.join(logs, 'stats_1.json'), `[\n${body.join(',\n')}\n]`);
    await expectSameAsOracle(dir);
    const fast = await scanTrainingRun(discoverRun(dir), { threads: 1 });
    expect(fast!.records).toBe(5);
    expect(fast!.problems.map((p) => p.kind)).toEqual(['corrupt']);
  });
});
