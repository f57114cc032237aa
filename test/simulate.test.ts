import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { UserError } from '../src/errors.js';
import { parseJsonRecord } from '../src/formats/json-record.js';
import { parseSize, simulate, simulateProfiles, type SimulateOptions } from '../src/simulate/index.js';
import { FORMATS, MAP_LAYOUT, tempDir } from './helpers/temp.js';

const work = tempDir('runlens-simulate-');
let runs = 0;

/** Simulates into a fresh directory under the test's temp dir. */
async function run(profile: string, options: Omit<SimulateOptions, 'out'>) {
  const out = path.join(work, `${profile}-${runs++}`);
  return simulate(profile, { out, ...options });
}

/** Dotted key paths of an object in key order, not descending into arrays. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    prefix + key,
    ...keyPaths(child, `${prefix}${key}.`),
  ]);
}

/** The distinct key layouts (paths in order) of some records. */
function shapes(records: unknown[]): Set<string> {
  return new Set(records.map((record) => keyPaths(record).join(',')));
}

function jsonLines(file: string): Record<string, unknown>[] {
  const text = fs.readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => parseJsonRecord(line) as Record<string, unknown>);
}

function jsonArray(file: string): Record<string, unknown>[] {
  const records = parseJsonRecord(fs.readFileSync(file, 'utf8'));
  expect(Array.isArray(records)).toBe(true);
  return records as Record<string, unknown>[];
}

function sizeOnDisk(files: string[]): number {
  return files.reduce((sum, file) => sum + fs.statSync(file).size, 0);
}

function sameBytes(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((file, i) => fs.readFileSync(file).equals(fs.readFileSync(b[i])));
}

describe('parseSize', () => {
  it('reads decimal and binary units', () => {
    expect(parseSize('100MB')).toBe(100_000_000);
    expect(parseSize('1.5GB')).toBe(1_500_000_000);
    expect(parseSize('500kb')).toBe(500_000);
    expect(parseSize('2 G')).toBe(2_000_000_000);
    expect(parseSize('10MiB')).toBe(10 * 1024 * 1024);
    expect(parseSize('12345')).toBe(12345);
  });

  it('rejects nonsense with examples', () => {
    for (const bad of ['', 'big', '10XB', '-5MB', '0MB']) {
      expect(() => parseSize(bad)).toThrow(UserError);
    }
    try {
      parseSize('lots');
    } catch (error) {
      expect((error as UserError).hint).toMatch(/100MB/);
    }
  });
});

describe('simulate', () => {
  it('names the profiles when the profile is unknown', async () => {
    const error = await run('pokemon', { size: '10KB' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    for (const profile of simulateProfiles) expect((error as UserError).hint).toContain(profile);
  });

  it('rejects options that make no sense, naming them', async () => {
    await expect(run('filetao', { size: '10KB', uids: 0 })).rejects.toThrow(/--uids/);
    await expect(run('rl', { size: '10KB', envs: 0 })).rejects.toThrow(/--envs/);
    await expect(run('rl', { size: '10KB', variant: '../up' })).rejects.toThrow(UserError);
    await expect(run('generic', { size: '10KB', seed: -1 })).rejects.toThrow(/seed/);
  });

  it('is byte-identical for the same seed and differs for another, in every profile', async () => {
    for (const profile of simulateProfiles) {
      const options = { size: '200KB', recordsPerFile: 256, envs: 4 };
      const a = await run(profile, { ...options, seed: 7 });
      const b = await run(profile, { ...options, seed: 7 });
      const c = await run(profile, { ...options, seed: 8 });
      const relative = (files: string[], out: string) => files.map((f) => path.relative(out, f));
      expect(relative(b.files, b.out)).toEqual(relative(a.files, a.out));
      expect(sameBytes(a.files, b.files), profile).toBe(true);
      expect(sameBytes(a.files, c.files), profile).toBe(false);
    }
  });
});

describe('simulate filetao', () => {
  it('writes events.json lines shaped like the sample, to the requested size', async () => {
    const result = await run('filetao', { size: '1MB', uids: 64 });
    expect(result.files.map((f) => path.basename(f))).toEqual(['events.json']);
    expect(result.bytes).toBe(sizeOnDisk(result.files));
    expect(result.bytes).toBeGreaterThanOrEqual(1_000_000);
    expect(result.bytes).toBeLessThan(1_010_000);
    const events = jsonLines(result.files[0]);
    expect(events.length).toBe(result.records);
    expect(shapes(events)).toEqual(shapes(jsonLines(path.join(FORMATS, 'filetao/events.json'))));

    const tasks = new Set(events.map((e) => e.task_name));
    expect(tasks).toEqual(new Set(['Store', 'Challenge', 'Retrieve', 'SetWeights']));
    let previousBlock = 0;
    for (const event of events) {
      expect(event.block as number).toBeGreaterThanOrEqual(previousBlock);
      previousBlock = event.block as number;
      const uids = event.uids as number[];
      if (event.task_name === 'SetWeights') {
        expect(uids).toEqual(Array.from({ length: 64 }, (_, uid) => uid));
        expect((event.set_weights as number[]).length).toBe(64);
        expect(event.rewards).toEqual([]);
        continue;
      }
      expect(uids.length).toBeGreaterThanOrEqual(10);
      expect(uids.length).toBeLessThanOrEqual(20);
      expect(uids.every((uid) => uid >= 0 && uid < 64)).toBe(true);
      for (const key of [
        'successful',
        'completion_times',
        'task_status_codes',
        'task_status_messages',
        'rewards',
      ]) {
        expect((event[key] as unknown[]).length).toBe(uids.length);
      }
      expect(event.set_weights).toBeNull();
      expect(event.best_uid === '' || uids.includes(event.best_uid as number)).toBe(true);
    }
    const times = events.flatMap((e) => e.completion_times as (number | null)[]);
    expect(times).toContain(null);
    expect(previousBlock - (events[0].block as number)).toBeGreaterThan(100);
  });

  it('gives miners lasting differences in success', async () => {
    const result = await run('filetao', { size: '2MB', uids: 32 });
    const success = new Map<number, [number, number]>();
    for (const event of jsonLines(result.files[0])) {
      if (event.task_name === 'SetWeights') continue;
      (event.uids as number[]).forEach((uid, i) => {
        const tally = success.get(uid) ?? [0, 0];
        tally[0] += (event.successful as boolean[])[i] ? 1 : 0;
        tally[1]++;
        success.set(uid, tally);
      });
    }
    const rates = [...success.values()].map(([ok, n]) => ok / n).sort((a, b) => a - b);
    expect(rates[rates.length - 1] - rates[0]).toBeGreaterThan(0.4);
  });
});

describe('simulate openvalidators', () => {
  it('writes completions.log and history.jsonl shaped like the samples', async () => {
    const result = await run('openvalidators', { size: '1.5MB', weightsEvery: 10 });
    expect(result.files.map((f) => path.basename(f))).toEqual(['completions.log', 'history.jsonl']);
    expect(result.bytes).toBe(sizeOnDisk(result.files));
    expect(result.bytes).toBeGreaterThanOrEqual(1_500_000);
    expect(result.bytes).toBeLessThan(1_500_000 * 1.05);
    const [logFile, historyFile] = result.files;
    const log = jsonLines(logFile);
    const history = jsonLines(historyFile);
    expect(log.length + history.length).toBe(result.records);
    expect(shapes(log)).toEqual(shapes(jsonLines(path.join(FORMATS, 'openvalidators/completions.log'))));
    expect(shapes(history)).toEqual(shapes(jsonLines(path.join(FORMATS, 'openvalidators/history.jsonl'))));
    expect(fs.readFileSync(logFile, 'utf8')).toContain('NaN');

    const events = log.map((line) => (line.record as { extra: Record<string, unknown> }).extra);
    const names = events.slice(0, 9).map((e) => e.name);
    expect(names).toEqual([
      'augment',
      'followup0',
      'answer0',
      'followup1',
      'answer1',
      'followup2',
      'answer2',
      'followup3',
      'answer3',
    ]);
    const seen = new Map<string, Set<number>>();
    for (const event of events) {
      const completions = event.completions as string[];
      const raw = event.dpo_reward_model as number[];
      expect((event.uids as number[]).length).toBe(50);
      completions.forEach((text, i) => {
        expect(Number.isNaN(raw[i])).toBe(text === '');
        if (text === '') expect((event.rewards as number[])[i]).toBe(0);
        else seen.set(text, (seen.get(text) ?? new Set()).add((event.uids as number[])[i]));
      });
    }
    const popular = [...seen.values()].map((uids) => uids.size).sort((a, b) => b - a);
    expect(popular[0]).toBeGreaterThan(10);

    const sparse = history.filter((row) => 'neuron_weights' in row);
    expect(sparse.length).toBeGreaterThan(0);
    expect((sparse[0].neuron_weights as number[]).length).toBe(1024);
    expect((sparse[0].neuron_hotkeys as string[]).length).toBe(1024);
    const steps = history.map((row) => row._step as number);
    expect(steps).toEqual(steps.map((_, i) => i));
  });

  it('writes only the requested file', async () => {
    const result = await run('openvalidators', { size: '300KB', files: 'history' });
    expect(result.files.map((f) => path.basename(f))).toEqual(['history.jsonl']);
    expect(fs.existsSync(path.join(result.out, 'completions.log'))).toBe(false);
    await expect(run('openvalidators', { size: '300KB', files: 'all' as 'both' })).rejects.toThrow(UserError);
  });
});

describe('simulate rl', () => {
  const regions = JSON.parse(fs.readFileSync(MAP_LAYOUT, 'utf8')) as {
    regions: { id: string; tileSize: [number, number] }[];
  };
  const tiles = new Map(regions.regions.map((r) => [Number(r.id), r.tileSize]));
  const sampleDir = path.join(FORMATS, 'rl-experiments/v4/20250726_130714/json_logs');
  const flatShape = shapes(jsonArray(path.join(sampleDir, 'stats_1753530037.json')));
  const nestedShape = shapes(jsonArray(path.join(sampleDir, 'stats_1753530111.json')));

  it('lays out a run like the sample: names, order, flat then nested, env-major, total_steps', async () => {
    const envs = 4;
    const result = await run('rl', { size: '3MB', envs, flatFiles: 2 });
    expect(result.bytes).toBe(sizeOnDisk(result.files));
    expect(Math.abs(result.bytes / 3_000_000 - 1)).toBeLessThan(0.05);
    const [yaml, ...stats] = result.files;
    const runDir = path.dirname(yaml);
    expect(path.relative(result.out, runDir)).toMatch(/^experiments[/\\]v4[/\\]\d{8}_\d{6}$/);
    expect(path.basename(yaml)).toBe('v4.yaml');
    expect(fs.readFileSync(yaml, 'utf8')).toMatch(
      /^session_root: experiments\/v4\nn_steps: \d+\nnum_cpu: 4\n$/,
    );
    expect(fs.readdirSync(path.join(runDir, 'json_logs')).length).toBe(stats.length);

    const names = stats.map((f) => path.basename(f));
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(names.at(-1)).toMatch(/^stats_final_\d+\.json$/);
    const stamps = names.map((name) => Number(/(\d+)\.json$/.exec(name)![1]));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1]);
    expect(names.slice(0, -1).every((name) => /^stats_\d+\.json$/.test(name))).toBe(true);

    let cumulative = 0;
    stats.forEach((file, index) => {
      const text = fs.readFileSync(file, 'utf8');
      const records = jsonArray(file);
      const final = index === stats.length - 1;
      if (index < 2) {
        expect(text.startsWith('[{"step": ')).toBe(true);
        expect(shapes(records)).toEqual(flatShape);
      } else {
        expect(text.startsWith('[\n  {\n    "step": ')).toBe(true);
        expect(text.endsWith('\n  }\n]')).toBe(true);
        expect(shapes(records)).toEqual(nestedShape);
      }
      expect(records.length % envs).toBe(0);
      if (!final) cumulative += records.length;
      if (index >= 2) expect(new Set(records.map((r) => r.total_steps))).toEqual(new Set([cumulative]));
      const perEnv = records.length / envs;
      for (let env = 0; env < envs; env++) {
        const block = records.slice(env * perEnv, (env + 1) * perEnv);
        for (let i = 1; i < block.length; i++) {
          const step = block[i].step as number;
          expect(step === (block[i - 1].step as number) + 1 || step === 1).toBe(true);
        }
      }
      for (const record of records) {
        const position = (record.position ?? record) as { x: number; y: number; map: number };
        const size = tiles.get(position.map);
        expect(size, `map ${position.map}`).toBeDefined();
        expect(position.x >= 0 && position.x < size![0] && position.y >= 0 && position.y < size![1]).toBe(
          true,
        );
        if (record.rewards) {
          const rewards = record.rewards as { total: number; components: Record<string, number> };
          const sum = Object.values(rewards.components).reduce((a, b) => a + b, 0);
          expect(rewards.total).toBeCloseTo(sum, 9);
        }
      }
    });
  });

  it('shows learning: later files earn more reward', async () => {
    const result = await run('rl', { size: '12MB', envs: 8, recordsPerFile: 2048, flatFiles: 1 });
    const stats = result.files
      .slice(1, -1)
      .map(jsonArray)
      .filter((records) => records.length === 2048);
    const meanTotal = (records: Record<string, unknown>[]) =>
      records.reduce((sum, r) => sum + (r.rewards as { total: number }).total, 0) / records.length;
    const nested = stats.slice(1);
    expect(nested.length).toBeGreaterThanOrEqual(4);
    expect(meanTotal(nested.at(-1)!)).toBeGreaterThan(meanTotal(nested[0]) * 1.5);
  });
});

describe('simulate generic', () => {
  it('writes metrics.jsonl with nested eval and a matching CSV', async () => {
    const result = await run('generic', { size: '400KB', csv: true, evalEvery: 10 });
    expect(result.files.map((f) => path.basename(f))).toEqual(['metrics.jsonl', 'metrics.csv']);
    expect(result.bytes).toBe(sizeOnDisk(result.files));
    const rows = jsonLines(result.files[0]);
    expect(rows[0]).toMatchObject({ step: 0 });
    expect(Object.keys(rows[0])).toEqual(['step', 'epoch', 'loss', 'accuracy', 'lr', 'grad_norm']);
    expect(rows[9].eval).toEqual({ loss: expect.any(Number), accuracy: expect.any(Number) });
    const csv = fs.readFileSync(result.files[1], 'utf8').trimEnd().split('\n');
    expect(csv[0]).toBe('step,epoch,loss,accuracy,lr,grad_norm,eval.loss,eval.accuracy');
    expect(csv.length - 1).toBe(rows.length);
    const early = rows.slice(0, 100).reduce((s, r) => s + (r.loss as number), 0);
    const late = rows.slice(-100).reduce((s, r) => s + (r.loss as number), 0);
    expect(late).toBeLessThan(early / 2);
  });
});

describe('runlens simulate (CLI)', () => {
  it('prints a one-line summary', async () => {
    const out = path.join(work, 'cli');
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const code = await main([
        'node',
        'runlens',
        'simulate',
        'generic',
        '--out',
        out,
        '--size',
        '50KB',
        '--seed',
        '3',
      ]);
      expect(code).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(writes.join('')).toMatch(/^simulated generic: 1 file, .*records.*→ .*cli\n$/);
    expect(fs.existsSync(path.join(out, 'metrics.jsonl'))).toBe(true);
  });

  it('explains a bad size', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    try {
      const code = await main([
        'node',
        'runlens',
        'simulate',
        'rl',
        '--out',
        path.join(work, 'bad'),
        '--size',
        'huge',
      ]);
      expect(code).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('')).toMatch(/cannot read the size "huge"[\s\S]*1\.5GB/);
  });
});
