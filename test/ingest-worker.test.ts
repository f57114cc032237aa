import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import type { OpenRunOptions, Run } from '../src/engine/run.js';
import { discoverRun } from '../src/formats/discover.js';
import { simulate } from '../src/simulate/index.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/**
 * Reading a run on the ingest worker thread (`ingestOnWorker`) must index exactly what reading
 * it on this thread does. Tests run the TypeScript sources, where the worker cannot start (there is
 * no compiled worker beside them), so these use the built modules: `npm test` builds them first.
 */
const built = (await import(
  new URL('../dist/engine/run.js', import.meta.url).href
)) as typeof import('../src/engine/run.js');
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
    const tables = (await import(
      new URL('../dist/engine/ingest-tables.js', import.meta.url).href
    )) as typeof import('../src/engine/ingest-tables.js');
    const suits: Record<string, boolean> = {};
    for (const kind of ['filetao', 'openvalidators', 'rl'] as const) {
      const sim = tempDir();
      await simulate(kind, { out: sim, size: '300KB', seed: 1 });
      suits[kind] = tables.suitsIngestWorker(discoverRun(sim).files);
    }
    expect(suits).toEqual({ filetao: true, openvalidators: false, rl: false });
    const live = await built.Run.open(dir, { ingestWorker: true, live: true });
    await expect(live.refresh()).resolves.toBeDefined();
    live.close();
  });
});
