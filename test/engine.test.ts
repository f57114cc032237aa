import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binnedStats } from '../src/engine/binned-stats.js';
import { binIndex } from '../src/engine/bins.js';
import { KEY_COLUMNS } from '../src/engine/ingest.js';
import {
  movingAverageScores,
  NearlySortedMerge,
  replayCounts,
  type ScoreMatrix,
} from '../src/engine/moving-average-scores.js';
import { positionCounts } from '../src/engine/positions.js';
import { reservoirSample } from '../src/engine/reservoir.js';
import { Run } from '../src/engine/run.js';
import { quoteString, Session } from '../src/engine/session.js';
import { simulate } from '../src/simulate/index.js';
import { parseJsonRecord, stringifyJsonRecord } from '../src/formats/json-record.js';
import { FORMATS, tempDir } from './helpers/temp.js';

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

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

describe('binned statistics: the last value per bin', () => {
  it('is the last in (event, position) order also when an event has more than 2^20 uids', async () => {
    const dir = tempDir();
    // Event 0 has 2^20 + 3 uids, its last reward 1; event 1 (same bin) one uid, reward 2. A row
    // order packed as ord · 2^20 + pos would put event 0's last position after event 1.
    const n = 2 ** 20 + 3;
    const uids = Array.from({ length: n }, (_, i) => i % 4096);
    const rewards = Array.from({ length: n }, (_, i) => (i === n - 1 ? 1 : 0));
    fs.writeFileSync(
      path.join(dir, 'events.jsonl'),
      `${JSON.stringify({ block: 1, uids, rewards })}\n${JSON.stringify({ block: 1, uids: [7], rewards: [2] })}\n` +
        `${JSON.stringify({ block: 2, uids: [1, 2], rewards: [3, 4] })}\n`,
    );
    const big = await Run.open(dir);
    try {
      const stats = await binnedStats(big, { columns: ['rewards'], table: 'uid_events', maxBins: 2 });
      expect(stats.series[0].last).toEqual([2, 4]);
      expect(stats.series[0].count).toEqual([n + 1, 2]);
    } finally {
      big.close();
    }
  });
});

describe('binned statistics equal a brute-force computation', () => {
  const dir = tempDir();
  const random = mulberry32(7);
  const events: { block: number; loss: number; task: string; uids: number[]; rewards: number[] }[] = [];
  let block = 1000;
  for (let f = 0; f < 3; f++) {
    const lines: string[] = [];
    for (let i = 0; i < [50, 700, 2300][f]; i++) {
      block += random() < 0.3 ? 1 : 0;
      const uids = [0, 1, 2, 3, 4].map(() => Math.floor(random() * 20));
      const event = {
        block,
        loss: random() < 0.05 ? NaN : random() * 10 - 2,
        task: ['Store', 'Retrieve'][i % 2],
        uids,
        rewards: uids.map(() => (random() < 0.1 ? NaN : random())),
      };
      events.push(event);
      lines.push(stringifyJsonRecord({ task_name: event.task, ...event }));
    }
    fs.writeFileSync(path.join(dir, `part${f}.jsonl`), lines.join('\n') + '\n');
  }
  let run: Run;
  beforeAll(async () => {
    run = await Run.open(dir);
  });
  afterAll(() => run.close());

  it('per-event metric: count, mean, min, max, band, last per bin', async () => {
    const stats = await binnedStats(run, { columns: ['loss'], maxBins: 37 });
    expect(run.x.column).toBe('block');
    expect(stats.quantiles).toBe('exact');
    const [series] = stats.series;
    const byBin = new Map<number, number[]>();
    const nonFinite = new Map<number, number>();
    for (const e of events) {
      const b = binIndex(e.block, stats.spec);
      if (!Number.isFinite(e.loss)) nonFinite.set(b, (nonFinite.get(b) ?? 0) + 1);
      else byBin.set(b, [...(byBin.get(b) ?? []), e.loss]);
    }
    expect(series.bin.length).toBe(new Set([...byBin.keys(), ...nonFinite.keys()]).size);
    expect(stats.spec.count).toBeLessThanOrEqual(37);
    for (let i = 0; i < series.bin.length; i++) {
      const values = byBin.get(series.bin[i]) ?? [];
      const sorted = [...values].sort((a, b) => a - b);
      expect(series.count[i]).toBe(values.length);
      expect(series.nonFinite[i]).toBe(nonFinite.get(series.bin[i]) ?? 0);
      expect(series.mean[i]).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
      expect(series.min[i]).toBe(sorted[0]);
      expect(series.max[i]).toBe(sorted.at(-1));
      expect(series.lower[i]).toBeCloseTo(quantile(sorted, 0.1), 9);
      expect(series.upper[i]).toBeCloseTo(quantile(sorted, 0.9), 9);
      expect(series.last[i]).toBe(values.at(-1));
    }
  });

  it('several columns in one call equal one call each (the report batches its metrics), with `between` run between them', async () => {
    let between = 0;
    const together = await binnedStats(run, {
      columns: ['loss', 'block'],
      maxBins: 37,
      between: async () => {
        between++;
      },
    });
    expect(between).toBe(1);
    const apart = [
      ...(await binnedStats(run, { columns: ['loss'], maxBins: 37 })).series,
      ...(await binnedStats(run, { columns: ['block'], maxBins: 37 })).series,
    ];
    expect(together.series.map((s) => s.column)).toEqual(['loss', 'block']);
    expect(together.series).toEqual(apart);
  });

  it('per-uid metric grouped by task', async () => {
    const stats = await binnedStats(run, {
      columns: ['rewards'],
      table: 'uid_events',
      groupBy: 'task',
      maxBins: 10,
    });
    expect(stats.series.map((s) => s.group).sort()).toEqual(['Retrieve', 'Store']);
    for (const series of stats.series) {
      for (let i = 0; i < series.bin.length; i++) {
        const values = events
          .filter((e) => e.task === series.group && binIndex(e.block, stats.spec) === series.bin[i])
          .flatMap((e) => e.rewards)
          .filter(Number.isFinite);
        expect(series.count[i]).toBe(values.length);
        expect(series.mean[i]).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
        expect(series.max[i]).toBe(Math.max(...values));
        // The last value in row order: the last event's last finite reward (by position).
        expect(series.last[i]).toBe(values[values.length - 1]);
      }
    }
  });

  it('moving-averaged scores equal a replay of every event', async () => {
    const matrix = await movingAverageScores(run, { alpha: 0.05, maxBins: 25 });
    expect(matrix?.source).toBe('reconstructed');
    const scores = new Map<number, number>();
    const atBin = new Map<number, Map<number, number>>();
    for (const e of events) {
      e.uids.forEach((uid, k) => {
        if (Number.isFinite(e.rewards[k]))
          scores.set(uid, 0.05 * e.rewards[k] + 0.95 * (scores.get(uid) ?? 0));
      });
      atBin.set(binIndex(e.block, matrix!.spec), new Map(scores));
    }
    const lastBin = matrix!.spec.count - 1;
    for (const [row, uid] of matrix!.uids.entries()) {
      expect(matrix!.values[row * matrix!.spec.count + lastBin]).toBeCloseTo(scores.get(uid)!, 12);
      const firstBin = atBin.get(0)!;
      if (firstBin.has(uid))
        expect(matrix!.values[row * matrix!.spec.count]).toBeCloseTo(firstBin.get(uid)!, 12);
    }
  });
});

describe('reservoir sample', () => {
  const dir = tempDir();
  const sizes = [30, 3000, 400, 26570];
  let total = 0;
  sizes.forEach((n, f) => {
    const lines = Array.from({ length: n }, () => `{"step": ${total++}, "v": 1}`);
    fs.writeFileSync(path.join(dir, `m${f}.jsonl`), lines.join('\n') + '\n');
  });
  let run: Run;
  beforeAll(async () => {
    run = await Run.open(dir);
  });
  afterAll(() => run.close());

  it('is uniform over row positions across files of very different sizes (chi-square)', async () => {
    const size = 6000;
    const sample = await reservoirSample(run, { size, seed: 42, columns: ['step'] });
    expect(sample.population).toBe(total);
    expect(sample.size).toBe(size);
    const steps = sample.columns.step as number[];
    expect(new Set(steps).size).toBe(size);
    const buckets = 30;
    const counts = new Array(buckets).fill(0);
    for (const s of steps) counts[Math.floor((s / total) * buckets)]++;
    const expected = size / buckets;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 29 degrees of freedom: P(chi2 > 58.3) = 0.001.
    expect(chi2).toBeLessThan(58.3);
    // Each file gets its share: the 30-row file is not over-represented (a per-file quota would be).
    const small = steps.filter((s) => s < 30).length;
    expect(small).toBeLessThan(30);
  });

  it('is identical for the same seed, different for another, and in row order', async () => {
    const a = await reservoirSample(run, { size: 500, seed: 1, columns: ['step'] });
    const b = await reservoirSample(run, { size: 500, seed: 1, columns: ['step'] });
    const c = await reservoirSample(run, { size: 500, seed: 2, columns: ['step'] });
    expect(a.columns.step).toEqual(b.columns.step);
    expect(a.columns.step).not.toEqual(c.columns.step);
    const steps = a.columns.step as number[];
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
  });

  it('takes every row when the population is smaller than N', async () => {
    const all = await reservoirSample(run, { size: 1e6, seed: 3, columns: ['step'] });
    expect(all.size).toBe(total);
    expect(all.ratio).toBe(1);
  });
});

describe('RL runs mixing old flat and new nested files', () => {
  const sample = path.join(FORMATS, 'rl-experiments/v4/20250726_130714');
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
    const rows = await run.session.all<{ file_id: number; n: number; hp: number }>(
      `SELECT file_id, CAST(count("position.x") AS INTEGER) AS n, CAST(count("player_status.health") AS INTEGER) AS hp FROM rows GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { file_id: 0, n: 6, hp: 6 },
      { file_id: 1, n: 12, hp: 12 },
      { file_id: 2, n: 2, hp: 2 },
    ]);
  });

  it('orders stats files by their number, final last, and uses total_steps as x', async () => {
    expect(run.location.files.map((f) => path.basename(f.path))).toEqual([
      'stats_1753530037.json',
      'stats_1753530111.json',
      'stats_final_1753530116.json',
    ]);
    expect(run.x.column).toBe('total_steps');
  });

  it('counts every position visit exactly', async () => {
    const counts = await positionCounts(run);
    const expected = new Map<string, number>();
    for (const f of run.location.files) {
      for (const r of parseJsonRecord(fs.readFileSync(f.path, 'utf8')) as Record<string, any>[]) {
        const p = r.position ?? r;
        const key = `${p.map},${p.x},${p.y}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
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
      const steps = await run.session.all<{ step: number }>('SELECT step FROM events ORDER BY ord');
      expect(steps.map((s) => s.step)).toEqual([1, 3, 5]);
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
    expect(run.ingest.rows).toBe(2);
    run.close();
  });
});

describe('opening runs repeatedly', () => {
  it('never fails on writer close (statements on one connection do not overlap)', async () => {
    // Parallel appender closes raced ALTER TABLE on the shared connection: ~1 open in 16 failed.
    for (let i = 0; i < 40; i++) {
      const run = await Run.open(
        path.join(FORMATS, i % 2 ? 'openvalidators/history.jsonl' : 'filetao/events.json'),
      );
      expect(run.ingest.rows).toBeGreaterThan(0);
      run.close();
    }
  });
});

describe('moving-averaged scores replay order', () => {
  it("reads each event's x alongside the per-uid rows across many chunks, skipping events without x", async () => {
    const dir = tempDir();
    const random = mulberry32(11);
    const lines: string[] = [];
    const events: { block?: number; uids: number[]; rewards: number[] }[] = [];
    for (let i = 0; i < 6000; i++) {
      const uids = [0, 1, 2].map(() => Math.floor(random() * 12));
      const event = { block: i % 9 === 4 ? undefined : 100 + i, uids, rewards: uids.map(() => random()) };
      events.push(event);
      lines.push(stringifyJsonRecord(event));
    }
    fs.writeFileSync(path.join(dir, 'events.jsonl'), lines.join('\n') + '\n');
    const run = await Run.open(dir);
    try {
      expect(run.x.column).toBe('block');
      const matrix = (await movingAverageScores(run, { alpha: 0.05, maxBins: 40 }))!;
      const scores = new Map<number, number>();
      let replayed = 0;
      for (const e of events) {
        if (e.block === undefined) continue;
        replayed++;
        e.uids.forEach((uid, k) => scores.set(uid, 0.05 * e.rewards[k] + 0.95 * (scores.get(uid) ?? 0)));
      }
      expect(matrix.events).toBe(replayed);
      const last = matrix.spec.count - 1;
      expect(matrix.uids.length).toBe(scores.size);
      for (const [row, uid] of matrix.uids.entries())
        expect(matrix.values[row * matrix.spec.count + last]).toBeCloseTo(scores.get(uid)!, 12);
    } finally {
      run.close();
    }
  });

  it('gives the same numbers when a per-uid row is stored after every other row', async () => {
    const file = path.join(FORMATS, 'filetao/events.json');
    const events = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => parseJsonRecord(l) as { block: number; uids: number[]; rewards: number[] });
    const run = await Run.open(file);
    try {
      // An extra reward for uid 7 in the first event, appended after every other row (with the
      // copies of its event's x and line that the ingest writes).
      await run.session.run(
        `INSERT INTO uid_rows (file_id, rec, pos, uid, rewards, ${KEY_COLUMNS.x}, ${KEY_COLUMNS.line})
         VALUES (0, 0, 999, 7, 1.0, ${events[0].block}, 1)`,
      );
      const scores = new Map<number, number>();
      events.forEach((e, index) => {
        const updates = e.rewards.length === e.uids.length ? e.uids.map((u, k) => [u, e.rewards[k]]) : [];
        if (index === 0) updates.push([7, 1.0]);
        for (const [uid, reward] of updates) scores.set(uid, 0.05 * reward + 0.95 * (scores.get(uid) ?? 0));
      });
      const matrix = (await movingAverageScores(run, { alpha: 0.05, maxBins: 10 }))!;
      const last = matrix.spec.count - 1;
      for (const [row, uid] of matrix.uids.entries()) {
        expect(matrix.values[row * matrix.spec.count + last]).toBeCloseTo(scores.get(uid)!, 12);
      }
      expect(matrix.uids).toContain(7);
    } finally {
      run.close();
    }
  });
});

/**
 * The reconstructed scores from the merge (default slack) and from the sorted replay (a slack too
 * small for the run's disorder), checking that each replay is the one that answered.
 */
async function fromBothReplays(run: Run, maxBins: number, smallSlack: number): Promise<ScoreMatrix[]> {
  const results: ScoreMatrix[] = [];
  for (const [slack, path] of [
    [undefined, 'merged'],
    [smallSlack, 'sorted'],
  ] as const) {
    const before = { ...replayCounts };
    results.push((await movingAverageScores(run, { maxBins, replaySlack: slack }))!);
    expect(replayCounts[path], path).toBe(before[path] + 1);
  }
  return results;
}

describe('moving-averaged scores from per-uid rows stored out of order', () => {
  it('the merge puts them back within its slack, the sorted replay beyond it: identical matrices', async () => {
    const dir = tempDir();
    const random = mulberry32(5);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const uids = [0, 1, 2, 3].map(() => Math.floor(random() * 40));
      lines.push(stringifyJsonRecord({ block: 100 + i, uids, rewards: uids.map(() => random()) }));
    }
    fs.writeFileSync(path.join(dir, 'events.jsonl'), lines.join('\n') + '\n');
    const run = await Run.open(dir);
    try {
      const inOrder = (await movingAverageScores(run, { maxBins: 50 }))!;
      // Stored backwards, in many chunks: far from append order.
      await run.session.run(
        'CREATE OR REPLACE TABLE uid_rows AS SELECT * FROM uid_rows ORDER BY rec DESC, pos DESC',
      );
      for (const matrix of await fromBothReplays(run, 50, 1000)) {
        expect(matrix.uids).toEqual(inOrder.uids);
        expect(matrix.events).toBe(3000);
        expect(Array.from(matrix.values)).toEqual(Array.from(inOrder.values));
      }
    } finally {
      run.close();
    }
  });
});

describe('moving-averaged scores on a real ingest', () => {
  it('DuckDB stores some appended per-uid rows out of order; the merge restores it, as the sorted replay does', async () => {
    const dir = tempDir();
    await simulate('filetao', { out: dir, size: '40MB', seed: 3 });
    const run = await Run.open(dir);
    try {
      // The reason for the merge (measured on DuckDB 1.5: a few chunks per million rows are stored
      // up to a row group away from their place). Should DuckDB keep append order, this fails and
      // the merge could become a plain ordered read.
      const stored = await run.session.one<{ breaks: number }>(
        `SELECT CAST(count(*) FILTER (WHERE k < before) AS DOUBLE) AS breaks FROM (
           SELECT k, lag(k) OVER (ORDER BY rowid) AS before
           FROM (SELECT rowid, rec::BIGINT * 1048576 + pos AS k FROM uid_rows))`,
      );
      expect(stored!.breaks).toBeGreaterThan(0);
      const results = await fromBothReplays(run, 100, 0);
      expect(results[0].events).toBeGreaterThan(10_000);
      expect(results[0].uids).toEqual(results[1].uids);
      expect(Array.from(results[0].values)).toEqual(Array.from(results[1].values));
    } finally {
      run.close();
    }
  }, 60_000);
});

describe('NearlySortedMerge', () => {
  /** Rows 0..n−1 (rec = i >> 2, pos = i & 3) in stored order: now and then a block of up to 2047 rows stored up to `shift` rows later. */
  function displaced(n: number, shift: number, seed: number): number[] {
    const random = mulberry32(seed);
    const order: number[] = [];
    const range = (from: number, to: number) => {
      for (let i = from; i < to; i++) order.push(i);
    };
    for (let i = 0; i < n;) {
      if (random() < 0.0005 && i + 2048 + shift < n) {
        const length = 1 + Math.floor(random() * 2047);
        const later = Math.floor(random() * shift);
        range(i + length, i + length + later);
        range(i, i + length);
        i += length + later;
      } else order.push(i++);
    }
    return order;
  }

  function feed(order: number[], slack: number, chunk: number) {
    const out: number[] = [];
    let maxHeld = 0;
    let added = 0;
    const merge = new NearlySortedMerge(slack, (rec, uid, value, x) => {
      expect([uid, x]).toEqual([value * 2, value + 0.5]);
      out.push(value);
    });
    for (let at = 0; at < order.length; at += chunk) {
      const rows = order.slice(at, at + chunk);
      const ok = merge.add(
        rows.map((i) => i >> 2),
        rows.map((i) => i & 3),
        rows.map((i) => i * 2),
        rows,
        rows.map((i) => i + 0.5),
      );
      if (!ok) return { ok, out, maxHeld };
      added += rows.length;
      maxHeld = Math.max(maxHeld, added - out.length);
    }
    merge.finish();
    return { ok: true, out, maxHeld };
  }

  it('restores order when no row is stored more than the slack after its place, holding at most that many', () => {
    for (const seed of [1, 2, 3]) {
      const order = displaced(200_000, 30_000, seed);
      expect(order.some((v, i) => i > 0 && v < order[i - 1])).toBe(true);
      for (const chunk of [2048, 777]) {
        const { ok, out, maxHeld } = feed(order, 40_000, chunk);
        expect(ok).toBe(true);
        expect(out).toEqual(Array.from({ length: order.length }, (_, i) => i));
        expect(maxHeld).toBeLessThanOrEqual(40_000 + chunk);
      }
    }
  });

  it('says so when a row comes further than the slack from its place', () => {
    const order = displaced(200_000, 30_000, 4);
    expect(feed(order, 1_000, 2048).ok).toBe(false);
    const late = [...Array.from({ length: 5000 }, (_, i) => i + 1), 0];
    expect(feed(late, 4_000, 100).ok).toBe(false);
    expect(feed(late, 5_000, 100).ok).toBe(true);
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

  it('hand back cached blocks between steps and answer the same afterwards', async () => {
    const run = await Run.open(path.join(FORMATS, 'filetao/events.json'), { onDiskAboveBytes: 0 });
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

  it('scan under a low limit when asked, so the scanned blocks do not stay cached', async () => {
    const run = await Run.open(path.join(FORMATS, 'filetao/events.json'), { onDiskAboveBytes: 0 });
    try {
      const { used, limit } = memoryProbes(run);
      const limitBefore = await limit();
      await run.session.run('CREATE TABLE ballast AS SELECT range AS i, random() AS r FROM range(2000000)');
      await run.session.run('CHECKPOINT');
      await run.session.releaseMemory();
      const sum = 'SELECT CAST(count(*) AS DOUBLE) AS n, min(r) AS lo, max(r) AS hi FROM ballast';
      const low = await run.session.allWithLowMemory(sum, '8MB');
      expect(await used()).toBeLessThanOrEqual(8 * 1024 * 1024);
      expect(await limit()).toBe(limitBefore);
      // The same answer as a plain scan, which keeps what it read (16 MB of random doubles).
      expect(await run.session.all(sum)).toEqual(low);
      expect(await used()).toBeGreaterThan(8 * 1024 * 1024);
      // The session's limit comes back when the query fails too.
      await expect(run.session.allWithLowMemory('SELECT * FROM no_such_table', '8MB')).rejects.toThrow();
      expect(await limit()).toBe(limitBefore);
    } finally {
      run.close();
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
