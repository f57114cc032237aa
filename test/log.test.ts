import { spawn } from 'node:child_process';
import {
  createReadStream,
  mkdtempSync,
  statSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonRecord } from '../src/formats/json-record.js';
import { LineSplitter } from '../src/live/line-splitter.js';
import {
  EventLog,
  EventValidationError,
  fileTaoEvents,
  listRotatedSet,
  openValidatorsEvents,
  parseNvidiaSmiCsv,
  readRotatedSet,
  startHostMetrics,
  type FileTaoEvent,
  type OpenValidatorsEvent,
} from '../src/log/index.js';
import { FORMATS } from './helpers/temp.js';

const fixture = (name: string): string => join(import.meta.dirname, 'fixtures', name);

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runlens-log-'));
  // Child processes run the library as plain JS: bundle src/log once.
  bundle = join(dir, 'log-bundle.mjs');
  await build({
    entryPoints: [join(import.meta.dirname, '../src/log/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    logLevel: 'silent',
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function freshPath(name = 'events.json'): string {
  const sub = join(dir, `case-${++counter}`);
  return join(sub, name);
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n');
}

function sampleEvents(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => parseJsonRecord(line));
}

function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('EventLog writing', () => {
  it('appends one JSON line per event and round-trips NaN / Infinity as bare tokens', async () => {
    const path = freshPath();
    const log = new EventLog(path);
    log.write({ id: 0, values: [1.5, NaN, Infinity, -Infinity, null], text: 'a "quoted"\nline' });
    log.write({ id: 1 });
    await log.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(
      '{"id":0,"values":[1.5,NaN,Infinity,-Infinity,null],"text":"a \\"quoted\\"\\nline"}\n{"id":1}\n',
    );
    expect(parseJsonRecord(lines(path)[0])).toEqual({
      id: 0,
      values: [1.5, NaN, Infinity, -Infinity, null],
      text: 'a "quoted"\nline',
    });
  });

  it('writes "\\n" first when the file ends in a partial line (a crashed writer), keeping it on its own line', async () => {
    const path = freshPath();
    new EventLog(path).closeSync();
    writeFileSync(path, '{"id":0}\n{"id":1,"trunc');
    const log = await EventLog.open(path);
    log.write({ id: 2 });
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('{"id":0}\n{"id":1,"trunc\n{"id":2}\n');
    // A file that already ends with "\n" gets nothing extra.
    const again = new EventLog(path);
    again.write({ id: 3 });
    await again.close();
    expect(readFileSync(path, 'utf8')).toBe('{"id":0}\n{"id":1,"trunc\n{"id":2}\n{"id":3}\n');
  });

  it('buffers events until flush(), writing whole lines', async () => {
    const path = freshPath();
    const log = new EventLog<{ id: number }>(path, { buffer: { maxEvents: 1000, flushEveryMs: 60_000 } });
    for (let id = 0; id < 10; id++) log.write({ id });
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(log.stats.queued).toBe(10);
    await log.flush();
    expect(sampleEvents(path)).toHaveLength(10);
    log.write({ id: 10 });
    await log.close();
    expect(sampleEvents(path).map((e) => (e as { id: number }).id)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(() => log.write({ id: 11 })).toThrow(/closed/);
  });

  it('flushes on its own when the batch is full or the timer fires', async () => {
    const path = freshPath();
    const log = new EventLog(path, { buffer: { maxEvents: 3, flushEveryMs: 20 } });
    log.write({ id: 0 });
    log.write({ id: 1 });
    log.write({ id: 2 }); // third event fills the batch
    await new Promise((resolve) => setImmediate(resolve));
    expect(sampleEvents(path)).toHaveLength(3);
    log.write({ id: 3 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(sampleEvents(path)).toHaveLength(4);
    await log.close();
  });

  it('accepts every fsync policy', async () => {
    for (const fsync of ['never', 'always', { everyMs: 10 }] as const) {
      for (const buffer of [false, true]) {
        const path = freshPath();
        const log = new EventLog(path, { fsync, buffer });
        for (let id = 0; id < 20; id++) log.write({ id });
        await log.flush();
        await log.sync();
        await log.close();
        expect(sampleEvents(path)).toHaveLength(20);
      }
    }
    expect(() => new EventLog(freshPath(), { fsync: { everyMs: 0 } })).toThrow(/everyMs/);
  });

  it('flushes queued events when the process exits normally', async () => {
    const path = freshPath();
    const script = `const { EventLog } = await import(${JSON.stringify(bundle)});
      const log = new EventLog(${JSON.stringify(path)}, { buffer: { flushEveryMs: 60000 } });
      for (let id = 0; id < 5; id++) log.write({ id });`;
    const result = await runChild(['--input-type=module', '-e', script]);
    expect(result.stderr).toBe('');
    expect(sampleEvents(path)).toHaveLength(5);
  });

  it('refuses what is not an event object', () => {
    const log = new EventLog<object>(freshPath());
    expect(() => log.write([1, 2] as unknown as object)).toThrow(/must be an object/);
    expect(() => log.write(null as unknown as object)).toThrow(/must be an object/);
    log.closeSync();
  });
});

describe('schemas', () => {
  const fileTao = sampleEvents(join(FORMATS, 'filetao/events.json')) as FileTaoEvent[];
  const completions = sampleEvents(join(FORMATS, 'openvalidators/completions.log')) as {
    record: { extra: OpenValidatorsEvent };
  }[];

  it('accepts every sample event', () => {
    for (const event of fileTao) expect(fileTaoEvents.check(event)).toEqual([]);
    for (const line of completions) expect(openValidatorsEvents.check(line.record.extra)).toEqual([]);
  });

  it('says which field is wrong, what was expected and what was found', () => {
    const store = structuredClone(fileTao[0]);
    expect(store.uids).toHaveLength(20);
    store.rewards = store.rewards.slice(1);
    expect(fileTaoEvents.check(store)).toEqual(['rewards has 19 entries but uids has 20']);
    const bad = { ...structuredClone(fileTao[0]), block: '12', best_uid: null } as unknown;
    delete (bad as Partial<FileTaoEvent>).uids;
    expect(fileTaoEvents.check(bad)).toEqual([
      'block: expected an integer, found "12" (string)',
      'uids is missing (expected a list of integers)',
      'best_uid: expected an integer or "", found null',
    ]);
    const times = structuredClone(fileTao[1]);
    (times.completion_times as unknown[])[3] = 'slow';
    expect(fileTaoEvents.check(times)).toEqual([
      'completion_times[3]: expected a number or null, found "slow" (string)',
    ]);
    const weights = { ...structuredClone(fileTao[4]), set_weights: null };
    expect(fileTaoEvents.check(weights)).toEqual([
      'set_weights: expected a list of numbers in a SetWeights event, found null',
    ]);

    const event = structuredClone(completions[0].record.extra);
    (event.dpo_reward_model as number[]).pop();
    event.name = 'answer9' as OpenValidatorsEvent['name'];
    expect(openValidatorsEvents.check(event)).toEqual([
      'name: expected one of augment, followup0…followup3, answer0…answer3, found "answer9" (string)',
      'dpo_reward_model has 49 entries but uids has 50',
    ]);
    expect(openValidatorsEvents.check('text')).toEqual([
      'expected an object (one event), found "text" (string)',
    ]);
  });

  it('validate: true throws EventValidationError before writing; free-form events pass by default', async () => {
    const path = freshPath();
    const log = new EventLog(path, { schema: fileTaoEvents, validate: true });
    const bad = structuredClone(fileTao[0]);
    bad.rewards.pop();
    let error: unknown;
    try {
      log.write(bad);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as Error).message).toBe('invalid FileTaoEvent: rewards has 19 entries but uids has 20');
    log.write(fileTao[0]);
    // System events from startHostMetrics bypass the schema.
    (log as EventLog<object>).write({ event: 'system', time: 1 });
    await log.close();
    expect(sampleEvents(path)).toHaveLength(2);

    const free = new EventLog(freshPath(), { schema: fileTaoEvents });
    free.write({ anything: true } as unknown as FileTaoEvent);
    free.closeSync();
    expect(() => new EventLog(freshPath(), { validate: true })).toThrow(/needs a schema/);
  });
});

describe('host metrics', () => {
  it('parses captured nvidia-smi output', () => {
    const captured = '0, 87, 30510, 81559\n1, [N/A], 3, 81559\r\n\n';
    expect(parseNvidiaSmiCsv(captured)).toEqual([
      {
        index: 0,
        utilization_percent: 87,
        memory_used_bytes: 30510 * 1048576,
        memory_total_bytes: 81559 * 1048576,
      },
      {
        index: 1,
        utilization_percent: null,
        memory_used_bytes: 3 * 1048576,
        memory_total_bytes: 81559 * 1048576,
      },
    ]);
    expect(parseNvidiaSmiCsv('')).toEqual([]);
  });

  it('writes system events every N ms and stops', async () => {
    const path = freshPath();
    const log = new EventLog(path);
    const stop = startHostMetrics(log, { everyMs: 25, nvidiaSmi: false });
    await new Promise((resolve) => setTimeout(resolve, 140));
    stop();
    const written = log.stats.events;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(log.stats.events).toBe(written);
    await log.close();
    const events = sampleEvents(path) as Record<string, unknown>[];
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const event of events) {
      expect(Object.keys(event)).toEqual([
        'event',
        'time',
        'cpu_percent',
        'rss_bytes',
        'load1',
        'free_memory_bytes',
        'gpus',
      ]);
      expect(event.event).toBe('system');
      expect(event.rss_bytes).toBeGreaterThan(0);
      expect(event.cpu_percent).toBeGreaterThanOrEqual(0);
      expect(event.cpu_percent).toBeLessThanOrEqual(100);
      expect(event.gpus).toEqual([]);
    }
  });

  it('uses the nvidia-smi it is given', async () => {
    const fake = join(dir, 'fake-nvidia-smi');
    writeFileSync(fake, '#!/bin/sh\necho "0, 12, 1024, 2048"\n', { mode: 0o755 });
    const path = freshPath();
    const log = new EventLog(path);
    const stop = startHostMetrics(log, { everyMs: 20, nvidiaSmi: fake });
    while (log.stats.events === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    stop();
    await log.close();
    const [event] = sampleEvents(path) as { gpus: unknown[] }[];
    expect(event.gpus).toEqual([
      {
        index: 0,
        utilization_percent: 12,
        memory_used_bytes: 1024 * 1048576,
        memory_total_bytes: 2048 * 1048576,
      },
    ]);
  });
});

describe('rotation', () => {
  it('rotates by size into .1.gz, .2.gz, … and the set reads back in order', async () => {
    const path = freshPath();
    const log = new EventLog(path, { rotate: { maxBytes: 4000, keep: 100, gzip: true } });
    const count = 1000;
    for (let id = 0; id < count; id++) log.write({ id, pad: 'p'.repeat(id % 50) });
    await log.close();
    expect(log.stats.rotations).toBeGreaterThan(5);
    const files = await listRotatedSet(path);
    expect(files.at(-1)).toBe(path);
    expect(files[0]).toBe(`${path}.${log.stats.rotations}.gz`);
    expect(files.slice(0, -1).every((file) => file.endsWith('.gz'))).toBe(true);
    const ids: number[] = [];
    for await (const { text } of readRotatedSet(path)) ids.push((parseJsonRecord(text) as { id: number }).id);
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => i));
    // No file passes maxBytes (each event is far smaller than it), and no temporary file is left.
    for (const file of files.filter((f) => !f.endsWith('.gz')))
      expect(readFileSync(file).length).toBeLessThanOrEqual(4000);
    expect(readdirSync(join(path, '..')).filter((name) => name.includes('tmp'))).toEqual([]);
  });

  it('keeps only N rotated files, the newest, and the data left is the newest events in order', async () => {
    const path = freshPath();
    const log = new EventLog(path, {
      buffer: { maxEvents: 7 },
      rotate: { maxBytes: 2000, keep: 3, gzip: true },
    });
    const count = 2000;
    for (let id = 0; id < count; id++) log.write({ id });
    await log.close();
    const files = await listRotatedSet(path);
    expect(files).toEqual([`${path}.3.gz`, `${path}.2.gz`, `${path}.1.gz`, path]);
    const ids: number[] = [];
    for await (const { text } of readRotatedSet(path)) ids.push((parseJsonRecord(text) as { id: number }).id);
    expect(ids.at(-1)).toBe(count - 1);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => count - ids.length + i));
    expect(ids.length).toBeGreaterThan(100);
  });

  it('without gzip: plain .1, .2 … ; keep 0 drops old data', async () => {
    const path = freshPath();
    const log = new EventLog(path, { rotate: { maxBytes: 300, keep: 2 } });
    for (let id = 0; id < 100; id++) log.write({ id });
    await log.close();
    expect(await listRotatedSet(path)).toEqual([`${path}.2`, `${path}.1`, path]);
    const dropping = freshPath();
    const drop = new EventLog(dropping, { rotate: { maxBytes: 300, keep: 0 } });
    for (let id = 0; id < 100; id++) drop.write({ id });
    await drop.close();
    expect(await listRotatedSet(dropping)).toEqual([dropping]);
    expect(() => new EventLog(freshPath(), { rotate: { maxBytes: 0, keep: 1 } })).toThrow(/maxBytes/);
  });

  it('a rotated file left uncompressed (closeSync, crash) is compressed on the next open; .N wins over .N.gz', async () => {
    const path = freshPath();
    const log = new EventLog(path, { rotate: { maxBytes: 500, keep: 10, gzip: true } });
    for (let id = 0; id < 40; id++) log.write({ id });
    log.closeSync();
    // Simulate a crash before compression finished: an uncompressed .1, a stale temporary file.
    writeFileSync(`${path}.gz-tmp-999999999-1`, 'partial gzip');
    writeFileSync(`${path}.1`, readFileSync(path));
    writeFileSync(path, '');
    expect((await listRotatedSet(path)).filter((f) => f === `${path}.1`)).toHaveLength(1);
    const reopened = new EventLog(path, { rotate: { maxBytes: 500, keep: 10, gzip: true } });
    await reopened.close();
    const names = readdirSync(join(path, '..'));
    expect(names).not.toContain('events.json.gz-tmp-999999999-1');
    expect(names).toContain('events.json.1.gz');
    expect(names).not.toContain('events.json.1');
  });
});

describe('several processes appending to one file', () => {
  it('lines from 3 concurrent writers never interleave and none is lost', async () => {
    const path = freshPath();
    new EventLog(path).closeSync();
    const writers = [
      ['a', 'direct'],
      ['b', 'buffered'],
      ['c', 'direct'],
    ];
    const count = 3000;
    const start = String(Date.now() + 600);
    const results = await Promise.all(
      writers.map(([name, mode]) =>
        runChild([fixture('log-concurrent-writer.mjs'), bundle, path, name, String(count), mode, start]),
      ),
    );
    for (const result of results) expect(result).toMatchObject({ code: 0, stderr: '' });
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const seen = new Map<string, number[]>();
    for (const line of text.slice(0, -1).split('\n')) {
      const event = JSON.parse(line) as { writer: string; id: number; pad: string };
      expect(event.pad).toBe(event.pad[0].repeat(event.pad.length));
      const ids = seen.get(event.writer) ?? [];
      ids.push(event.id);
      seen.set(event.writer, ids);
    }
    for (const [name] of writers) expect(seen.get(name)).toEqual(Array.from({ length: count }, (_, i) => i));
    // They really ran at the same time: the writers' lines are mixed in the file.
    const order = text
      .slice(0, -1)
      .split('\n')
      .map((line) => line.slice(11, 12));
    const switches = order.filter((writer, i) => i > 0 && writer !== order[i - 1]).length;
    expect(switches).toBeGreaterThan(10);
  });
});

describe('crash safety (SIGKILL at random moments)', () => {
  it('every flushed event survives, complete lines all parse, at most one partial line per crash', async () => {
    const path = freshPath();
    new EventLog(path).closeSync();
    const runs = 24;
    const flushedPerRun: number[] = [];
    let random = 12345;
    const nextRandom = (): number => (random = (random * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let run = 0; run < runs; run++) {
      const mode = run % 2 === 0 ? 'buffered' : 'direct';
      const child = spawn(
        process.execPath,
        [fixture('log-crash-writer.mjs'), bundle, path, String(run), mode],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let flushed = 0;
      let pending = '';
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      child.stdout.on('data', (data: Buffer) => {
        pending += data.toString();
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const part of parts) flushed = Math.max(flushed, Number(part));
        started();
      });
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      await running;
      await new Promise((resolve) => setTimeout(resolve, 5 + nextRandom() * 80));
      child.kill('SIGKILL');
      await closed;
      flushedPerRun.push(flushed);
    }

    // Read back in chunks with the library's own line splitter (the file is ~150 MB).
    const idsPerRun = new Map<number, number[]>();
    let garbage = 0;
    let previousRun = -1;
    let cutShort: { run: number; line: string } | undefined;
    const check = (line: string): void => {
      let event: { run: number; id: number; value: number; inf: number } | undefined;
      try {
        event = parseJsonRecord(line) as typeof event;
      } catch {
        event = undefined;
      }
      if (event === undefined) {
        // A line cut short by a kill: it must be the last line its run wrote, and only one per run.
        if (line === '') return; // blank lines carry nothing
        expect(cutShort).toBeUndefined();
        expect(line.startsWith('{"run":')).toBe(true);
        cutShort = { run: previousRun, line };
        garbage++;
        return;
      }
      if (cutShort) {
        expect(event.run).toBeGreaterThan(cutShort.run); // the next writer started a new line
        const next = idsPerRun.get(cutShort.run)?.length ?? 0;
        const expectedStart = `{"run":${cutShort.run},"id":${next}`;
        expect(cutShort.line.startsWith(expectedStart.slice(0, cutShort.line.length))).toBe(true);
        cutShort = undefined;
      }
      expect(event.run).toBeGreaterThanOrEqual(previousRun);
      previousRun = event.run;
      const ids = idsPerRun.get(event.run) ?? [];
      ids.push(event.id);
      idsPerRun.set(event.run, ids);
      expect(Number.isNaN(event.value) || event.value === event.id / 3).toBe(true);
      expect(event.inf).toBe(Infinity);
    };
    const splitter = new LineSplitter();
    for await (const chunk of createReadStream(path)) {
      for (const line of splitter.push(chunk as Buffer)) check(line.text);
    }
    const partialEnd = splitter.partialBytes > 0 ? 1 : 0; // the last writer was killed mid-write
    for (let run = 0; run < runs; run++) {
      const ids = idsPerRun.get(run) ?? [];
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i)); // in order, none missing
      expect(ids.length).toBeGreaterThanOrEqual(flushedPerRun[run]); // everything reported flushed is there
      expect(flushedPerRun[run]).toBeGreaterThan(0);
    }
    expect(garbage).toBeLessThanOrEqual(runs);
    console.log(
      `crash test: ${runs} kills, ${(statSync(path).size / 1e6).toFixed(0)} MB, ${[...idsPerRun.values()].reduce((n, ids) => n + ids.length, 0)} events, ` +
        `${garbage + partialEnd} lines cut short by a kill, ${flushedPerRun.reduce((a, b) => a + b, 0)} reported flushed`,
    );
  });
});
