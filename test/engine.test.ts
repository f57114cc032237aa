import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binIndex, binSpec } from '../src/engine/bins.js';
import { movingAverageScores } from '../src/engine/moving-average-scores.js';
import { positionCounts } from '../src/engine/positions.js';
import { Run } from '../src/engine/run.js';
import { quoteString, rowGroupRows, Session } from '../src/engine/session.js';
import { headRecordBytes } from '../src/formats/probe.js';
import { simulate } from '../src/simulate/index.js';
import { fieldOf, numberOf, readEvents, uidRowsOf, type RefEvent } from './fixtures/analysis-brute-force.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/**
 * The run index as a whole: what it makes of real-format samples and bad input, how runs open and
 * hand memory back, and the validator state it rebuilds. Each aggregate is held to brute force in
 * aggregates.test.ts, its SQL text in sql.test.ts.
 */

/** Deterministic PRNG for fixtures. */
function mulberry32(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RL runs mixing old flat and new nested files', () => {
  const sample = path.join(FORMATS, 'rl-experiments/v4/20250726_130714');
  const files = ['stats_1753530037.json', 'stats_1753530111.json', 'stats_final_1753530116.json'].map((f) =>
    path.join(sample, 'json_logs', f),
  );
  let run: Run;
  beforeAll(async () => {
    run = await Run.open(sample);
  });
  afterAll(() => run.close());

  it('normalise to one column set', async () => {
    const cols = run.storedColumns('rows');
    for (const c of [
      'position.x',
      'position.y',
      'position.map',
      'player_status.health',
      'statistics.deaths',
      'rewards.total',
    ]) {
      expect(cols.has(c), c).toBe(true);
    }
    for (const flat of ['x', 'y', 'map', 'hp', 'deaths', 'healr', 'coord_count'])
      expect(cols.has(flat), flat).toBe(false);
    const rows = await run.session.all<{ file_id: number; n: number; hp: number; reward: number }>(
      `SELECT file_id, CAST(count("position.x") AS INTEGER) AS n, CAST(count("player_status.health") AS INTEGER) AS hp,
         CAST(count("rewards.total") AS INTEGER) AS reward
       FROM rows GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { file_id: 0, n: 6, hp: 6, reward: 0 },
      { file_id: 1, n: 12, hp: 12, reward: 12 },
      { file_id: 2, n: 2, hp: 2, reward: 2 },
    ]);
    // The old flat records' values land in the nested columns, record by record.
    const events = readEvents(files);
    const stored = await run.session.all<{ x: number; hp: number }>(
      'SELECT "position.x" AS x, "player_status.health" AS hp FROM events ORDER BY ord',
    );
    expect(stored).toEqual(
      events.map((e) => ({
        x: numberOf(fieldOf(e.event, 'position.x') ?? e.event.x),
        hp: numberOf(fieldOf(e.event, 'player_status.health') ?? e.event.hp),
      })),
    );
  });

  it('orders stats files by their number, final last, and uses total_steps as x', async () => {
    expect(run.location.files.map((f) => f.path)).toEqual(files);
    expect(run.x.column).toBe('total_steps');
    const ords = await run.session.all<{ file_id: number; first: number }>(
      'SELECT file_id, CAST(min(ord) AS INTEGER) AS first FROM events GROUP BY 1 ORDER BY 2',
    );
    expect(ords.map((o) => o.first)).toEqual([0, 6, 18]);
  });

  it('counts every position visit exactly', async () => {
    const counts = await positionCounts(run);
    const expected = new Map<string, number>();
    for (const { event } of readEvents(files)) {
      const p = (event.position ?? event) as Record<string, unknown>;
      const key = `${String(p.map)},${String(p.x)},${String(p.y)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(counts!.total).toBe(20);
    const actual = new Map(
      counts!.map.map((m, i) => [`${m},${counts!.x[i]},${counts!.y[i]}`, counts!.visits[i]]),
    );
    expect(actual).toEqual(expected);
  });
});

describe('bad input through a whole run', () => {
  const dir = tempDir();
  fs.writeFileSync(
    path.join(dir, 'a.jsonl'),
    '{"step": 1, "v": 1}\n{"step": 2, "v": oops}\n{"step": 3, "v": 3}\n{"step": 4, "v"',
  );
  fs.writeFileSync(path.join(dir, 'b.jsonl'), '');
  fs.writeFileSync(path.join(dir, 'c.jsonl'), '{"step": 5, "v": 5}\n');

  it('keeps every good row, names every file and counts the problems', async () => {
    const run = await Run.open(dir);
    try {
      const summary = await run.summary();
      expect(summary.rows).toBe(3);
      expect(summary.problems).toBe(2);
      expect(summary.truncated).toBe(1);
      expect(run.ingest.files.map((f) => [f.name, f.rows, f.status])).toEqual([
        ['a.jsonl', 2, 'problems'],
        ['b.jsonl', 0, 'empty'],
        ['c.jsonl', 1, 'ok'],
      ]);
      expect(run.ingest.problems.map((p) => `${p.file}:${p.line} ${p.kind}`)).toEqual([
        'a.jsonl:2 corrupt',
        'a.jsonl:4 truncated',
      ]);
      const steps = await run.session.all<{ step: number; line: number }>(
        'SELECT step, CAST(line AS INTEGER) AS line FROM events ORDER BY ord',
      );
      expect(steps).toEqual([
        { step: 1, line: 1 },
        { step: 3, line: 3 },
        { step: 5, line: 1 },
      ]);
    } finally {
      run.close();
    }
  });

  it('names the line as the file numbers it, blank lines and CRLF included', async () => {
    const only = path.join(dir, 'blank');
    fs.mkdirSync(only);
    fs.writeFileSync(
      path.join(only, 'x.jsonl'),
      '\n{"step": 1}\r\n\r\n{"step": 2, "v": oops}\n\n{"step": 3}\n{"step": 4',
    );
    const run = await Run.open(only);
    try {
      expect(run.ingest.problems.map((p) => `${p.line} ${p.kind}`)).toEqual(['4 corrupt', '7 truncated']);
      const rows = await run.session.all<{ step: number; line: number }>(
        'SELECT step, CAST(line AS INTEGER) AS line FROM events ORDER BY ord',
      );
      expect(rows).toEqual([
        { step: 1, line: 2 },
        { step: 3, line: 6 },
      ]);
    } finally {
      run.close();
    }
  });

  it('--strict makes a corrupt line fatal with file:line', async () => {
    await expect(Run.open(dir, { strict: true })).rejects.toThrow(/a\.jsonl:2: not valid JSON/);
  });

  it('--strict still tolerates a truncated last line', async () => {
    const only = path.join(dir, 'trunc');
    fs.mkdirSync(only);
    fs.writeFileSync(path.join(only, 'x.jsonl'), '{"step": 1}\n{"step": 2}\n{"step": 3');
    const run = await Run.open(only, { strict: true });
    try {
      expect(run.ingest.rows).toBe(2);
      expect(run.ingest.problems.map((p) => `${p.file}:${p.line} ${p.kind}`)).toEqual([
        'x.jsonl:3 truncated',
      ]);
    } finally {
      run.close();
    }
  });
});

describe('opening runs repeatedly', () => {
  it('never fails and reads the same rows each time', async () => {
    const counts = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const run = await Run.open(
        path.join(FORMATS, i % 2 ? 'openvalidators/history.jsonl' : 'filetao/events.json'),
      );
      expect(run.ingest.rows).toBeGreaterThan(0);
      counts.add(`${i % 2}:${run.ingest.rows}:${run.ingest.uidRows}`);
      run.close();
    }
    expect(counts.size).toBe(2);
  });
});

/**
 * The validator's scores by replaying every event in row order, in JS: per uid,
 * s = α·reward + (1 − α)·s from 0, for each finite reward of a uid ≥ 0 in an event with a finite x;
 * the matrix cell (uid, bin) is the state after the uid's last update in the bin, carried forward,
 * NaN before its first.
 */
function replayScores(
  events: readonly RefEvent[],
  xOf: (e: RefEvent) => number | null,
  alpha: number,
  maxBins: number,
) {
  const xs = events.map(xOf).filter((x): x is number => x !== null);
  const spec = binSpec(Math.min(...xs), Math.max(...xs), maxBins, xs.every(Number.isInteger));
  const state = new Map<number, number>();
  const cells = new Map<number, Map<number, number>>();
  const byEvent = new Map<RefEvent, ReturnType<typeof uidRowsOf>>();
  for (const row of uidRowsOf(events)) byEvent.set(row.ev, [...(byEvent.get(row.ev) ?? []), row]);
  let replayed = 0;
  for (const e of events) {
    const x = xOf(e);
    if (x === null) continue;
    let updated = false;
    for (const row of byEvent.get(e) ?? []) {
      const reward = numberOf(row.values.rewards);
      if (reward === null || !Number.isFinite(reward) || row.uid < 0) continue;
      const s = alpha * reward + (1 - alpha) * (state.get(row.uid) ?? 0);
      state.set(row.uid, s);
      cells.set(row.uid, (cells.get(row.uid) ?? new Map()).set(binIndex(x, spec), s));
      updated = true;
    }
    if (updated) replayed++;
  }
  const uids = [...cells.keys()].sort((a, b) => a - b);
  const values = uids.flatMap((uid) => {
    let last = NaN;
    return Array.from({ length: spec.count }, (_, b) => (last = cells.get(uid)!.get(b) ?? last));
  });
  return { spec, uids, values, replayed };
}

async function expectReplayed(run: Run, events: readonly RefEvent[], alpha: number, maxBins: number) {
  const block = (e: RefEvent) => {
    const b = numberOf(e.event.block);
    return b !== null && Number.isFinite(b) ? b : null;
  };
  expect(run.x.column).toBe('block');
  const matrix = (await movingAverageScores(run, { alpha, maxBins }))!;
  const expected = replayScores(events, block, alpha, maxBins);
  expect(matrix.source).toBe('reconstructed');
  expect(matrix.spec).toEqual(expected.spec);
  expect(matrix.uids).toEqual(expected.uids);
  expect(matrix.events).toBe(expected.replayed);
  const actual = Array.from(matrix.values);
  expect(actual.map(Number.isNaN)).toEqual(expected.values.map(Number.isNaN));
  actual.forEach((v, i) => {
    const e = expected.values[i];
    if (!Number.isNaN(e))
      expect(Math.abs(v - e), `cell ${i}: ${v} vs ${e}`).toBeLessThanOrEqual(1e-12 * Math.abs(e));
  });
  return expected;
}

describe('moving-averaged scores equal a replay of every event', () => {
  it('on the FileTAO sample and simulated FileTAO and OpenValidators runs, for several α and bin counts', async () => {
    const dir = tempDir();
    const inputs = [
      path.join(FORMATS, 'filetao/events.json'),
      path.join(FORMATS, 'openvalidators/completions.log'),
    ];
    for (const [seed, uids] of [
      [1, 16],
      [2, 64],
    ]) {
      const out = path.join(dir, `filetao-${seed}`);
      await simulate('filetao', { out, size: '150KB', uids, seed });
      inputs.push(path.join(out, 'events.json'));
    }
    const ov = path.join(dir, 'ov');
    await simulate('openvalidators', { out: ov, size: '150KB', neurons: 50, files: 'history', seed: 4 });
    inputs.push(path.join(ov, 'history.jsonl'));
    for (const input of inputs) {
      const run = await Run.open(input);
      try {
        const events = readEvents([input]);
        for (const [alpha, maxBins] of [
          [0.05, 200],
          [0.3, 7],
        ])
          await expectReplayed(run, events, alpha, maxBins);
      } finally {
        run.close();
      }
    }
  });

  it('replayed over ranges of bins (many updates) gives the very matrix of one query', async () => {
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: '150KB', uids: 32, seed: 6 });
    const input = path.join(dir, 'events.json');
    const run = await Run.open(input);
    try {
      const whole = (await movingAverageScores(run, { maxBins: 40 }))!;
      // One update per query at most: every bin is a query of its own.
      const split = (await movingAverageScores(run, { maxBins: 40, pieceRows: 1 }))!;
      expect(whole.spec.count).toBeGreaterThan(10);
      expect(split).toEqual(whole);
      const three = (await movingAverageScores(run, {
        maxBins: 40,
        pieceRows: Math.ceil(whole.events * 8),
      }))!;
      expect(three).toEqual(whole);
      await expectReplayed(run, readEvents([input]), 0.05, 40);
    } finally {
      run.close();
    }
  });

  it('reading each event’s x alongside its per-uid rows, skipping events without x, NaN and null rewards', async () => {
    const dir = tempDir();
    const random = mulberry32(11);
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const uids = [0, 1, 2].map(() => Math.floor(random() * 12));
      const rewards = uids.map(() => (random() < 0.05 ? 'NaN' : random() < 0.05 ? 'null' : String(random())));
      const block = i % 9 === 4 ? '' : `"block": ${100 + i}, `;
      lines.push(`{${block}"uids": [${uids.join(', ')}], "rewards": [${rewards.join(', ')}]}`);
    }
    // A uid that is rewarded only late: NaN in the early bins.
    lines.push(`{"block": 6200, "uids": [40], "rewards": [0.5]}`);
    fs.writeFileSync(path.join(dir, 'events.jsonl'), lines.join('\n') + '\n');
    const run = await Run.open(dir);
    try {
      const expected = await expectReplayed(run, readEvents([path.join(dir, 'events.jsonl')]), 0.05, 40);
      expect(expected.values.some(Number.isNaN)).toBe(true);
    } finally {
      run.close();
    }
  });
});

describe('moving-averaged scores when x goes back', () => {
  it('replay in row order; a bin holds every uid’s state after the bin’s last stretch of events', async () => {
    const dir = tempDir();
    const rows = [
      { block: 200, uids: [1], rewards: [1] },
      { block: 201, uids: [1, 2], rewards: [1, 0.5] },
      { block: 100, uids: [1], rewards: [0] },
      { block: 201, uids: [2], rewards: [1] },
    ];
    fs.writeFileSync(path.join(dir, 'events.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const run = await Run.open(dir, { x: 'block' });
    try {
      const alpha = 0.5;
      const matrix = (await movingAverageScores(run, { alpha, maxBins: 1000 }))!;
      // Replayed by hand, event by event: state after each event, and per bin the state after its last event.
      const at = new Map<number, Map<number, number>>();
      const state = new Map<number, number>();
      for (const r of rows) {
        r.uids.forEach((u, i) => state.set(u, alpha * r.rewards[i] + (1 - alpha) * (state.get(u) ?? 0)));
        at.set(r.block, new Map(state));
      }
      const column = (block: number) => block - matrix.spec.x0;
      const value = (uid: number, block: number) =>
        matrix.values[matrix.uids.indexOf(uid) * matrix.spec.count + column(block)];
      expect(matrix.uids).toEqual([1, 2]);
      // Block 100 came after 200 and 201: its state holds their updates (0.75 · 0.5 = 0.375 for uid 1).
      expect(value(1, 100)).toBeCloseTo(at.get(100)!.get(1)!, 15);
      expect(value(1, 100)).toBeCloseTo(0.375, 15);
      expect(value(2, 100)).toBeCloseTo(at.get(100)!.get(2)!, 15);
      expect(value(1, 201)).toBeCloseTo(at.get(201)!.get(1)!, 15);
      expect(value(2, 201)).toBeCloseTo(at.get(201)!.get(2)!, 15);
      expect(value(1, 200)).toBeCloseTo(at.get(200)!.get(1)!, 15);
      // Uid 2 had no score at block 200 (its first reward came at 201).
      expect(Number.isNaN(value(2, 200))).toBe(true);
    } finally {
      run.close();
    }
  });
});

describe('engine errors', () => {
  it('carry the statement they came from (the CLI prints it under an unexpected error)', async () => {
    const session = await Session.create();
    try {
      const wrong = 'SELECT   missing_column\n FROM range(3)';
      await expect(session.all(wrong)).rejects.toMatchObject({
        statement: 'SELECT missing_column FROM range(3)',
      });
      await expect(session.columns(wrong)).rejects.toThrow(/missing_column/);
      await expect(session.run('CREATE TABLE t AS SELECT 1 +')).rejects.toMatchObject({
        statement: 'CREATE TABLE t AS SELECT 1 +',
      });
    } finally {
      session.close();
    }
  });
});

describe('on-disk sessions', () => {
  /** DuckDB's memory in use (bytes) and its memory limit setting, read from the run's session. */
  const memoryProbes = (run: Run) => ({
    used: async () =>
      (await run.session.one<{ bytes: number }>(
        'SELECT CAST(sum(memory_usage_bytes) AS DOUBLE) AS bytes FROM duckdb_memory()',
      ))!.bytes,
    limit: async () =>
      (await run.session.one<{ v: string }>("SELECT current_setting('memory_limit') AS v"))!.v,
  });

  /** A run indexed in a cache of its own: its session is a database file. */
  const openOnDisk = async () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(FORMATS, 'filetao/events.json'), path.join(dir, 'events.json'));
    const run = await Run.open(path.join(dir, 'events.json'), { cache: tempDir('runlens-cache-') });
    expect(run.cacheDir).toBeDefined();
    return run;
  };

  it('hand back cached blocks between steps and answer the same afterwards', async () => {
    const run = await openOnDisk();
    try {
      const { used, limit } = memoryProbes(run);
      const limitBefore = await limit();
      const query = 'SELECT CAST(count(*) AS DOUBLE) AS n, sum(rewards) AS total FROM uid_events';
      const before = await run.session.one(query);
      await run.session.run('CREATE TABLE ballast AS SELECT range AS i, random() AS r FROM range(2000000)');
      await run.session.run('CHECKPOINT');
      await run.session.one('SELECT sum(r) FROM ballast');
      expect(await used()).toBeGreaterThan(8 * 1024 * 1024);
      await run.session.releaseMemory();
      expect(await used()).toBeLessThanOrEqual(16 * 1024 * 1024);
      expect(await run.session.one(query)).toEqual(before);
      expect(await limit()).toBe(limitBefore);
    } finally {
      run.close();
    }
  });
});

describe('row groups of wide records', () => {
  it('are as many rows as about 128 MB of their JSON, between 2,048 and DuckDB’s 122,880', () => {
    expect(rowGroupRows(1_000)).toBe(122_880);
    expect(rowGroupRows(15_000)).toBe(8_192);
    expect(rowGroupRows(1 << 20)).toBe(2_048);
  });

  it('are sized from the bytes per line at the start of a JSON lines file; other layouts say nothing', () => {
    const dir = tempDir();
    const wide = path.join(dir, 'wide.jsonl');
    const line = `${JSON.stringify({ step: 1, values: Array.from({ length: 1500 }, (_, i) => i / 7) })}\n`;
    fs.writeFileSync(wide, line.repeat(50));
    expect(headRecordBytes({ path: wide, gzip: false, container: 'jsonl' })).toBe(Buffer.byteLength(line));
    const array = path.join(dir, 'stats.json');
    fs.writeFileSync(array, JSON.stringify([{ a: 1 }, { a: 2 }], null, 2));
    expect(headRecordBytes({ path: array, gzip: false, container: 'json' })).toBeUndefined();
  });

  it('bound the rows of each row group the index writes', async () => {
    const dir = tempDir();
    const session = await Session.create({
      databasePath: path.join(dir, 'index.duckdb'),
      rowGroupSize: 2048,
    });
    try {
      await session.run('CREATE TABLE t AS SELECT range AS i FROM range(10000)');
      await session.run('CHECKPOINT');
      const groups = await session.all<{ rows: number }>(
        "SELECT CAST(max(count) AS DOUBLE) AS rows FROM pragma_storage_info('t') GROUP BY row_group_id",
      );
      expect(groups.length).toBe(5);
      expect(Math.max(...groups.map((g) => g.rows))).toBe(2048);
    } finally {
      session.close();
    }
  });
});

describe('sessions reading files', () => {
  it('keep nothing of the parquet files they have read (the export writer reads thousands)', async () => {
    const dir = tempDir('runlens-file-cache-');
    const session = await Session.create({ threads: 1 });
    try {
      const parts = Array.from({ length: 40 }, (_, i) => path.join(dir, `part${i}.parquet`));
      for (const [i, part] of parts.entries())
        await session.run(
          `COPY (SELECT range + ${i * 5000} AS a, repeat('x', 40) || range AS b FROM range(5000)) TO ${quoteString(part)} (FORMAT parquet)`,
        );
      const list = parts.map(quoteString).join(', ');
      const row = await session.one<{ n: number; total: number; m: number }>(
        `SELECT CAST(count(*) AS DOUBLE) AS n, CAST(sum(a) AS DOUBLE) AS total, CAST(max(length(b)) AS DOUBLE) AS m FROM read_parquet([${list}])`,
      );
      expect(row).toMatchObject({ n: 200_000, total: (199_999 * 200_000) / 2, m: 44 });
      // With DuckDB's default (the external file cache on) this holds 480 kB here, 12 kB a file.
      const cached = await session.one<{ bytes: number }>(
        "SELECT CAST(coalesce(sum(memory_usage_bytes), 0) AS DOUBLE) AS bytes FROM duckdb_memory() WHERE tag = 'EXTERNAL_FILE_CACHE'",
      );
      expect(cached!.bytes).toBe(0);
    } finally {
      session.close();
    }
  });
});
