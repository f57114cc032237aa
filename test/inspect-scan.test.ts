import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inspectRun, inspectScanned, type RunInspection } from '../src/analysis/inspect.js';
import { Run } from '../src/engine/run.js';
import { discoverRun } from '../src/formats/discover.js';
import { splitTasks } from '../src/scan/validator-run.js';
import { simulate } from '../src/simulate/index.js';
import { runCli } from './helpers/cli.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/** `inspect` from the scan must be exactly what the DuckDB index gives, key order included. */
async function expectSameInspection(
  dir: string,
  options: { threads?: number; rangeBytes?: number; x?: string } = {},
): Promise<RunInspection> {
  const fast = await inspectScanned(discoverRun(dir), {
    threads: options.threads ?? 1,
    rangeBytes: options.rangeBytes,
    x: options.x,
  });
  expect(fast, 'the scan answered').toBeDefined();
  const run = await Run.open(dir, { x: options.x });
  try {
    const oracle = await inspectRun(run);
    expect(fast).toEqual(oracle);
    expect(JSON.stringify(fast, null, 2)).toBe(JSON.stringify(oracle, null, 2));
    return oracle;
  } finally {
    run.close();
  }
}

/**
 * A FileTAO run with everything that makes the index's bookkeeping hard to predict: text in
 * numeric fields (scalar and per-uid, including in byte ranges that start with the text), empty
 * text that decides no column type, numbers in text columns, a field named like a fixed column,
 * uid-indexed cells that are not numbers, bad lines, a truncated last line, a gzip member, an empty
 * file and a file that is not read.
 */
async function hostileRun(): Promise<string> {
  const sim = tempDir();
  await simulate('filetao', { out: sim, size: '300KB', seed: 11 });
  const source = fs.readFileSync(discoverRun(sim).files[0].path, 'utf8').split('\n').filter(Boolean);
  const lines = source.map((text, i) => {
    const event = JSON.parse(text) as Record<string, unknown>;
    // Few uids (the other vectors no longer align), an empty uid list, no uids.
    if (i === 12) Object.assign(event, { uids: [5, 6], rewards: [1, 'x'] });
    if (i === 14) Object.assign(event, { uids: [], rewards: [] });
    if (i === 16) delete event.uids;
    const n = ((event.uids ?? []) as number[]).length;
    const vector = (make: (k: number) => unknown) => Array.from({ length: n }, (_, k) => make(k));
    // Numeric at first; later, in whole stretches of lines, text a number column cannot hold.
    event.score_note = i % 40 >= 30 ? (['n/a', ' ', '7', '', 'Infinity', '1_0'] as const)[i % 6] : i * 0.5;
    // Empty text first (decides nothing), then text, then numbers (stored as text: no conflict).
    event.label = i < 10 ? '' : i < 20 ? 'abc' : i;
    // Empty text, then numbers, then text that conflicts.
    event.late = i < 15 ? '' : i % 25 === 0 ? 'zz' : i;
    if (i % 33 === 5) event.line = 'here';
    event.stake_note = i % 40 >= 35 ? vector((k) => ['x', 1, ' ', '5', '', null][k % 6]) : vector((k) => k);
    event.tags = i < 8 ? vector(() => '') : i < 16 ? vector((k) => `t${k}`) : vector((k) => k);
    event.late_vec = i < 12 ? vector(() => null) : i % 30 === 0 ? vector(() => 'no') : vector((k) => k / 2);
    if (i % 17 === 3) event.set_weights = [0.5, null, 'heavy', true, 2];
    return JSON.stringify(event);
  });
  lines.splice(5, 0, '{"block": 12, "uids": [1, 2], "rewards": [0.5');
  lines.splice(9, 0, 'not json at all');

  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'events.json'), `${lines.join('\n')}\n{"block": 1, "uids": [3], "rew`);
  fs.writeFileSync(path.join(dir, 'events.json.1.gz'), zlib.gzipSync(`${lines.slice(0, 5).join('\n')}\n`));
  fs.writeFileSync(path.join(dir, 'events.json.2'), '');
  fs.writeFileSync(path.join(dir, 'notes.md'), '# not a log\n');
  return dir;
}

describe('inspect from the projection scan agrees with the DuckDB index', () => {
  it('on the shared FileTAO sample', async () => {
    const oracle = await expectSameInspection(path.join(FORMATS, 'filetao'));
    expect(oracle.summary.uidRows).toBeGreaterThan(0);
  });

  it('on the shared OpenValidators history (NaN rewards, text per-uid vectors)', async () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(FORMATS, 'openvalidators', 'history.jsonl'), path.join(dir, 'history.jsonl'));
    const oracle = await expectSameInspection(dir);
    expect(oracle.fields.some((f) => f.role === 'per-uid' && (f.types.string ?? 0) > 0)).toBe(true);
  });

  it('on simulated FileTAO and OpenValidators runs cut into byte ranges on two workers', async () => {
    for (const format of ['filetao', 'openvalidators'] as const) {
      const dir = tempDir();
      await simulate(format, { out: dir, size: '2MB', seed: 5 });
      expect(splitTasks(discoverRun(dir).files, 128 << 10).length).toBeGreaterThan(8);
      const oracle = await expectSameInspection(dir, { threads: 2, rangeBytes: 128 << 10 });
      expect(oracle.summary.uids).toBeGreaterThan(10);
    }
  });

  it('on hostile input: type conflicts across byte ranges, bad lines, gzip, empty and unread files', async () => {
    const dir = await hostileRun();
    expect(splitTasks(discoverRun(dir).files, 16 << 10).length).toBeGreaterThan(10);
    for (const rangeBytes of [16 << 10, 1 << 30]) {
      const oracle = await expectSameInspection(dir, { threads: 2, rangeBytes });
      // The run exercises what it is meant to: every kind of conflict, and none where text decided.
      expect(Object.keys(oracle.typeConflicts).sort()).toEqual(
        ['late', 'late_vec', 'line', 'rewards', 'score_note', 'stake_note'].sort(),
      );
      expect(oracle.typeConflicts.score_note).toBeGreaterThan(10);
      expect(oracle.summary.problems).toBeGreaterThanOrEqual(3);
      expect(oracle.files.map((f) => f.status)).toEqual(['empty', 'ok', 'problems']);
      expect(oracle.ignored.map((f) => f.name)).toEqual(['notes.md']);
    }
    // With an x named by the user too.
    await expectSameInspection(dir, { threads: 2, rangeBytes: 16 << 10, x: 'block' });
  });

  it('on RL runs (JSON arrays, old flat and new nested records, rows without x) and a loguru log', async () => {
    const shared = await expectSameInspection(path.join(FORMATS, 'rl-experiments/v4/20250726_130714'));
    expect(shared.summary.x.rowsWithoutX).toBeGreaterThan(0);
    const rl = tempDir();
    await simulate('rl', { out: rl, size: '2MB', seed: 2 });
    expect(discoverRun(rl).files.length).toBeGreaterThan(1);
    const oracle = await expectSameInspection(rl, { threads: 2 });
    expect(oracle.summary.profile).toBe('rl');
    await expectSameInspection(rl, { threads: 2, x: 'step' });
    const log = tempDir();
    fs.copyFileSync(
      path.join(FORMATS, 'openvalidators', 'completions.log'),
      path.join(log, 'completions.log'),
    );
    await expectSameInspection(log);
  });

  it('declines what it cannot answer exactly: --strict with bad lines, --x ordinal, CSV, no x', async () => {
    const dir = await hostileRun();
    expect(await inspectScanned(discoverRun(dir), { strict: true, threads: 1 })).toBeUndefined();
    expect(await inspectScanned(discoverRun(dir), { x: 'ordinal', threads: 1 })).toBeUndefined();
    const csv = tempDir();
    fs.writeFileSync(path.join(csv, 'a.csv'), 'block,x\n1,2\n');
    expect(await inspectScanned(discoverRun(csv), { threads: 1 })).toBeUndefined();
    const noX = tempDir();
    fs.writeFileSync(path.join(noX, 'events.json'), '{"v": 1}\n{"v": 2}\n');
    expect(await inspectScanned(discoverRun(noX), { threads: 1 })).toBeUndefined();
  });
});

describe('the index reads JSON lines the same with the byte walker as with JSON.parse', () => {
  /** Everything the index holds: the inspection, and every table's columns and rows in order. */
  async function indexOf(dir: string, byteWalker: boolean) {
    const run = await Run.open(dir, { byteWalker });
    try {
      const tables: Record<string, unknown> = {};
      for (const [table, order] of [
        ['rows', 'file_id, rec'],
        ['uid_rows', 'file_id, rec, pos'],
        ['uid_indexed', 'file_id, rec, kind, uid'],
      ]) {
        tables[`${table} columns`] = await run.session.all(
          `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`,
        );
        tables[table] = await run.session.all(`SELECT * FROM ${table} ORDER BY ${order}`);
      }
      return { inspection: await inspectRun(run), tables };
    } finally {
      run.close();
    }
  }

  it('on hostile input, text per-uid vectors, NaN and loguru lines', async () => {
    const ov = tempDir();
    await simulate('openvalidators', { out: ov, size: '1MB', seed: 3 });
    const history = tempDir();
    fs.copyFileSync(
      path.join(FORMATS, 'openvalidators', 'history.jsonl'),
      path.join(history, 'history.jsonl'),
    );
    for (const dir of [
      await hostileRun(),
      ov,
      history,
      path.join(FORMATS, 'openvalidators', 'completions.log'),
      path.join(FORMATS, 'filetao'),
    ]) {
      const walked = await indexOf(dir, true);
      const parsed = await indexOf(dir, false);
      expect(walked.inspection).toEqual(parsed.inspection);
      expect(walked.tables).toEqual(parsed.tables);
      expect((walked.tables.rows as unknown[]).length).toBeGreaterThan(0);
    }
  }, 60_000);
});

describe('runlens inspect (built CLI)', () => {
  it('prints the same from the scan as from the DuckDB index, human and --json', async () => {
    const dir = await hostileRun();
    for (const args of [['--verbose'], ['--json', '--verbose']]) {
      const fast = runCli(['inspect', dir, ...args], { env: { RUNLENS_RANGE_BYTES: String(16 << 10) } });
      const full = runCli(['inspect', dir, ...args], { env: { RUNLENS_ENGINE: 'duckdb' } });
      expect(fast.code, fast.stderr).toBe(0);
      expect(full.code, full.stderr).toBe(0);
      expect(fast.stderr).toContain('engine: projection scanner');
      expect(full.stderr).toContain('engine: DuckDB');
      expect(fast.stdout).toBe(full.stdout);
      expect(fast.stdout).toContain('score_note');
    }
  });
});
