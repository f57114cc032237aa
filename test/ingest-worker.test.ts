import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import type { OpenRunOptions, Run } from '../src/engine/run.js';
import { discoverRun } from '../src/formats/discover.js';
import { simulate } from '../src/simulate/index.js';
import { runCli } from './helpers/cli.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/**
 * Reading a run on the ingest worker thread (`ingestOnWorker`) must index exactly what reading
 * it on this thread does. Tests run the TypeScript sources, where the worker cannot start (there is
 * no compiled worker beside them), so these use the built modules: `npm test` builds them first.
 */
const built = (await import(
  new URL('../dist/engine/run.js', import.meta.url).href
)) as typeof import('../src/engine/run.js');
const builtTables = (await import(
  new URL('../dist/engine/ingest-tables.js', import.meta.url).href
)) as typeof import('../src/engine/ingest-tables.js');
const builtErrors = (await import(
  new URL('../dist/errors.js', import.meta.url).href
)) as typeof import('../src/errors.js');

type Snapshot = {
  tables: Record<string, unknown[]>;
  columns: Record<string, string[]>;
  ingest: unknown;
  summary: unknown;
};

/** Everything an open run holds: each table's columns and rows (sorted: scans do not keep insertion order), the ingest result, the summary. */
async function snapshot(run: Run): Promise<Snapshot> {
  const tables: Record<string, unknown[]> = {};
  const columns: Record<string, string[]> = {};
  for (const table of ['rows', 'uid_rows', 'uid_indexed']) {
    const described = await run.session.all<{ column_name: string; column_type: string }>(
      `DESCRIBE ${table}`,
    );
    columns[table] = described.map((c) => `${c.column_name} ${c.column_type}`);
    // Text, so NaN, -0 and nulls compare exactly.
    const cast = described.map((c) => `CAST("${c.column_name}" AS VARCHAR)`).join(', ');
    const rows = await run.session.all<Record<string, unknown>>(`SELECT ${cast} FROM ${table} ORDER BY ALL`);
    tables[table] = rows.map((r) => Object.values(r));
  }
  const ingest = run.ingest;
  return {
    tables,
    columns,
    ingest: {
      ...ingest,
      fields: ingest.fields.all(),
      order: [...ingest.order].map(([k, v]) => [k, { ...v }]),
      typeConflicts: [...ingest.typeConflicts],
    },
    summary: await run.summary(),
  };
}

/** The run read by `workers` workers, each a part of its files, and on this thread; notes of the former. */
async function openParts(
  input: string,
  workers: number,
  options: OpenRunOptions = {},
): Promise<{ parts: Snapshot; here: Snapshot; notes: string[] }> {
  const notes: string[] = [];
  const snapshots: Snapshot[] = [];
  for (const opts of [
    { ingestWorkers: workers, onParallelNote: (note: string) => notes.push(note) },
    { ingestWorker: false },
  ]) {
    const run = await built.Run.open(input, { ...options, ...opts });
    try {
      snapshots.push(await snapshot(run as unknown as Run));
    } finally {
      run.close();
    }
  }
  return { parts: snapshots[0], here: snapshots[1], notes };
}

const KINDS = ['filetao', 'openvalidators', 'rl'] as const;

/** The files of a run of this kind simulated afresh (seed 1). */
async function simulatedFiles(kind: (typeof KINDS)[number], size: string) {
  const dir = tempDir();
  await simulate(kind, { out: dir, size, seed: 1 });
  return discoverRun(dir).files;
}

async function openBoth(input: string, options: OpenRunOptions = {}): Promise<[Snapshot, Snapshot]> {
  const results: Snapshot[] = [];
  for (const ingestWorker of [true, false]) {
    const run = await built.Run.open(input, { ...options, ingestWorker });
    try {
      results.push(await snapshot(run as unknown as Run));
      // The worker's run is final; the one read here can follow its files.
      if (ingestWorker) await expect(run.refresh()).rejects.toThrow(/worker thread/);
    } finally {
      run.close();
    }
  }
  return [results[0], results[1]];
}

describe('ingest on a worker thread', () => {
  for (const sample of ['filetao/events.json', 'openvalidators', 'rl-experiments']) {
    it(`indexes the ${sample} sample exactly as this thread does`, async () => {
      const [onWorker, here] = await openBoth(path.join(FORMATS, sample));
      expect(onWorker.tables.rows.length).toBeGreaterThan(0);
      expect(onWorker).toEqual(here);
    });
  }

  it('on simulated runs large enough for many posts (FileTAO 3 MB, OpenValidators 2 MB)', async () => {
    for (const [kind, size] of [
      ['filetao', '3MB'],
      ['openvalidators', '2MB'],
    ] as const) {
      const dir = tempDir();
      await simulate(kind, { out: dir, size, seed: 3 });
      const [onWorker, here] = await openBoth(dir);
      expect(onWorker.tables.uid_rows.length).toBeGreaterThan(5000);
      expect(onWorker).toEqual(here);
    }
  });

  it('on hostile input: corrupt, truncated and non-object lines, type conflicts, late columns, gzip, CSV, an empty file', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const event: Record<string, unknown> = { step: i, loss: i % 17 === 0 ? 'n/a' : i / 7, uids: [1, 2, 3] };
      event.rewards = [i, i % 5 === 0 ? 'x' : 0.5, null];
      if (i > 4000) event.late_metric = i % 3 === 0 ? 'text' : i; // a column that appears late, as text
      if (i % 11 === 0) event.note = `ü€ ${i}`;
      lines.push(JSON.stringify(event));
    }
    lines.splice(10, 0, '{"step": 10.5, "loss": oops}', '[1, 2, 3]', '');
    lines.splice(3000, 0, 'not json');
    fs.writeFileSync(path.join(dir, 'a.jsonl'), `${lines.join('\n')}\n{"step": 9999, "loss"`);
    fs.writeFileSync(path.join(dir, 'b.jsonl.gz'), zlib.gzipSync(lines.slice(0, 500).join('\n')));
    fs.writeFileSync(path.join(dir, 'c.jsonl'), '');
    fs.writeFileSync(path.join(dir, 'd.csv'), 'step,loss,name\n1,0.5,a\n2,,b\n3,x,"c, d"\n');
    const [onWorker, here] = await openBoth(dir);
    const ingest = onWorker.ingest as { problemCount: number; typeConflicts: [string, number][] };
    expect(ingest.problemCount).toBeGreaterThanOrEqual(4);
    expect(ingest.typeConflicts.length).toBeGreaterThan(0);
    expect(onWorker.columns.rows.some((c) => c.startsWith('late_metric '))).toBe(true);
    expect(onWorker).toEqual(here);
  });

  it('reports progress in order up to every byte, and a strict error as the same UserError', async () => {
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: '2MB', seed: 4 });
    const seen: number[] = [];
    const run = await built.Run.open(dir, { ingestWorker: true, onProgress: (p) => seen.push(p.bytesDone) });
    const total = run.location.files.reduce((sum, f) => sum + f.bytes, 0);
    run.close();
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((b, i) => i === 0 || b >= seen[i - 1])).toBe(true);
    expect(seen.at(-1)).toBe(total);

    const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const text = fs.readFileSync(path.join(dir, file), 'utf8').split('\n');
    text.splice(1234, 0, '{"block": oops}');
    fs.writeFileSync(path.join(dir, file), text.join('\n'));
    const errors: unknown[] = [];
    for (const ingestWorker of [true, false]) {
      errors.push(
        await built.Run.open(dir, { ingestWorker, strict: true }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
    }
    expect(errors[0]).toBeInstanceOf(builtErrors.UserError);
    expect((errors[0] as UserError).message).toMatch(/:1235: not valid JSON/);
    expect((errors[0] as UserError).message).toBe((errors[1] as UserError).message);
    expect((errors[0] as UserError).hint).toBe((errors[1] as UserError).hint);
    expect((errors[0] as UserError).hint).toBeTruthy();
  });

  it('is used by default for large runs that are not live, and not when turned off', async () => {
    expect(built.WORKER_INGEST_MIN_BYTES).toBeGreaterThan(0);
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: '300KB', seed: 2 });
    // Below the threshold: read here, so it can be refreshed.
    const small = await built.Run.open(dir);
    await expect(small.refresh()).resolves.toBeDefined();
    small.close();
    const large = await built.Run.open(dir, { ingestWorker: true });
    await expect(large.refresh()).rejects.toThrow(/live: true/);
    large.close();
    // Only narrow JSON lines gain from it (see suitsIngestWorker).
    const suits: Record<string, boolean> = {};
    for (const kind of KINDS)
      suits[kind] = builtTables.suitsIngestWorker(await simulatedFiles(kind, '300KB'));
    expect(suits).toEqual({ filetao: true, openvalidators: false, rl: false });
    const live = await built.Run.open(dir, { ingestWorker: true, live: true });
    await expect(live.refresh()).resolves.toBeDefined();
    live.close();
  });
});

describe('ingest by several workers, each a part of the files', () => {
  it('splits files into contiguous parts of about equal bytes', async () => {
    const files = [5, 1, 1, 1, 5, 3].map((bytes, i) => ({ name: `f${i}`, bytes }) as never);
    const names = (parts: { name: string }[][]) => parts.map((p) => p.map((f) => f.name).join(''));
    // Each part closes once it holds its share of the bytes (here 8 of 16, then 16).
    expect(names(builtTables.splitFiles(files, 2))).toEqual(['f0f1f2f3', 'f4f5']);
    expect(names(builtTables.splitFiles(files, 3))).toEqual(['f0f1', 'f2f3f4', 'f5']);
    expect(names(builtTables.splitFiles(files, 6))).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    expect(names(builtTables.splitFiles(files, 9))).toHaveLength(6);
    expect(names(builtTables.splitFiles(files.slice(0, 1), 4))).toEqual(['f0']);
  });

  for (const sample of ['rl-experiments', 'openvalidators']) {
    it(`indexes the ${sample} sample exactly as one reader does, on 2 and 3 workers`, async () => {
      for (const workers of [2, 3]) {
        const { parts, here } = await openParts(path.join(FORMATS, sample), workers);
        expect(parts.tables.rows.length).toBeGreaterThan(0);
        expect(parts).toEqual(here);
      }
    });
  }

  it('on simulated runs of several files (RL 600 kB in 5 files; FileTAO 2 MB in 3 rotated files)', async () => {
    const rl = tempDir();
    await simulate('rl', { out: rl, size: '600KB', seed: 5 });
    expect(discoverRun(rl).files.length).toBeGreaterThanOrEqual(4);
    for (const workers of [2, 4]) {
      const { parts, here, notes } = await openParts(rl, workers);
      expect(notes.filter((n) => /read again/.test(n))).toEqual([]);
      expect(parts).toEqual(here);
    }
    const filetao = tempDir();
    await simulate('filetao', { out: filetao, size: '2MB', seed: 6 });
    const file = discoverRun(filetao).files[0].path;
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    fs.rmSync(file);
    const third = Math.ceil(lines.length / 3);
    for (let k = 0; k < 3; k++)
      fs.writeFileSync(
        path.join(filetao, `events-${k}.json`),
        `${lines.slice(k * third, (k + 1) * third).join('\n')}\n`,
      );
    const { parts, here, notes } = await openParts(filetao, 3);
    expect(parts.tables.uid_rows.length).toBeGreaterThan(5000);
    expect(notes).toEqual([]);
    expect(parts).toEqual(here);
  });

  it('puts columns that appear first in a later part in file order (a small last file finishes first)', async () => {
    const dir = tempDir();
    const big: string[] = [];
    for (let i = 0; i < 20000; i++) big.push(JSON.stringify({ step: i, loss: i / 3, acc: (i % 100) / 100 }));
    fs.writeFileSync(path.join(dir, 'a.jsonl'), `${big.join('\n')}\n`);
    // Its own first record puts a new field between two old ones, and adds one the first file lacks.
    fs.writeFileSync(
      path.join(dir, 'b.jsonl'),
      '{"step": 0, "lr": 0.1, "loss": 1, "acc": 0.5, "extra": "x"}\n{"step": 1, "loss": 2}\n',
    );
    const { parts, here, notes } = await openParts(dir, 2);
    expect(here.columns.rows.map((c) => c.split(' ')[0])).toEqual([
      'file_id',
      'rec',
      'line',
      'step',
      'loss',
      'acc',
      'lr',
      'extra',
    ]);
    expect(parts).toEqual(here);
    expect(notes.every((n) => /rebuilt with its columns in file order/.test(n))).toBe(true);
  });

  it('reads the run again on one worker where the parts disagree: a column type, an empty text, the per-uid copies', async () => {
    const cases: Record<string, [string, string]> = {
      // A field that is a number in the first part and text in the second.
      'column type': [
        '{"step": 1, "score": 2}\n{"step": 2, "score": 3}\n',
        '{"step": 3, "score": "high"}\n{"step": 4, "score": 5}\n',
      ],
      // An empty text before the field's column exists in the second part: one reader stores it.
      'empty text': ['{"step": 1, "tag": "a"}\n', '{"step": 2, "tag": ""}\n{"step": 3, "tag": "b"}\n'],
      // Per-uid rows copy the first x field their first event has: block here, step there.
      'per-uid copies': [
        '{"block": 1, "uids": [1, 2], "rewards": [0.5, 0.25]}\n',
        '{"step": 7, "uids": [1, 2], "rewards": [1, 0]}\n{"block": 2, "step": 8, "uids": [3], "rewards": [2]}\n',
      ],
    };
    for (const [name, [first, second]] of Object.entries(cases)) {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, 'a.jsonl'), first);
      fs.writeFileSync(path.join(dir, 'b.jsonl'), second);
      const { parts, here, notes } = await openParts(dir, 2);
      expect(
        notes.some((n) => /read again by one worker/.test(n)),
        name,
      ).toBe(true);
      expect(parts, name).toEqual(here);
    }
  });

  it('on hostile input in several parts: corrupt lines, a truncated file, gzip, CSV, an empty file; progress adds up', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    // 'n/a' in a numeric field, but not first (a text first would make the parts disagree on its type).
    for (let i = 0; i < 3000; i++)
      lines.push(
        JSON.stringify({ step: i, loss: i % 17 === 5 ? 'n/a' : i / 7, uids: [1, 2], rewards: [i, null] }),
      );
    lines.splice(10, 0, '{"step": 10.5, "loss": oops}', '[1, 2, 3]', '');
    fs.writeFileSync(path.join(dir, 'a.jsonl'), `${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'b.jsonl.gz'), zlib.gzipSync(lines.slice(0, 500).join('\n')));
    fs.writeFileSync(path.join(dir, 'c.jsonl'), '');
    fs.writeFileSync(path.join(dir, 'd.csv'), 'step,loss,name\n1,0.5,a\n2,,b\n3,x,"c, d"\n');
    fs.writeFileSync(path.join(dir, 'e.jsonl'), `${lines.slice(100, 900).join('\n')}\n{"step": 9999, "loss"`);
    const { parts, here, notes } = await openParts(dir, 3);
    expect(notes.filter((n) => /read again/.test(n))).toEqual([]);
    const ingest = parts.ingest as { problemCount: number; problems: { file: string }[] };
    expect(ingest.problemCount).toBeGreaterThanOrEqual(4);
    expect(new Set(ingest.problems.map((p) => p.file)).size).toBeGreaterThan(1);
    expect(parts).toEqual(here);
    const seen: { bytesDone: number; fileIndex: number }[] = [];
    const run = await built.Run.open(dir, { ingestWorkers: 3, onProgress: (p) => seen.push(p) });
    const total = run.location.files.reduce((sum, f) => sum + f.bytes, 0);
    run.close();
    expect(seen.every((p, i) => i === 0 || p.bytesDone >= seen[i - 1].bytesDone)).toBe(true);
    expect(seen.at(-1)?.bytesDone).toBe(total);
    expect(Math.max(...seen.map((p) => p.fileIndex))).toBe(4);
  });

  it('fails with the error one reader meets first (--strict with bad records in two parts)', async () => {
    const dir = tempDir();
    const lines = (from: number) =>
      Array.from({ length: 2000 }, (_, i) => JSON.stringify({ step: from + i, loss: i / 3 }));
    const first = lines(0);
    first.splice(1500, 0, '{"step": oops}');
    const second = lines(2000);
    second.splice(3, 0, '{"step": also bad}');
    fs.writeFileSync(path.join(dir, 'a.jsonl'), `${first.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'b.jsonl'), `${second.join('\n')}\n`);
    const errors: unknown[] = [];
    for (const options of [{ ingestWorkers: 2 }, { ingestWorker: false }]) {
      errors.push(
        await built.Run.open(dir, { ...options, strict: true }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
    }
    expect(errors[0]).toBeInstanceOf(builtErrors.UserError);
    expect((errors[0] as UserError).message).toMatch(/a\.jsonl:1501: not valid JSON/);
    expect((errors[0] as UserError).message).toBe((errors[1] as UserError).message);
  });

  it('says with --verbose when the run was read again by one worker (RUNLENS_INGEST_WORKERS sets the count)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"step": 1, "score": 2}\n{"step": 2, "score": 3}\n');
    fs.writeFileSync(path.join(dir, 'b.jsonl'), '{"step": 3, "score": "high"}\n');
    const env = { RUNLENS_INGEST_WORKERS: '2' };
    const out = tempDir();
    const note = /runlens: indexing: read again by one worker: .*column score is/;
    for (const args of [
      ['report', dir, '--output', path.join(out, 'r.html')],
      ['export', dir, '--output', path.join(out, 'e.jsonl')],
    ]) {
      const verbose = runCli([...args, '--verbose'], { env });
      expect(verbose.code, verbose.stderr).toBe(0);
      expect(verbose.stderr).toMatch(note);
      const quiet = runCli(args, { env });
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stderr).not.toMatch(/indexing:/);
    }
    // Without the variable this small run is read on this thread: nothing to say.
    expect(runCli(['report', dir, '--output', path.join(out, 'r2.html'), '--verbose']).stderr).not.toMatch(
      /indexing:/,
    );
  });

  it('is used by default for large runs of several JSON value files (RL), not for JSON lines', async () => {
    const suits: Record<string, boolean> = {};
    for (const kind of KINDS) {
      const files = await simulatedFiles(kind, '600KB');
      // FileTAO and OpenValidators simulate one events file: make it two.
      suits[kind] = builtTables.suitsParallelIngest(files.length > 1 ? files : [files[0], files[0]]);
    }
    expect(suits).toEqual({ filetao: false, openvalidators: false, rl: true });
    const rl = tempDir();
    await simulate('rl', { out: rl, size: '600KB', seed: 2 });
    expect(builtTables.suitsParallelIngest(discoverRun(rl).files.slice(0, 1))).toBe(false);
  });
});
