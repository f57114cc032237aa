import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { FORMATS, tempDir } from './helpers/temp.js';

interface Inspection {
  summary: {
    profile: string;
    files: number;
    rows: number;
    uids: number;
    problems: number;
    x: { column: string | null; min: number; max: number; rowsWithoutX: number };
  };
  files: { name: string; rows: number; status: string; profile: string }[];
  ignored: { name: string }[];
  fields: { path: string; role: string }[];
}

// A cache of this file's own: another test file may hold the shared cache's index of the same
// sample open at the same moment, and inspect would say so on stderr.
const CACHE = tempDir('runlens-inspect-cache-');

function inspectJson(args: string[]): Inspection {
  const result = runCli(['inspect', ...args, '--json'], { env: { RUNLENS_CACHE_DIR: CACHE } });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Inspection;
}

describe('runlens inspect on every format sample', () => {
  it('FileTAO events.json', () => {
    const r = inspectJson([path.join(FORMATS, 'filetao/events.json')]);
    expect(r.summary).toMatchObject({ profile: 'filetao', files: 1, rows: 5, uids: 256, problems: 0 });
    expect(r.summary.x).toMatchObject({ column: 'block', min: 2400001, max: 2400121 });
    expect(r.fields).toContainEqual(expect.objectContaining({ path: 'rewards', role: 'per-uid' }));
    expect(r.fields).toContainEqual(expect.objectContaining({ path: 'set_weights', role: 'uid-indexed' }));
  });

  it('OpenValidators completions.log (loguru wrapper)', () => {
    const r = inspectJson([path.join(FORMATS, 'openvalidators/completions.log')]);
    expect(r.summary).toMatchObject({ profile: 'openvalidators', files: 1, rows: 2, problems: 0 });
    expect(r.summary.x).toMatchObject({ column: 'block', min: 1874000, max: 1874001 });
    expect(r.fields).toContainEqual(expect.objectContaining({ path: 'dpo_reward_model', role: 'per-uid' }));
    expect(r.fields.some((f) => f.path.startsWith('record.'))).toBe(false);
  });

  it('OpenValidators wandb history.jsonl', () => {
    const r = inspectJson([path.join(FORMATS, 'openvalidators/history.jsonl')]);
    expect(r.summary).toMatchObject({
      profile: 'openvalidators',
      files: 1,
      rows: 3,
      uids: 1024,
      problems: 0,
    });
    expect(r.summary.x).toMatchObject({ column: 'block', min: 1874000, max: 1874040 });
    expect(r.fields).toContainEqual(expect.objectContaining({ path: 'neuron_weights', role: 'uid-indexed' }));
  });

  it('RL run directory mixing old flat and new nested files', () => {
    const r = inspectJson([path.join(FORMATS, 'rl-experiments/v4/20250726_130714')]);
    expect(r.summary).toMatchObject({ profile: 'rl', files: 3, rows: 20, problems: 0 });
    expect(r.summary.x).toMatchObject({ column: 'total_steps', min: 12, max: 18, rowsWithoutX: 6 });
    expect(r.files.map((f) => [f.name, f.rows])).toEqual([
      ['json_logs/stats_1753530037.json', 6],
      ['json_logs/stats_1753530111.json', 12],
      ['json_logs/stats_final_1753530116.json', 2],
    ]);
    expect(r.ignored.map((f) => f.name)).toEqual(['v4.yaml']);
  });

  it('--variant picks the newest run under --experiments-dir', () => {
    const dir = tempDir();
    const variant = path.join(dir, 'v4');
    fs.cpSync(
      path.join(FORMATS, 'rl-experiments/v4/20250726_130714'),
      path.join(variant, '20250726_130714'),
      { recursive: true },
    );
    fs.mkdirSync(path.join(variant, '20240101_000000/json_logs'), { recursive: true });
    fs.writeFileSync(
      path.join(variant, '20240101_000000/json_logs/stats_1.json'),
      '[{"step": 1, "x": 1, "y": 1, "map": 0}]',
    );
    const r = inspectJson(['--variant', 'v4', '--experiments-dir', dir]);
    expect(r.summary.rows).toBe(20);
    const unknown = runCli(['inspect', '--variant', 'v9', '--experiments-dir', dir]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown variant "v9".*\n.*variants found: v4/);
  });

  it('human output names the profile, files, x range and problems', () => {
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, 'events.json'),
      '{"block": 5, "v": 1}\n{"block": 6, "v": \n{"block": 7, "v": 3}\n',
    );
    const result = runCli(['inspect', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/profile\s+generic/);
    expect(result.stdout).toMatch(/x range\s+5 … 7/);
    expect(result.stdout).toMatch(/events\.json:2: not valid JSON/);
    expect(result.stdout).toMatch(/2 events in 1 file/);
  });

  it('--verbose after the command lists every problem (the program-wide option reaches the command)', () => {
    const dir = tempDir();
    const lines = Array.from({ length: 30 }, (_, i) => `bad ${i}\n{"block": ${i}, "v": 1}\n`);
    fs.writeFileSync(path.join(dir, 'events.json'), lines.join(''));
    const short = runCli(['inspect', dir]);
    expect(short.stdout).toMatch(/… 10 more \(--verbose or --json for more\)/);
    for (const args of [
      ['inspect', dir, '--verbose'],
      ['--verbose', 'inspect', dir],
    ]) {
      const long = runCli(args);
      expect(long.code, long.stderr).toBe(0);
      expect(long.stdout).toMatch(/events\.json:59: not valid JSON/);
      expect(long.stdout).not.toMatch(/more \(/);
    }
  });

  it('errors are one clear message, non-zero exit, no stack trace', () => {
    const missing = runCli(['inspect', '/nonexistent/events.json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^runlens: \/nonexistent\/events\.json: no such file or directory\n/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'bad.jsonl'), '{"a": 1}\n{"a": \n');
    const strict = runCli(['inspect', dir, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/bad\.jsonl:2: not valid JSON/);
    expect(strict.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('input that is not a text log, and runs with no rows', () => {
  it('a binary file is one line saying so, exit 1; beside a good log it is one problem and the good rows stay', () => {
    const dir = tempDir();
    const binary = Buffer.alloc(4096);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919 + 13) % 256;
    fs.writeFileSync(path.join(dir, 'model.json'), binary);
    const alone = runCli(['inspect', path.join(dir, 'model.json'), '--no-cache']);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toBe('');
    expect(alone.stderr.split('\n')[0]).toBe(
      'runlens: no rows in this run: model.json: not a text log (NUL bytes in its first KiB); not read — is it the right file?',
    );
    expect(alone.stderr.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(2);

    fs.writeFileSync(path.join(dir, 'latin1.jsonl'), Buffer.from('{"note": "caf\xe9"}\n', 'latin1'));
    const latin = runCli(['inspect', path.join(dir, 'latin1.jsonl'), '--no-cache']);
    expect(latin.code).toBe(1);
    expect(latin.stderr).toMatch(/latin1\.jsonl: not a text log \(invalid UTF-8 in its first KiB\)/);

    fs.copyFileSync(path.join(FORMATS, 'filetao/events.json'), path.join(dir, 'events.json'));
    const r = inspectJson([dir, '--no-cache']);
    expect(r.summary).toMatchObject({ rows: 5, problems: 2 });
    expect(r.files.find((f) => f.name === 'model.json')).toMatchObject({ rows: 0 });
  });

  it('every command exits non-zero on a run that yields no rows, saying why', () => {
    const dir = tempDir();
    const empty = path.join(dir, 'events.json');
    fs.writeFileSync(empty, '');
    const out = path.join(dir, 'out');
    for (const args of [
      ['inspect', empty],
      ['plot', empty, '--out', out],
      ['report', empty, '-o', path.join(out, 'r.html')],
      ['analyze', empty, '--kind', 'throughput'],
      ['export', empty, '-o', path.join(out, 'e.jsonl')],
    ]) {
      const result = runCli([...args, '--no-cache']);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr).toMatch(/^runlens: no rows in this run: events\.json holds no records\n/);
    }
  });
});

describe('discovery', () => {
  it('does not read hidden files or directories, and says so', async () => {
    const { discoverRun } = await import('../src/formats/discover.js');
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'events.jsonl'), '{"step": 1}\n');
    fs.writeFileSync(path.join(dir, '.bench-complete.json'), '{"args": []}\n');
    fs.mkdirSync(path.join(dir, '.cache'));
    fs.writeFileSync(path.join(dir, '.cache', 'old.jsonl'), '{"step": 0}\n');
    fs.writeFileSync(path.join(dir, 'out.jsonl.manifest.json'), '{"files": []}\n');
    const run = discoverRun(dir);
    expect(run.files.map((f) => f.name)).toEqual(['events.jsonl']);
    expect(run.ignored.map((f) => [f.name, f.reason])).toEqual([
      ['.bench-complete.json', 'hidden'],
      ['.cache/', 'hidden'],
      ['out.jsonl.manifest.json', 'runlens export manifest'],
    ]);
  });
});

describe('every command that reads a run names its bad records on stderr', () => {
  it('export, analyze and report say file:line and keep the good rows', () => {
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, 'events.jsonl'),
      '{"block": 1, "v": 1, "uids": [1, 2], "rewards": [0.5, 0.2]}\n{"block": 2, "v": \n{"block": 3, "v": 2, "uids": [1, 2], "rewards": [0.1, 0.9]}\n',
    );
    for (const args of [
      ['export', dir, '-o', path.join(dir, 'out', 'rows.csv')],
      ['analyze', dir, '--kind', 'leaderboard'],
      ['report', dir, '-o', path.join(dir, 'out', 'report.html')],
    ]) {
      const result = runCli(args);
      expect(result.code, args[0]).toBe(0);
      expect(result.stderr, args[0]).toMatch(/1 bad record skipped \(1 corrupt\); every good row was read/);
      expect(result.stderr, args[0]).toMatch(/events\.jsonl:2: not valid JSON/);
    }
    const csv = fs
      .readFileSync(path.join(dir, 'out', 'rows.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv.length).toBe(3); // header + the two good events
  });
});

describe('first contact', () => {
  it("npx runlens runs the clone's own CLI, linked into node_modules/.bin by npm install: nothing fetched or built", () => {
    const repo = path.resolve(import.meta.dirname, '..');
    expect(fs.realpathSync(path.join(repo, 'node_modules', '.bin', 'runlens'))).toBe(
      path.join(repo, 'bin', 'runlens.js'),
    );
    const version = (
      JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }
    ).version;
    const result = spawnSync('npx', ['--no-install', 'runlens', '--version'], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect({ code: result.status, out: result.stdout.trim() }).toEqual({ code: 0, out: version });
  });
});
