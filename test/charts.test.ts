import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCharts } from '../src/analysis/plot-run.js';
import { positionChart } from '../src/analysis/plot-training.js';
import { validatorCharts, type NamedChart } from '../src/analysis/plot-validator.js';
import { rewardComponentsSpec } from '../src/charts/reward-components.js';
import { smoothSeries, defaultSmoothingWindow } from '../src/charts/smoothing.js';
import { Run } from '../src/engine/run.js';
import { renderSvg } from '../src/render/index.js';
import { expectSvgSnapshot } from './helpers/snapshot.js';
import { FORMATS, MAP_LAYOUT, tempDir } from './helpers/temp.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'runlens.js');
const RL = join(FORMATS, 'rl-experiments');
const work = tempDir('runlens-charts-');

function runlens(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: work });
}

beforeAll(() => {
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(build.stdout + build.stderr);
}, 120_000);

describe('smoothing', () => {
  it('debiased EMA starts at the first value and none is a copy', () => {
    expect(smoothSeries([4, 4, 4], { method: 'ema', window: 10 })).toEqual(
      [4, 4, 4].map(() => expect.closeTo(4, 12)),
    );
    expect(smoothSeries([1, 2, 3], { method: 'none', window: 5 })).toEqual([1, 2, 3]);
    expect(smoothSeries([1, 3, 5], { method: 'mean', window: 2 })).toEqual([1, 2, 4]);
    expect(defaultSmoothingWindow(5)).toBe(1);
    expect(defaultSmoothingWindow(1000)).toBe(20);
  });

  it('a constant series smooths to itself exactly, by EMA and running mean, at every window', () => {
    for (const value of [0.05, 1, 0.1, -3.3, 1e-7])
      for (const method of ['ema', 'mean'] as const)
        for (let window = 2; window <= 100; window += 7) {
          const smoothed = smoothSeries(Array<number>(300).fill(value), { method, window });
          expect(smoothed.filter((v) => v !== value)).toEqual([]);
        }
  });
});

describe('axis labels', () => {
  it('an SI-prefixed x axis reads "0" at zero, not "0M"', async () => {
    const n = 4;
    const x0 = [0, 1e6, 2e6, 3e6];
    const series = {
      column: 'rewards.total',
      group: undefined,
      bin: [0, 1, 2, 3],
      x0,
      x1: x0.map((x) => x + 1e6),
      xMean: x0.map((x) => x + 5e5),
      count: Array<number>(n).fill(10),
      mean: [1, 2, 3, 4],
      min: [0, 1, 2, 3],
      max: [2, 3, 4, 5],
      lower: [0.5, 1.5, 2.5, 3.5],
      upper: [1.5, 2.5, 3.5, 4.5],
      last: [1, 2, 3, 4],
      nonFinite: Array<number>(n).fill(0),
    };
    const stats = {
      spec: { x0: 0, width: 1e6, count: n },
      quantiles: 'exact' as const,
      band: [0.1, 0.9] as [number, number],
      series: [series],
    };
    const svg = await renderSvg(rewardComponentsSpec(stats, { xTitle: 'total_steps', caption: 'test' }));
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toContain('0');
    expect(labels).toContain('2M');
    expect(labels).not.toContain('0M');
  });
});

describe('chart snapshots', () => {
  const runs: Run[] = [];
  afterAll(() => runs.forEach((r) => r.close()));

  it('RL sample: reward components and per-map heatmap', async () => {
    const run = await Run.open(undefined, { variant: 'v4', experimentsDir: RL });
    runs.push(run);
    const charts = await runCharts(run);
    expect(charts.map((c) => c.name)).toEqual(['rewards', 'heatmap', 'metrics']);
    for (const chart of charts)
      await expectSvgSnapshot(`chart-rl-${chart.name}`, await renderSvg(chart.spec));
    const world = await positionChart(run, { mapLayout: MAP_LAYOUT });
    await expectSvgSnapshot('chart-rl-world-heatmap', await renderSvg(world!.spec));
    runs.pop()!.close();
  });

  it('FileTAO sample: every validator chart', async () => {
    const run = await Run.open(join(FORMATS, 'filetao', 'events.json'));
    runs.push(run);
    const charts = await runCharts(run, { seed: 1 });
    expect(charts.length).toBeGreaterThanOrEqual(4);
    for (const chart of charts)
      await expectSvgSnapshot(`chart-filetao-${chart.name}`, await renderSvg(chart.spec));
    const names = charts.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['rewards-3d', 'completion-times-3d', 'weights-top']));
    expect(names).not.toContain('block-duration');
    const again = await validatorCharts(run, { seed: 1 });
    const cloud = (list: NamedChart[]) => list.find((c) => c.name === 'rewards-3d')!.spec;
    expect(await renderSvg(cloud(again))).toBe(await renderSvg(cloud(charts)));
    const top = await renderSvg(charts.find((c) => c.name === 'weights-top')!.spec);
    expect(top).toMatch(/top \d+ of [\d,]+ uids by mean weight/);
  });

  it('OpenValidators sample: block duration from _timestamp', async () => {
    const run = await Run.open(join(FORMATS, 'openvalidators', 'history.jsonl'));
    runs.push(run);
    const charts = await validatorCharts(run, { seed: 1 });
    const names = charts.map((c) => c.name);
    expect(names).toContain('block-duration');
    for (const name of ['block-duration', 'weights-top', 'rewards-3d'])
      if (names.includes(name))
        await expectSvgSnapshot(
          `chart-openvalidators-${name}`,
          await renderSvg(charts.find((c) => c.name === name)!.spec),
        );
  });
});

describe('runlens visualize-training', () => {
  it('writes rewards and heatmap as png, svg and pdf for a run mixing flat and nested files', () => {
    const r = runlens(
      'visualize-training',
      '--variant',
      'v4',
      '--experiments-dir',
      RL,
      '--output-dir',
      join(work, 'out'),
      '--format',
      'png,svg,pdf',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/processed .* entries from 3 files/);
    const files = readdirSync(join(work, 'out')).sort();
    expect(files).toEqual(
      ['heatmap.pdf', 'heatmap.png', 'heatmap.svg', 'rewards.pdf', 'rewards.png', 'rewards.svg'].map(
        (f) => `v4_20250726_130714_${f}`,
      ),
    );
  }, 60_000);

  function expectCleanError(r: ReturnType<typeof runlens>, pattern: RegExp) {
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }

  it('unknown variant, empty run, no reward fields, missing file: one clear message', () => {
    expectCleanError(
      runlens('visualize-training', '--variant', 'v9', '--experiments-dir', RL),
      /unknown variant "v9"/,
    );
    const empty = join(work, 'exp', 'empty', '20250101_000000', 'json_logs');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'stats_1.json'), '[]');
    expectCleanError(
      runlens('visualize-training', '--variant', 'empty', '--experiments-dir', join(work, 'exp')),
      /no records/,
    );
    const flat = join(work, 'exp', 'flat', '20250101_000000', 'json_logs');
    mkdirSync(flat, { recursive: true });
    const src = join(RL, 'v4', '20250726_130714', 'json_logs', 'stats_1753530037.json');
    cpSync(src, join(flat, 'stats_1753530037.json'));
    const noRewards = runlens(
      'visualize-training',
      '--variant',
      'flat',
      '--experiments-dir',
      join(work, 'exp'),
    );
    expectCleanError(noRewards, /no reward fields|no training-step field/);
    expectCleanError(runlens('plot-events', '--filepath', join(work, 'missing.json')), /not found/);
    expectCleanError(runlens('plot', join(work, 'missing.json')), /no such file/);
    expect(existsSync(join(work, 'plots'))).toBe(false);
  }, 60_000);
});

describe('start-up', () => {
  /** Runs the CLI in one process (no relaunch) and returns how many resvg and DuckDB modules it loaded. */
  function modulesLoaded(env: Record<string, string>, ...args: string[]): { resvg: number; duckdb: number } {
    const r = spawnSync(
      process.execPath,
      ['--import', join(import.meta.dirname, 'helpers', 'modules-loaded.mjs'), CLI, ...args],
      { encoding: 'utf8', cwd: work, env: { ...process.env, RUNLENS_RELAUNCH: '0', ...env } },
    );
    expect(r.status, r.stderr).toBe(0);
    const match = /resvg modules loaded: (\d+)\nduckdb modules loaded: (\d+)\n$/.exec(r.stderr);
    expect(match, r.stderr).not.toBeNull();
    return { resvg: Number(match![1]), duckdb: Number(match![2]) };
  }
  it('inspect loads DuckDB, which reads the log, and never the chart renderers (resvg)', () => {
    // Loading Vega, pdfkit and resvg takes ~0.35 s that a command drawing nothing should not pay.
    const filetao = join(FORMATS, 'filetao', 'events.json');
    const inspect = modulesLoaded({}, 'inspect', filetao);
    expect(inspect.resvg).toBe(0);
    expect(inspect.duckdb).toBeGreaterThan(0);
    expect(modulesLoaded({}, 'plot', filetao, '--out', join(work, 'startup-png')).resvg).toBeGreaterThan(0);
  }, 60_000);
});

describe('plot on a generic log', () => {
  it('charts every numeric metric and names the bad record on stderr', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    const dir = tempDir('runlens-generic-');
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ step: i, loss: 1 / (i + 1), eval: { acc: i / 200 } }),
    );
    lines.splice(50, 0, '{"step": 50, "loss": ');
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
    const bin = join(import.meta.dirname, '..', 'bin', 'runlens.js');
    const result = spawnSync(
      process.execPath,
      [bin, 'plot', dir, '--out', join(dir, 'plots'), '--format', 'svg'],
      {
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/1 bad record skipped \(1 corrupt\)/);
    expect(result.stderr).toMatch(/metrics\.jsonl:51: not valid JSON/);
    const index = JSON.parse(readFileSync(join(dir, 'plots', 'index.json'), 'utf8'));
    expect(index.charts.map((c: { name: string }) => c.name)).toEqual(['metrics']);
    const svg = readFileSync(join(dir, 'plots', 'metrics.svg'), 'utf8');
    expect(svg).toContain('loss');
    expect(svg).toContain('eval.acc');
    expect(svg).toMatch(/200 rows/);
    expect(result.stdout + result.stderr).toMatch(/ rows in 1 file → /);
  });
});

describe('plot summary', () => {
  it('states the sampling ratio of the point clouds', async () => {
    const { spawnSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const out = tempDir('runlens-plot-summary-');
    const bin = join(import.meta.dirname, '..', 'bin', 'runlens.js');
    const events = join(FORMATS, 'filetao', 'events.json');
    const result = spawnSync(
      process.execPath,
      // A cache of its own: another test file reading the same sample at the same moment holds
      // the shared one, and the note saying so would come first.
      [bin, 'plot', events, '--out', out, '--format', 'svg', '--seed', '5', '--cache-dir', tempDir()],
      { encoding: 'utf8' },
    );
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/^read 5 rows from 1 file; block 2,400,001 … 2,400,121\n/);
    expect(result.stderr).toMatch(
      /point clouds: a seeded uniform sample of 60 of 60 uid rows \(100 %, seed 5\)/,
    );
  });
});
