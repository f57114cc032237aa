import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { UserError } from '../src/errors.js';
import type { ExportOptions } from '../src/export/export-options.js';
import { exportRuns } from '../src/export/export-runs.js';
import { createExportViews } from '../src/export/export-views.js';
import { compareLogPaths } from '../src/formats/file-order.js';
import { Run } from '../src/engine/run.js';
import { simulate } from '../src/simulate/index.js';
import {
  isFiniteNumber,
  readEvents,
  uidRowsOf,
  type RefEvent,
  type RefUidRow,
} from './fixtures/analysis-brute-force.js';
import { FORMATS, tempDir } from './helpers/temp.js';

const dir = tempDir('runlens-export-');
const ovFile = path.join(dir, 'ov', 'history.jsonl');
const ftFile = path.join(dir, 'ft', 'events.json');
const miningFile = path.join(import.meta.dirname, 'fixtures', 'analysis-mining.jsonl');
let ovEvents: RefEvent[];
let ovRows: RefUidRow[];
let n = 0;
const out = (ext: string) => path.join(dir, 'out', `export-${++n}.${ext}`);

beforeAll(async () => {
  await simulate('openvalidators', {
    out: path.join(dir, 'ov'),
    size: '300KB',
    neurons: 40,
    sampleSize: 12,
    weightsEvery: 6,
    files: 'history',
    seed: 11,
  });
  await simulate('filetao', { out: path.join(dir, 'ft'), size: '100KB', uids: 16, seed: 5 });
  fs.mkdirSync(path.join(dir, 'out'));
  ovEvents = readEvents([ovFile]);
  ovRows = uidRowsOf(ovEvents);
});

/** Runs SQL over exported files in a fresh in-memory DuckDB. */
async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as T[];
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

const lines = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const jsonl = (file: string) => lines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
const sameNumber = (a: unknown, b: unknown) =>
  Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) < 1e-12);
const key = (r: { block: unknown; uid: unknown; completions: unknown }) =>
  `${String(r.block)}|${String(r.uid)}|${String(r.completions)}`;

describe('round trips', () => {
  it('Parquet, one row per event: row count, types, lists in order, NaN kept', async () => {
    const file = out('parquet');
    const report = await exportRuns([ovFile], { output: file });
    expect(report.rows).toBe(ovEvents.length);
    const types = Object.fromEntries(
      (await query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM '${file}'`)).map(
        (c) => [c.column_name, c.column_type],
      ),
    );
    expect(types).toMatchObject({
      name: 'VARCHAR',
      block: 'BIGINT',
      _step: 'BIGINT',
      gating_loss: 'DOUBLE',
      prompt: 'VARCHAR',
      uids: 'INTEGER[]',
      completions: 'VARCHAR[]',
      rewards: 'DOUBLE[]',
      dpo_reward_model: 'DOUBLE[]',
    });
    const rows = await query<{
      block: bigint;
      uids: number[] | null;
      completions: string[] | null;
      dpo: number[] | null;
    }>(`SELECT block, uids, completions, dpo_reward_model AS dpo FROM '${file}'`);
    expect(rows.length).toBe(ovEvents.length);
    rows.forEach((row, i) => {
      const event = ovEvents[i].event;
      expect(Number(row.block)).toBe(event.block);
      expect(row.uids ?? undefined).toEqual(event.uids);
      expect(row.completions ?? undefined).toEqual(event.completions);
      if (Array.isArray(event.dpo_reward_model))
        (event.dpo_reward_model as number[]).forEach((v, k) => expect(sameNumber(row.dpo![k], v)).toBe(true));
    });
    expect(ovRows.some((r) => Number.isNaN(r.values.dpo_reward_model))).toBe(true);
  });

  it('Parquet per (event, uid): FileTAO flags become BOOLEAN, uid INTEGER', async () => {
    const file = out('parquet');
    const ftRows = uidRowsOf(readEvents([ftFile]));
    const report = await exportRuns([ftFile], { output: file, explode: true });
    expect(report.rows).toBe(ftRows.length);
    const [row] = await query<{ n: bigint; ok: bigint }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE successful) AS ok FROM '${file}'`,
    );
    expect(Number(row.n)).toBe(ftRows.length);
    expect(Number(row.ok)).toBe(ftRows.filter((r) => r.values.successful === true).length);
    const types = await query<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT uid, successful, rewards, block FROM '${file}'`,
    );
    expect(types.map((t) => t.column_type)).toEqual(['INTEGER', 'BOOLEAN', 'DOUBLE', 'BIGINT']);
  });

  it('JSONL is strict JSON (NaN → null), one line per event; CSV has one record per (event, uid)', async () => {
    const json = out('jsonl');
    expect((await exportRuns([ovFile], { output: json })).rows).toBe(ovEvents.length);
    const parsed = jsonl(json);
    expect(parsed.length).toBe(ovEvents.length);
    const nulls = parsed
      .flatMap((r) => (r.dpo_reward_model as (number | null)[] | null) ?? [])
      .filter((v) => v === null).length;
    expect(nulls).toBe(ovRows.filter((r) => Number.isNaN(r.values.dpo_reward_model)).length);
    const csv = out('csv');
    expect((await exportRuns([ovFile], { output: csv, explode: true })).rows).toBe(ovRows.length);
    const [count] = await query<{ n: bigint }>(`SELECT count(*) AS n FROM read_csv('${csv}', header = true)`);
    expect(Number(count.n)).toBe(ovRows.length);
  });

  it('CSV per event holds lists as JSON text', async () => {
    const csv = out('csv');
    await exportRuns([ftFile], { output: csv, columns: ['block', 'uids', 'successful'] });
    const rows = await query<{ block: number; uids: string; successful: string }>(
      `SELECT * FROM read_csv('${csv}', header = true, all_varchar = true)`,
    );
    const events = readEvents([ftFile]);
    expect(JSON.parse(rows[0].uids)).toEqual(events[0].event.uids);
    expect(JSON.parse(rows[0].successful)).toEqual(events[0].event.successful);
  });
});

describe('filters narrow, never widen', () => {
  const blocks = () => ovEvents.map((e) => e.event.block as number);
  const cases: { name: string; options: Partial<ExportOptions>; keep: (r: RefUidRow) => boolean }[] = [
    {
      name: 'task',
      options: { task: ['augment', 'answer1'] },
      keep: (r) => ['augment', 'answer1'].includes(r.ev.event.name as string),
    },
    { name: 'uids', options: { uids: [1, 5, 9, 13, 21] }, keep: (r) => [1, 5, 9, 13, 21].includes(r.uid) },
    {
      name: 'min-reward',
      options: { minReward: 0.3 },
      keep: (r) => isFiniteNumber(r.values.rewards) && r.values.rewards >= 0.3,
    },
    {
      name: 'where (per-uid)',
      options: { where: 'completion_times < 5' },
      keep: (r) => (r.values.completion_times as number) < 5,
    },
    {
      name: 'where (event)',
      options: { where: 'block % 2 = 0' },
      keep: (r) => (r.ev.event.block as number) % 2 === 0,
    },
  ];

  it('each filter alone and all together match the brute force, per (event, uid)', async () => {
    const mid = blocks()[Math.floor(ovEvents.length / 3)];
    const all = [
      ...cases,
      {
        name: 'x-range',
        options: { xRange: { min: mid } },
        keep: (r: RefUidRow) => (r.ev.event.block as number) >= mid,
      },
    ];
    const base = ovRows.length;
    let combined: Partial<ExportOptions> = {};
    let keepAll = (_: RefUidRow) => true;
    for (const c of all) {
      const file = out('jsonl');
      const report = await exportRuns([ovFile], { output: file, explode: true, ...c.options });
      const expected = ovRows.filter(c.keep);
      expect(report.rows, c.name).toBe(expected.length);
      expect(report.rows, c.name).toBeLessThan(base);
      expect(
        jsonl(file)
          .map((r) => key(r as never))
          .sort(),
        c.name,
      ).toEqual(
        expected
          .map((r) => key({ block: r.ev.event.block, uid: r.uid, completions: r.values.completions }))
          .sort(),
      );
      combined = {
        ...combined,
        ...c.options,
        where:
          combined.where && c.options.where
            ? `${combined.where} AND ${c.options.where}`
            : (c.options.where ?? combined.where),
      };
      const before = keepAll;
      keepAll = (r) => before(r) && c.keep(r);
    }
    const file = out('jsonl');
    const report = await exportRuns([ovFile], { output: file, explode: true, ...combined });
    expect(report.rows).toBe(ovRows.filter(keepAll).length);
    expect(report.rows).toBeGreaterThan(0);
  });

  it('per event, a per-uid filter keeps events with a matching uid and cuts their lists to those uids', async () => {
    const file = out('jsonl');
    const uids = [2, 3, 7];
    await exportRuns([ovFile], { output: file, uids, columns: ['block', 'uids', 'rewards'] });
    const expected = ovEvents
      .filter((e) => Array.isArray(e.event.uids) && (e.event.uids as number[]).some((u) => uids.includes(u)))
      .map((e) => {
        const pos = (e.event.uids as number[]).flatMap((u, i) => (uids.includes(u) ? [i] : []));
        return {
          block: e.event.block,
          uids: pos.map((i) => (e.event.uids as number[])[i]),
          rewards: pos.map((i) => (e.event.rewards as number[])[i]),
        };
      });
    expect(jsonl(file)).toEqual(expected);
  });
  it('a --where over the uids list selects whole events, per event and per (event, uid)', async () => {
    const has5 = (e: RefEvent) => Array.isArray(e.event.uids) && (e.event.uids as number[]).includes(5);
    const perEvent = out('jsonl');
    await exportRuns([ovFile], {
      output: perEvent,
      where: 'list_contains(uids, 5)',
      columns: ['block', 'uids'],
    });
    expect(jsonl(perEvent)).toEqual(
      ovEvents.filter(has5).map((e) => ({ block: e.event.block, uids: e.event.uids })),
    );
    const perUid = out('jsonl');
    await exportRuns([ovFile], {
      output: perUid,
      explode: true,
      where: 'list_contains(uids, 5)',
      columns: ['uid'],
    });
    expect(jsonl(perUid).map((r) => r.uid)).toEqual(ovRows.filter((r) => has5(r.ev)).map((r) => r.uid));
  });
});

describe('blacklist', () => {
  it('removes completions containing a phrase, case-insensitively, and counts per phrase', async () => {
    const list = path.join(dir, 'blacklist.txt');
    fs.writeFileSync(list, '  i CANNOT answer \r\n\nTREATY\nzzz never there\n');
    const file = out('jsonl');
    const report = await exportRuns([ovFile], { output: file, explode: true, blacklist: list });
    const phrases = ['i cannot answer', 'treaty', 'zzz never there'];
    const text = (r: RefUidRow) => String(r.values.completions ?? '').toLowerCase();
    const matched = phrases.map((p) => ovRows.filter((r) => text(r).includes(p)).length);
    const first = ovRows.map((r) => phrases.findIndex((p) => text(r).includes(p)));
    const removed = phrases.map((_, i) => first.filter((f) => f === i).length);
    expect(report.blacklist?.phrases).toEqual(
      phrases.map((p, i) => ({
        phrase: p === 'i cannot answer' ? 'i CANNOT answer' : p === 'treaty' ? 'TREATY' : p,
        matched: matched[i],
        removed: removed[i],
      })),
    );
    expect(matched[0]).toBeGreaterThan(0);
    expect(matched[1]).toBeGreaterThan(0);
    expect(report.blacklist?.removed).toBe(first.filter((f) => f >= 0).length);
    expect(report.rows).toBe(ovRows.length - report.blacklist!.removed);
    for (const row of jsonl(file))
      for (const p of phrases) expect(String(row.completions).toLowerCase()).not.toContain(p);
  });
});

describe('presets', () => {
  it('--mining picks the highest-reward completion per prompt (rewards, not best or another model)', async () => {
    const file = out('jsonl');
    await exportRuns([miningFile], { output: file, mining: true, withScores: true });
    expect(jsonl(file)).toEqual([
      { prompt: 'Q1', completion: 'b', reward: 0.9, uid: 2 },
      { prompt: 'Q2', completion: 'AS AN ai LANGUAGE model: sure', reward: 0.95, uid: 6 },
      { prompt: 'Q4', completion: 'g', reward: -0.5, uid: 4 },
    ]);
    const list = path.join(dir, 'ai.txt');
    fs.writeFileSync(list, 'As an AI language model\n');
    const filtered = out('jsonl');
    const report = await exportRuns([miningFile], { output: filtered, mining: true, blacklist: list });
    expect(jsonl(filtered)).toEqual([
      { prompt: 'Q1', completion: 'b' },
      { prompt: 'Q2', completion: 'h' },
      { prompt: 'Q4', completion: 'g' },
    ]);
    expect(report.blacklist?.phrases[0]).toMatchObject({ matched: 2, removed: 2 });
  });

  it('--mining on a simulated run matches the brute force', async () => {
    const file = out('parquet');
    await exportRuns([ovFile], { output: file, mining: true, withScores: true });
    const best = new Map<string, RefUidRow>();
    for (const r of ovRows) {
      const prompt = r.ev.event.prompt as string;
      if (!r.values.completions || !isFiniteNumber(r.values.rewards) || !prompt) continue;
      const current = best.get(prompt);
      if (!current || (r.values.rewards as number) > (current.values.rewards as number)) best.set(prompt, r);
    }
    const rows = await query<{ prompt: string; completion: string; reward: number; uid: number }>(
      `SELECT * FROM '${file}'`,
    );
    expect(rows).toEqual(
      [...best].map(([prompt, r]) => ({
        prompt,
        completion: r.values.completions,
        reward: r.values.rewards,
        uid: r.uid,
      })),
    );
  });

  it('--openai writes chat-format JSONL with the best completion', async () => {
    const file = out('jsonl');
    await exportRuns([miningFile], { output: file, openai: true });
    expect(lines(file)[0]).toBe(
      '{"messages":[{"role":"user","content":"Q1"},{"role":"assistant","content":"b"}]}',
    );
    expect(lines(file).length).toBe(3);
    await expect(exportRuns([miningFile], { output: out('parquet'), openai: true })).rejects.toThrow(
      /chat-format JSONL/,
    );
  });
});

describe('order and layout', () => {
  const exports = async (run: string) => {
    const files = [out('jsonl'), out('jsonl'), out('jsonl')];
    await exportRuns([run], { output: files[0] });
    await exportRuns([run], { output: files[1], explode: true });
    await exportRuns([run], { output: files[2], where: 'successful AND rewards > 0.2' });
    return files.map((f) => fs.readFileSync(f, 'utf8'));
  };

  it('rows and list entries come out in file and record order, per event and per (event, uid)', async () => {
    const events = readEvents([ftFile]);
    const [perEvent, perUid, filtered] = await exports(ftFile);
    const parse = (text: string) =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parse(perEvent).map((r) => [r.block, r.uids, r.rewards, r.moving_averaged_scores])).toEqual(
      events.map((e) => [
        e.event.block,
        e.event.uids,
        e.event.rewards,
        e.event.moving_averaged_scores ?? null,
      ]),
    );
    expect(parse(perUid).map((r) => [r.block, r.uid, r.rewards])).toEqual(
      uidRowsOf(events).map((r) => [r.ev.event.block, r.uid, r.values.rewards]),
    );
    const kept = uidRowsOf(events).filter(
      (r) => r.values.successful === true && (r.values.rewards as number) > 0.2,
    );
    expect(parse(filtered).map((r) => [r.block, r.uids])).toEqual(
      events.flatMap((e) => {
        const uids = kept.filter((r) => r.ev === e).map((r) => r.uid);
        return uids.length ? [[e.event.block, uids]] : [];
      }),
    );
  });

  it('the same records give the same output whatever their files and their layout in the index', async () => {
    const records = lines(ftFile);
    const a = Math.floor(records.length / 3);
    const b = Math.floor((2 * records.length) / 3);
    const write = (file: string, from: number, to: number) =>
      fs.appendFileSync(
        file,
        records
          .slice(from, to)
          .map((l) => `${l}\n`)
          .join(''),
      );
    // Rotated: three files, read together.
    const rotated = path.join(dir, 'layout-rotated');
    fs.mkdirSync(rotated);
    write(path.join(rotated, 'events.json.2'), 0, a);
    write(path.join(rotated, 'events.json.1'), a, b);
    write(path.join(rotated, 'events.json'), b, records.length);
    // Grown: the older file gets its last records after the newer one was indexed, so the index
    // holds them after the newer file's.
    const grown = path.join(dir, 'layout-grown');
    fs.mkdirSync(grown);
    write(path.join(grown, 'events.json.1'), 0, a);
    write(path.join(grown, 'events.json'), b, records.length);
    (await Run.open(grown)).close();
    write(path.join(grown, 'events.json.1'), a, b);
    const run = await Run.open(grown);
    try {
      await run.session.withInsertionOrder(async () => {
        expect((await createExportViews(run)).byFile).toBe(true);
      });
    } finally {
      run.close();
    }
    const whole = await exports(ftFile);
    expect(whole[0].split('\n').length).toBe(records.length + 1);
    expect(await exports(rotated)).toEqual(whole);
    expect(await exports(grown)).toEqual(whole);
  });

  it('an RL run of several JSON array files comes out in file and record order', async () => {
    const rl = await simulate('rl', {
      out: path.join(dir, 'rl'),
      size: '400KB',
      recordsPerFile: 150,
      seed: 3,
    });
    const root = path.dirname(path.dirname(rl.files[0]));
    expect(rl.files.length).toBeGreaterThan(3);
    const file = out('jsonl');
    await exportRuns([root], { output: file, columns: ['step', 'total_steps'] });
    const events = readEvents(rl.files.slice().sort(compareLogPaths));
    expect(jsonl(file).map((r) => [r.step, r.total_steps])).toEqual(
      events.map((e) => [e.event.step ?? null, e.event.total_steps ?? null]),
    );
  });
});

describe('several runs and dedupe', () => {
  it('runs follow each other in the order given, their columns united by name', async () => {
    const file = out('parquet');
    const report = await exportRuns([ftFile, miningFile], { output: file });
    const ft = readEvents([ftFile]);
    const mining = readEvents([miningFile]);
    expect(report.rows).toBe(ft.length + mining.length);
    const rows = await query<{
      run_id: string;
      block: bigint;
      task_name: string | null;
      prompt: string | null;
    }>(`SELECT run_id, block, task_name, prompt FROM '${file}'`);
    expect(rows.map((r) => [r.run_id, Number(r.block), r.task_name, r.prompt])).toEqual([
      ...ft.map((e) => [ftFile, e.event.block, e.event.task_name, null]),
      ...mining.map((e) => [miningFile, e.event.block, null, e.event.prompt]),
    ]);
  });

  it('adds run_id; --dedupe keeps the first of equal rows', async () => {
    const copy = path.join(dir, 'ov-copy.jsonl');
    fs.copyFileSync(ovFile, copy);
    const both = out('jsonl');
    const report = await exportRuns([ovFile, copy], {
      output: both,
      explode: true,
      columns: ['prompt', 'completions'],
    });
    expect(report.rows).toBe(2 * ovRows.length);
    expect(new Set(jsonl(both).map((r) => r.run_id))).toEqual(new Set([ovFile, copy]));
    const deduped = out('jsonl');
    await exportRuns([ovFile, copy], {
      output: deduped,
      explode: true,
      columns: ['prompt', 'completions'],
      dedupe: true,
    });
    const pairs = [...new Set(ovRows.map((r) => JSON.stringify([r.ev.event.prompt, r.values.completions])))];
    const got = jsonl(deduped);
    expect(got.map((r) => JSON.stringify([r.prompt, r.completions]))).toEqual(pairs);
    expect(new Set(got.map((r) => r.run_id))).toEqual(new Set([ovFile]));
    // Mining over both: the same pairs as over one, each from the first run that has it.
    const one = out('jsonl');
    const two = out('jsonl');
    await exportRuns([ovFile], { output: one, mining: true, withScores: true });
    await exportRuns([ovFile, copy], { output: two, mining: true, withScores: true });
    expect(jsonl(two)).toEqual(jsonl(one).map((r) => ({ run_id: ovFile, ...r })));
  });
});

describe('incremental', () => {
  for (const [format, explode] of [
    ['jsonl', false],
    ['csv', true],
    ['parquet', false],
  ] as const) {
    it(`${format}: a re-run adds exactly the appended rows, then nothing`, async () => {
      const source = fs
        .readFileSync(ovFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      const live = path.join(dir, `live-${format}.jsonl`);
      const first = Math.floor(source.length / 2);
      const half = source[first + 3].slice(0, 40);
      fs.writeFileSync(live, `${source.slice(0, first).join('\n')}\n`);
      const output = out(format);
      const options: ExportOptions = { output, explode, incremental: true };
      const rowsOf = (from: number, to: number) => {
        const events = readEvents([ovFile]).slice(from, to);
        return explode ? uidRowsOf(events).length : events.length;
      };
      const r1 = await exportRuns([live], options);
      expect(r1.rows).toBe(rowsOf(0, first));
      fs.appendFileSync(live, `${source.slice(first, first + 3).join('\n')}\n${half}`);
      const r2 = await exportRuns([live], options);
      expect(r2.rows).toBe(rowsOf(first, first + 3));
      fs.appendFileSync(live, `${source[first + 3].slice(40)}\n${source.slice(first + 4).join('\n')}\n`);
      const r3 = await exportRuns([live], options);
      expect(r3.rows).toBe(rowsOf(first + 3, source.length));
      const r4 = await exportRuns([live], options);
      expect(r4.rows).toBe(0);
      expect(r4.incremental?.totalRows).toBe(rowsOf(0, source.length));
      const fresh = out(format);
      await exportRuns([live], { output: fresh, explode });
      if (format === 'parquet') {
        const base = output.replace(/\.parquet$/, '');
        expect(
          fs
            .readdirSync(path.dirname(output))
            .filter((f) => f.startsWith(path.basename(base)) && f.endsWith('.parquet')),
        ).toHaveLength(3);
        const [a] = await query<{ n: bigint }>(
          `SELECT count(*) AS n FROM (SELECT * FROM '${base}*.parquet' EXCEPT ALL SELECT * FROM '${fresh}')`,
        );
        const [b] = await query<{ n: bigint }>(`SELECT count(*) AS n FROM '${base}*.parquet'`);
        expect(Number(a.n)).toBe(0);
        expect(Number(b.n)).toBe(rowsOf(0, source.length));
      } else expect(fs.readFileSync(output, 'utf8')).toBe(fs.readFileSync(fresh, 'utf8'));
    });
  }

  it('recognises a rotated file and refuses changed options', async () => {
    const source = fs
      .readFileSync(ovFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const logDir = path.join(dir, 'rotating');
    fs.mkdirSync(logDir);
    const live = path.join(logDir, 'history.jsonl');
    fs.writeFileSync(live, `${source.slice(0, 10).join('\n')}\n`);
    const output = out('jsonl');
    expect((await exportRuns([logDir], { output, incremental: true })).rows).toBe(10);
    fs.appendFileSync(live, `${source.slice(10, 12).join('\n')}\n`);
    fs.renameSync(live, `${live}.1`);
    fs.writeFileSync(live, `${source.slice(12, 15).join('\n')}\n`);
    const report = await exportRuns([logDir], { output, incremental: true });
    expect(report.rows).toBe(5);
    expect(report.incremental?.notes.join('\n')).toMatch(/rotated/);
    expect(jsonl(output).map((r) => r._step)).toEqual(
      readEvents([ovFile])
        .slice(0, 15)
        .map((e) => e.event._step),
    );
    await expect(exportRuns([logDir], { output, incremental: true, where: 'block > 0' })).rejects.toThrow(
      /options differ/,
    );
  });
});

describe('errors and empty results', () => {
  it('a bad --where names the problem and lists the columns', async () => {
    const error = (await exportRuns([ovFile], { output: out('jsonl'), where: 'nosuch > 1' }).catch(
      (e: unknown) => e,
    )) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/--where "nosuch > 1": .*Referenced column "nosuch" not found/);
    expect(error.message).not.toMatch(/LINE 1/);
    expect(error.hint).toMatch(/columns: .*block.*prompt/);
    expect(error.hint).toMatch(/per-uid: .*rewards/);
    await expect(exportRuns([ovFile], { output: out('jsonl'), where: 'block >' })).rejects.toThrow(
      /syntax error/i,
    );
  });

  it('unknown --columns and missing fields are named', async () => {
    await expect(
      exportRuns([ovFile], { output: out('csv'), columns: ['block', 'reward'] }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('unknown column reward'),
      hint: expect.stringContaining('rewards'),
    });
    await expect(exportRuns([ftFile], { output: out('jsonl'), mining: true })).rejects.toThrow(
      /needs the per-uid field "completions"/,
    );
    await expect(
      exportRuns([ftFile], { output: out('jsonl'), task: ['Store', 'Stroe'] }),
    ).rejects.toMatchObject({
      message: 'unknown task "Stroe"',
      hint: expect.stringMatching(/tasks \(task_name\) in this run: .*Store/),
    });
  });

  it('an empty result writes an empty file, says so on stderr and exits 0', async () => {
    const file = out('jsonl');
    const err: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    let code: number;
    try {
      code = await main(['node', 'runlens', 'export', ovFile, '-o', file, '--where', 'block < 0']);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    expect(err.join('')).toMatch(/no rows matched/);
  });

  it('--variant exports the newest run of each variant, named by its directory in run_id', async () => {
    const experiments = tempDir();
    const rl = path.join(FORMATS, 'rl-experiments', 'v4', '20250726_130714');
    fs.cpSync(rl, path.join(experiments, 'v4', '20250726_130714'), { recursive: true });
    fs.mkdirSync(path.join(experiments, 'v4', '20240101_000000', 'json_logs'), { recursive: true });
    fs.writeFileSync(
      path.join(experiments, 'v4', '20240101_000000', 'json_logs', 'stats_1.json'),
      '[{"step": 1, "x": 1, "y": 1, "map": 0}]',
    );
    fs.cpSync(rl, path.join(experiments, 'v5', '20250801_000000'), { recursive: true });
    const run = async (args: string[]) => {
      const err: string[] = [];
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
      const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        return { code: await main(['node', 'runlens', 'export', ...args]), err: err.join('') };
      } finally {
        stderr.mockRestore();
        stdout.mockRestore();
      }
    };
    const byPath = out('jsonl');
    const byVariant = out('jsonl');
    expect((await run([path.join(experiments, 'v4', '20250726_130714'), '-o', byPath])).code).toBe(0);
    const one = await run(['--variant', 'v4', '--experiments-dir', experiments, '-o', byVariant]);
    expect(one.code, one.err).toBe(0);
    expect(lines(byVariant)).toEqual(lines(byPath));
    expect(lines(byVariant).length).toBe(20);
    const both = out('jsonl');
    const two = await run(['--variant', 'v4,v5', '--experiments-dir', experiments, '-o', both]);
    expect(two.code, two.err).toBe(0);
    const ids = new Set(jsonl(both).map((r) => r.run_id));
    expect([...ids].map((id) => path.resolve(String(id)))).toEqual([
      path.join(experiments, 'v4', '20250726_130714'),
      path.join(experiments, 'v5', '20250801_000000'),
    ]);
    const unknown = await run(['--variant', 'v9', '--experiments-dir', experiments, '-o', out('jsonl')]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/unknown variant "v9"/);
  });

  it('the CLI prints a bad --where without a stack trace and exits 1', async () => {
    const err: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    let code: number;
    try {
      code = await main([
        'node',
        'runlens',
        'export',
        ovFile,
        '-o',
        out('jsonl'),
        '--where',
        'rewardz > 1',
        '--explode',
      ]);
    } finally {
      stderr.mockRestore();
    }
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/^runlens: --where "rewardz > 1": Binder Error/);
    expect(err.join('')).toMatch(/columns: /);
    expect(err.join('')).not.toMatch(/at .*\.ts:\d+/);
  });
});
