import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeRun } from '../src/analysis/analyses.js';
import type { AnalysisResult } from '../src/analysis/analysis-result.js';
import { formatCsv, formatTable } from '../src/analysis/result-format.js';
import { main } from '../src/cli/main.js';
import { Run } from '../src/engine/run.js';
import { renderSvg } from '../src/render/svg.js';
import { simulate } from '../src/simulate/index.js';
import {
  compareText,
  groupBy,
  isFiniteNumber,
  mean,
  readEvents,
  uidRowsOf,
  type RefEvent,
  type RefUidRow,
} from './fixtures/analysis-brute-force.js';
import { FORMATS, tempDir } from './helpers/temp.js';

const dir = tempDir('runlens-analyze-');
let ov: Run;
let ft: Run;
let ovEvents: RefEvent[];
let ovRows: RefUidRow[];
let ftEvents: RefEvent[];
let ftRows: RefUidRow[];
const ovFile = path.join(dir, 'ov', 'history.jsonl');
const ftFile = path.join(dir, 'ft', 'events.json');

beforeAll(async () => {
  await simulate('openvalidators', {
    out: path.join(dir, 'ov'),
    size: '300KB',
    neurons: 40,
    sampleSize: 12,
    weightsEvery: 6,
    files: 'history',
    seed: 7,
  });
  await simulate('filetao', { out: path.join(dir, 'ft'), size: '700KB', uids: 32, seed: 3 });
  ov = await Run.open(ovFile);
  ft = await Run.open(ftFile);
  ovEvents = readEvents([ovFile]);
  ovRows = uidRowsOf(ovEvents);
  ftEvents = readEvents([ftFile]);
  ftRows = uidRowsOf(ftEvents);
});

afterAll(() => {
  ov?.close();
  ft?.close();
});

const reward = (r: RefUidRow) => r.values.rewards;
const completion = (r: RefUidRow) => r.values.completions as string | undefined;
const block = (e: RefEvent) => e.event.block as number;

function expectRows(actual: AnalysisResult['rows'], expected: Record<string, unknown>[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((row, i) => {
    for (const [key, value] of Object.entries(row)) {
      if (typeof value === 'number') expect(actual[i][key], `${key} of row ${i}`).toBeCloseTo(value, 9);
      else expect(actual[i][key], `${key} of row ${i}`).toEqual(value);
    }
  });
}

describe('fixtures', () => {
  it('hold what the analyses need', () => {
    expect(ovEvents.length).toBeGreaterThan(30);
    expect(ov.ingest.rows).toBe(ovEvents.length);
    expect(ov.ingest.uidRows).toBe(ovRows.length);
    expect(ov.x.column).toBe('block');
    expect(ovEvents.filter((e) => Array.isArray(e.event.neuron_weights)).length).toBeGreaterThanOrEqual(3);
    expect(ftEvents.filter((e) => Array.isArray(e.event.set_weights)).length).toBeGreaterThanOrEqual(2);
    expect(ovRows.some((r) => completion(r) === '')).toBe(true);
  });
});

describe('throughput', () => {
  it('counts events per 10 minutes of _timestamp, empty intervals included', async () => {
    const result = await analyzeRun(ov, 'throughput', { interval: '2m' });
    const bucket = (e: RefEvent) => Math.floor((e.event._timestamp as number) / 120);
    const counts = groupBy(ovEvents, bucket);
    const uidCounts = groupBy(ovRows, (r) => bucket(r.ev));
    const lo = Math.min(...counts.keys());
    const hi = Math.max(...counts.keys());
    const expected = [];
    for (let b = lo; b <= hi; b++)
      expected.push({
        start: new Date(b * 120_000).toISOString().replace('T', ' ').replace('.000Z', 'Z'),
        events: counts.get(b)?.length ?? 0,
        uid_rows: uidCounts.get(b)?.length ?? 0,
      });
    expectRows(result.rows, expected);
    expect(result.rows.reduce((s, r) => s + (r.events as number), 0)).toBe(ovEvents.length);
  });

  it('counts events per 20 blocks (x units) on FileTAO', async () => {
    const result = await analyzeRun(ft, 'throughput', { interval: '20' });
    const counts = groupBy(ftEvents, (e) => Math.floor(block(e) / 20));
    const lo = Math.min(...counts.keys());
    const hi = Math.max(...counts.keys());
    const expected = [];
    for (let b = lo; b <= hi; b++)
      expected.push({ start: b * 20, end: (b + 1) * 20, events: counts.get(b)?.length ?? 0 });
    expectRows(result.rows, expected);
  });

  it('refuses a duration on a log without _timestamp', async () => {
    await expect(analyzeRun(ft, 'throughput', { interval: '10m' })).rejects.toThrow(/no _timestamp/);
  });
});

describe('leaderboard', () => {
  function byKey(rows: RefUidRow[], key: (r: RefUidRow) => string | number, metric = 'rewards') {
    return [...groupBy(rows, key)].map(([k, group]) => {
      const values = group.map((r) => r.values[metric]).filter(isFiniteNumber);
      return {
        key: k,
        calls: group.length,
        uids: new Set(group.map((r) => r.uid)).size,
        n: values.length,
        mean: mean(values),
        max: values.length ? Math.max(...values) : null,
      };
    });
  }

  it('top 15 uids by mean reward', async () => {
    const result = await analyzeRun(ov, 'leaderboard', { top: 15 });
    const all = byKey(ovRows, (r) => r.uid);
    const expected = all
      .sort((a, b) => (b.mean ?? -Infinity) - (a.mean ?? -Infinity) || (a.key as number) - (b.key as number))
      .slice(0, 15)
      .map(({ key, uids: _u, ...rest }) => ({ uid: key, ...rest }));
    expectRows(result.rows, expected);
    expect(result.total).toBe(all.length);
  });

  it('top completions by count of a chosen metric (max of completion_times)', async () => {
    const rows = ovRows.filter((r) => completion(r) !== '' && completion(r) !== undefined);
    const result = await analyzeRun(ov, 'leaderboard', {
      by: 'completion',
      sort: 'count',
      metric: 'completion_times',
      top: 8,
    });
    const expected = byKey(rows, (r) => completion(r)!, 'completion_times')
      .sort((a, b) => b.calls - a.calls || compareText(a.key as string, b.key as string))
      .slice(0, 8)
      .map(({ key, ...rest }) => ({ completion: key, ...rest }));
    expectRows(result.rows, expected);
  });

  it('names the numeric per-uid fields when the metric is unknown', async () => {
    await expect(analyzeRun(ov, 'leaderboard', { metric: 'reward' })).rejects.toMatchObject({
      message: expect.stringContaining('unknown metric "reward"'),
      hint: expect.stringContaining('rewards'),
    });
  });
});

describe('calls', () => {
  it('SetWeights uids index the weight vector and are not calls: leaderboard, success and throughput agree', async () => {
    const setWeights = ftEvents.filter((e) => e.event.task_name === 'SetWeights');
    expect(setWeights.length).toBeGreaterThan(0);
    expect(setWeights.every((e) => (e.event.uids as number[]).length > 1)).toBe(true);
    // A call is a uid of an event that queried it: count them straight from the records.
    const calls = new Map<number, number>();
    for (const e of ftEvents)
      if (e.event.task_name !== 'SetWeights' && Array.isArray(e.event.uids))
        for (const uid of e.event.uids as number[]) calls.set(uid, (calls.get(uid) ?? 0) + 1);
    const expected = [...calls].sort((a, b) => a[0] - b[0]);
    const board = await analyzeRun(ft, 'leaderboard', { sort: 'count', top: 0 });
    expect(board.rows.map((r) => [r.uid, r.calls]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(
      expected,
    );
    const success = await analyzeRun(ft, 'success', {});
    expect(success.rows.map((r) => [r.uid, r.calls])).toEqual(expected);
    const throughput = await analyzeRun(ft, 'throughput', { interval: '1000000000' });
    const total = expected.reduce((sum, [, n]) => sum + n, 0);
    expect(throughput.rows.reduce((sum, r) => sum + Number(r.uid_rows), 0)).toBe(total);
  });
});

describe('success', () => {
  it('OpenValidators: non-empty completion', async () => {
    const result = await analyzeRun(ov, 'success', {});
    const expected = [...groupBy(ovRows, (r) => r.uid)]
      .sort((a, b) => a[0] - b[0])
      .map(([uid, group]) => {
        const ok = group.filter((r) => completion(r) !== '').length;
        return { uid, calls: group.length, successes: ok, rate: ok / group.length };
      });
    expectRows(result.rows, expected);
    expect(result.notes[0]).toContain(`non-empty completion (${ovRows.length} calls)`);
  });

  it('FileTAO: the successful flag (SetWeights rows have none and are left out)', async () => {
    const result = await analyzeRun(ft, 'success', {});
    const flagged = ftRows.filter((r) => typeof r.values.successful === 'boolean');
    const expected = [...groupBy(flagged, (r) => r.uid)]
      .sort((a, b) => a[0] - b[0])
      .map(([uid, group]) => {
        const ok = group.filter((r) => r.values.successful === true).length;
        return { uid, calls: group.length, successes: ok, rate: ok / group.length };
      });
    expectRows(result.rows, expected);
    expect(result.notes[0]).toMatch(/^success decided by: successful flag \(/);
  });
});

describe('diversity', () => {
  it('unique ÷ total non-empty completions per uid', async () => {
    const result = await analyzeRun(ov, 'diversity', {});
    const expected = [
      ...groupBy(
        ovRows.filter((r) => completion(r)),
        (r) => r.uid,
      ),
    ]
      .sort((a, b) => a[0] - b[0])
      .map(([uid, group]) => {
        const unique = new Set(group.map(completion)).size;
        return { uid, completions: group.length, unique, diversity: unique / group.length };
      });
    expectRows(result.rows, expected);
    expect(expected.some((r) => r.diversity < 0.5)).toBe(true);
  });

  it('says FileTAO has no completions', async () => {
    await expect(analyzeRun(ft, 'diversity', {})).rejects.toThrow(/needs the per-uid field "completions"/);
  });
});

describe('completion-rates', () => {
  const nonEmpty = () => ovRows.filter((r) => completion(r));
  const bucketOf = (r: RefUidRow) => Math.floor(block(r.ev) / 5);

  function expected(series: { label: string; test: (c: string) => boolean }[]) {
    const rows = nonEmpty();
    const buckets = groupBy(rows, bucketOf);
    const lo = Math.min(...buckets.keys());
    const hi = Math.max(...buckets.keys());
    const out = [];
    for (let b = lo; b <= hi; b++) {
      const inBucket = buckets.get(b) ?? [];
      for (const s of series) {
        const hits = inBucket.filter((r) => s.test(completion(r)!));
        const rewards = hits.map(reward).filter(isFiniteNumber);
        out.push({
          start: b * 5,
          completion: s.label,
          count: hits.length,
          share: inBucket.length ? hits.length / inBucket.length : null,
          mean_reward: mean(rewards),
        });
      }
    }
    return out;
  }

  it('top 4 completions per 5 blocks with their mean reward', async () => {
    const result = await analyzeRun(ov, 'completion-rates', { interval: '5', top: 4 });
    const top = [...groupBy(nonEmpty(), (r) => completion(r)!)]
      .sort((a, b) => b[1].length - a[1].length || compareText(a[0], b[0]))
      .slice(0, 4)
      .map(([text]) => ({ label: text, test: (c: string) => c === text }));
    expectRows(result.rows, expected(top));
  });

  it('--top 0 follows every distinct completion', async () => {
    const result = await analyzeRun(ov, 'completion-rates', { interval: '5', top: 0 });
    const all = [...groupBy(nonEmpty(), (r) => completion(r)!)]
      .sort((a, b) => b[1].length - a[1].length || compareText(a[0], b[0]))
      .map(([text]) => ({ label: text, test: (c: string) => c === text }));
    expect(all.length).toBeGreaterThan(10);
    expectRows(result.rows, expected(all));
    expect(result.notes[0]).toContain(`all ${all.length} distinct`);
  });

  it('--match follows every completion matching a regex as one series', async () => {
    const result = await analyzeRun(ov, 'completion-rates', {
      interval: '5',
      match: '(?i)^(i cannot|sorry)',
    });
    expectRows(
      result.rows,
      expected([{ label: '/(?i)^(i cannot|sorry)/', test: (c) => /^(i cannot|sorry)/i.test(c) }]),
    );
    expect(result.rows.some((r) => (r.count as number) > 0)).toBe(true);
  });

  it('a bad regex is a clear error', async () => {
    await expect(analyzeRun(ov, 'completion-rates', { match: '(' })).rejects.toThrow(
      /not a valid regular expression/,
    );
  });
});

describe('weights', () => {
  function expected(events: RefEvent[], kind: string, top: number) {
    const vectors = events.filter((e) => Array.isArray(e.event[kind]));
    const sums = new Map<number, number[]>();
    for (const e of vectors)
      (e.event[kind] as unknown[]).forEach((w, uid) => {
        if (isFiniteNumber(w)) sums.set(uid, [...(sums.get(uid) ?? []), w]);
      });
    const uids = [...sums]
      .sort((a, b) => mean(b[1])! - mean(a[1])! || a[0] - b[0])
      .slice(0, top)
      .map(([uid]) => uid);
    const rows = vectors.map((e) => ({
      x: block(e),
      ...Object.fromEntries(uids.map((u) => [`uid_${u}`, (e.event[kind] as number[])[u]])),
    }));
    return { uids, rows };
  }

  it('OpenValidators neuron_weights: top 5 uids by mean weight, one row per vector', async () => {
    const result = await analyzeRun(ov, 'weights', { top: 5 });
    const { uids, rows } = expected(ovEvents, 'neuron_weights', 5);
    expect(result.columns.map((c) => c.name)).toEqual(['x', ...uids.map((u) => `uid_${u}`)]);
    expectRows(result.rows, rows);
  });

  it('--top 0 keeps every uid', async () => {
    const result = await analyzeRun(ov, 'weights', { top: 0 });
    const { uids, rows } = expected(ovEvents, 'neuron_weights', Infinity);
    expect(uids.length).toBeGreaterThan(10);
    expect(result.columns.map((c) => c.name)).toEqual(['x', ...uids.map((u) => `uid_${u}`)]);
    expectRows(result.rows, rows);
  });

  it('FileTAO set_weights', async () => {
    const result = await analyzeRun(ft, 'weights', { top: 3 });
    const { uids, rows } = expected(ftEvents, 'set_weights', 3);
    expect(result.columns.map((c) => c.name)).toEqual(['x', ...uids.map((u) => `uid_${u}`)]);
    expectRows(result.rows, rows);
  });
});

describe('similarity', () => {
  it('links uids sharing any of the 10 most frequent completions', async () => {
    const result = await analyzeRun(ov, 'similarity', { completions: 10, top: 0 });
    const rows = ovRows.filter((r) => completion(r));
    const frequent = new Set(
      [...groupBy(rows, (r) => completion(r)!)]
        .sort((a, b) => b[1].length - a[1].length || compareText(a[0], b[0]))
        .slice(0, 10)
        .map(([text]) => text),
    );
    const sent = new Map<number, Set<string>>();
    for (const r of rows)
      if (frequent.has(completion(r)!)) sent.set(r.uid, (sent.get(r.uid) ?? new Set()).add(completion(r)!));
    const uids = [...sent.keys()].sort((a, b) => a - b);
    const edges = [];
    for (let i = 0; i < uids.length; i++)
      for (let j = i + 1; j < uids.length; j++) {
        const shared = [...sent.get(uids[i])!].filter((t) => sent.get(uids[j])!.has(t)).length;
        if (shared) edges.push({ uid_a: uids[i], uid_b: uids[j], shared });
      }
    edges.sort((a, b) => b.shared - a.shared || a.uid_a - b.uid_a || a.uid_b - b.uid_b);
    expect(edges.length).toBeGreaterThan(5);
    expectRows(result.rows, edges);
    expect(result.total).toBe(edges.length);
  });
});

describe('filters', () => {
  it('--task and --x-range narrow the rows every analysis sees', async () => {
    const blocks = ovEvents.map(block);
    const mid = blocks[Math.floor(blocks.length / 2)];
    const result = await analyzeRun(ov, 'success', { task: ['augment', 'answer0'], xRange: { min: mid } });
    const kept = ovRows.filter(
      (r) => ['augment', 'answer0'].includes(r.ev.event.name as string) && block(r.ev) >= mid,
    );
    expect(result.rows.reduce((s, r) => s + (r.calls as number), 0)).toBe(kept.length);
    expect(kept.length).toBeLessThan(ovRows.length);
  });

  it('an unknown task lists the tasks there are', async () => {
    await expect(analyzeRun(ft, 'success', { task: ['store'] })).rejects.toMatchObject({
      hint: expect.stringContaining('Store'),
    });
  });
});

describe('output', () => {
  it('table aligns columns and truncates long text; CSV quotes', async () => {
    const result = await analyzeRun(ov, 'leaderboard', { by: 'completion', top: 3 });
    const table = formatTable(result, { maxText: 20 }).split('\n');
    const header = table.findIndex((l) => l.startsWith('completion'));
    const widths = new Set(table.slice(header, header + 4).map((l) => l.length));
    expect(widths.size).toBe(1);
    expect(table[header + 1]).toMatch(/…/);
    expect(
      formatCsv({
        ...result,
        rows: [{ completion: 'a, "b"', calls: 1, uids: 1, n: 1, mean: 0.5, max: 0.5 }],
      }),
    ).toContain('"a, ""b""",1,1,1,0.5,0.5');
  });

  it('runlens analyze --json and --plot (svg) in-process', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    const plot = path.join(dir, 'plots', 'success.svg');
    try {
      const code = await main([
        'node',
        'runlens',
        'analyze',
        ftFile,
        '--kind',
        'success',
        '--json',
        '--plot',
        plot,
      ]);
      expect(code).toBe(0);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const json = JSON.parse(out.join('')) as { kind: string; rows: { uid: number }[]; profile: string };
    expect(json).toMatchObject({ kind: 'success', profile: 'filetao' });
    expect(json.rows.length).toBe(
      new Set(ftRows.filter((r) => 'successful' in r.values).map((r) => r.uid)).size,
    );
    expect(fs.readFileSync(plot, 'utf8')).toMatch(/^<svg/);
    expect(err.join('')).toContain('wrote');
  });

  it('the leaderboard chart keeps each uid label beside its bar, the first and last too', async () => {
    const run = await Run.open(path.join(FORMATS, 'openvalidators/history.jsonl'));
    try {
      const result = await analyzeRun(run, 'leaderboard', { top: 6 });
      const svg = await renderSvg(result.chart!);
      // The band axis: its ticks (horizontal lines) and labels ("uid N"), top to bottom.
      const ys = (re: RegExp) => [...svg.matchAll(re)].map((m) => Number(m[1]));
      const ticks = ys(/<line transform="translate\(0,([\d.]+)\)" x2="-5"/g);
      const labels = ys(/transform="translate\(-?[\d.]+,([\d.]+)\)"[^>]*>uid \d+<\/text>/g);
      expect(labels.length).toBe(6);
      expect(ticks.length).toBe(6);
      // The same offset for every label, up to the ticks' rounding to half pixels (flushed, the
      // first label sat 5 px lower than the others).
      const offsets = labels.map((y, i) => y - ticks[i]);
      expect(Math.max(...offsets) - Math.min(...offsets)).toBeLessThan(1);
    } finally {
      run.close();
    }
  });

  it('every kind renders a chart on the shared OpenValidators sample', async () => {
    const run = await Run.open(path.join(FORMATS, 'openvalidators/history.jsonl'));
    try {
      for (const kind of [
        'throughput',
        'leaderboard',
        'success',
        'diversity',
        'completion-rates',
        'weights',
        'similarity',
      ]) {
        const result = await analyzeRun(run, kind, {});
        expect(result.rows.length, kind).toBeGreaterThan(0);
        expect(result.chart, kind).toBeDefined();
      }
    } finally {
      run.close();
    }
  });
});
