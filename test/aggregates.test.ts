import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binnedStats, taskFilter, type BinnedSeries, type BinnedStats } from '../src/engine/binned-stats.js';
import { binIndex, binSpec, type BinSpec } from '../src/engine/bins.js';
import { blockDurations } from '../src/engine/block-durations.js';
import { positionCounts } from '../src/engine/positions.js';
import { reservoirSample } from '../src/engine/reservoir.js';
import { Run } from '../src/engine/run.js';
import { sampleHash } from '../src/engine/sample-hash.js';
import { ident, sql } from '../src/engine/sql.js';
import { uidIndexedMatrix, weightsMatrix } from '../src/engine/uid-indexed-matrix.js';
import { uidPerformance } from '../src/engine/uid-performance.js';
import { simulate } from '../src/simulate/index.js';
import {
  compareText,
  exactMean,
  fieldOf,
  groupBy,
  isFiniteNumber,
  numberOf,
  quantile,
  readEvents,
  uidRowsOf,
  type RefEvent,
  type RefUidRow,
} from './fixtures/analysis-brute-force.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/**
 * Every aggregate against a brute-force computation over the raw records, read here without the
 * engine (fixtures/analysis-brute-force.ts): the real-format samples and simulated runs of several
 * seeds and sizes.
 */

/** Old flat RL names of the fields these tests read (SPEC: old flat x, y, map, hp, deaths). */
const FLAT_RL: Record<string, string> = {
  'position.x': 'x',
  'position.y': 'y',
  'position.map': 'map',
  'player_status.health': 'hp',
  'statistics.deaths': 'deaths',
};

interface Dataset {
  name: string;
  /** What Run.open is given. */
  input: () => Promise<string>;
  /** The run's files in their expected order (relative to the input when it is a directory). */
  files: (input: string) => string[];
  x: string | undefined;
  /** Numeric fields of the events to bin (default: every DOUBLE scalar). */
  fields?: string[];
}

interface Loaded {
  run: Run;
  events: RefEvent[];
  uidRows: RefUidRow[];
  /** The index's file_id of each file (by position in `files`). */
  fileIds: number[];
}

/** Files under a directory, recursively, as RL runs order them: by the number in the name, final last. */
function rlFiles(dir: string): string[] {
  const files = (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => /stats_.*\.json$/.test(f))
    .map((f) => path.join(dir, f));
  const key = (f: string) => [/final/.test(f) ? 1 : 0, Number(/(\d+)\.json$/.exec(f)![1])];
  return files.sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1]);
}

const scratch = tempDir('runlens-aggregates-');
const simulated = (profile: string, options: Record<string, unknown>) => async () => {
  const out = path.join(scratch, `${profile}-${JSON.stringify(options).replace(/\W+/g, '_')}`);
  if (!fs.existsSync(out)) await simulate(profile, { out, ...options } as Parameters<typeof simulate>[1]);
  return out;
};

const DATASETS: Dataset[] = [
  {
    name: 'FileTAO sample',
    input: async () => path.join(FORMATS, 'filetao/events.json'),
    files: (input) => [input],
    x: 'block',
  },
  {
    name: 'OpenValidators loguru sample (NaN tokens)',
    input: async () => path.join(FORMATS, 'openvalidators/completions.log'),
    files: (input) => [input],
    x: 'block',
  },
  {
    name: 'OpenValidators history sample',
    input: async () => path.join(FORMATS, 'openvalidators/history.jsonl'),
    files: (input) => [input],
    x: 'block',
  },
  {
    name: 'RL sample (old flat and new nested files)',
    input: async () => path.join(FORMATS, 'rl-experiments/v4/20250726_130714'),
    files: rlFiles,
    x: 'total_steps',
    fields: ['rewards.total', 'rewards.components.explore', 'position.x', 'player_status.health', 'step'],
  },
  {
    name: 'FileTAO simulated, seed 1, 24 uids',
    input: simulated('filetao', { size: '250KB', uids: 24, seed: 1 }),
    files: (input) => [path.join(input, 'events.json')],
    x: 'block',
  },
  {
    name: 'FileTAO simulated, seed 2, 96 uids',
    input: simulated('filetao', { size: '600KB', uids: 96, seed: 2 }),
    files: (input) => [path.join(input, 'events.json')],
    x: 'block',
  },
  {
    name: 'OpenValidators simulated history, seed 5',
    input: async () =>
      path.join(
        await simulated('openvalidators', {
          size: '300KB',
          neurons: 40,
          sampleSize: 12,
          weightsEvery: 5,
          files: 'history',
          seed: 5,
        })(),
        'history.jsonl',
      ),
    files: (input) => [input],
    x: 'block',
  },
  {
    name: 'RL simulated, seed 6, four files',
    input: simulated('rl', { size: '400KB', recordsPerFile: 150, flatFiles: 1, envs: 2, seed: 6 }),
    files: rlFiles,
    x: 'total_steps',
    fields: [
      'rewards.total',
      'rewards.components.explore',
      'position.x',
      'position.map',
      'statistics.deaths',
    ],
  },
];

const loaded = new Map<string, Promise<Loaded>>();
afterAll(async () => {
  for (const l of loaded.values()) (await l.catch(() => undefined))?.run.close();
});

function load(dataset: Dataset): Promise<Loaded> {
  let l = loaded.get(dataset.name);
  if (!l) {
    l = (async () => {
      const input = await dataset.input();
      const files = dataset.files(input);
      const run = await Run.open(input);
      expect(run.location.files.map((f) => f.path)).toEqual(files);
      const events = readEvents(files);
      const fileIds = files.map((f) => run.ingest.files.find((r) => r.path === f)!.fileId);
      return { run, events, uidRows: uidRowsOf(events), fileIds };
    })();
    loaded.set(dataset.name, l);
  }
  return l;
}

/** An event's field as the index holds it (old flat RL records renamed to the nested paths). */
function field(event: Record<string, unknown>, name: string): number | null {
  const flat = FLAT_RL[name];
  if (flat !== undefined && event.position === undefined && typeof event[flat] === 'number')
    return numberOf(event[flat]);
  return numberOf(fieldOf(event, name));
}

function xOf(run: Run, ev: RefEvent): number | null {
  if (run.x.column === undefined) return ev.ord;
  const x = field(ev.event, run.x.column);
  return x !== null && Number.isFinite(x) ? x : null;
}

function taskOf(run: Run, ev: RefEvent): string | null {
  if (run.taskColumn === undefined) return null;
  const task = fieldOf(ev.event, run.taskColumn);
  return task === undefined || task === null ? null : String(task);
}

/** One row of `events` or `uid_events` as the reference sees it. */
interface RefRow {
  x: number | null;
  ord: number;
  pos: number;
  fileId: number;
  line: number;
  uid: number | null;
  task: string | null;
  value: (column: string) => number | null;
}

function eventRows(l: Loaded): RefRow[] {
  return l.events.map((ev) => ({
    x: xOf(l.run, ev),
    ord: ev.ord,
    pos: 0,
    fileId: l.fileIds[ev.file],
    line: ev.line,
    uid: null,
    task: taskOf(l.run, ev),
    value: (column) => field(ev.event, column),
  }));
}

function uidEventRows(l: Loaded): RefRow[] {
  return l.uidRows.map((r) => ({
    x: xOf(l.run, r.ev),
    ord: r.ev.ord,
    pos: r.pos,
    fileId: l.fileIds[r.ev.file],
    line: r.ev.line,
    uid: r.uid,
    task: taskOf(l.run, r.ev),
    value: (column) => (column === 'uid' ? r.uid : numberOf(r.values[column])),
  }));
}

interface BinnedReference {
  spec: BinSpec;
  series: (Omit<BinnedSeries, 'mean' | 'xMean'> & { mean: number[]; xMean: number[]; scale: number })[];
}

/** binnedStats by brute force: every row of the table with a finite x, in row order. */
function binnedReference(
  table: readonly RefRow[],
  columns: readonly string[],
  options: { maxBins: number; band: [number, number]; groupBy?: 'task' | 'uid' },
): BinnedReference {
  const placed = table.filter((r) => r.x !== null).sort((a, b) => a.ord - b.ord || a.pos - b.pos);
  const xs = placed.map((r) => r.x!);
  const spec = xs.length
    ? binSpec(Math.min(...xs), Math.max(...xs), options.maxBins, xs.every(Number.isInteger))
    : binSpec(0, 0, options.maxBins, false);
  const series: BinnedReference['series'] = [];
  for (const column of columns) {
    const withValue = placed.filter((r) => r.value(column) !== null);
    const finiteValues = withValue.map((r) => r.value(column)!).filter(Number.isFinite);
    const grid = finiteValues.length
      ? 2 ** (Math.ceil(Math.log2(Math.max(...finiteValues.map(Math.abs)) || 1)) - 93)
      : 0;
    const groupOf = (r: RefRow) =>
      options.groupBy === 'uid' ? String(r.uid) : options.groupBy === 'task' ? r.task : null;
    const groups = [...groupBy(withValue, groupOf)].sort(([a], [b]) =>
      a === null ? -1 : b === null ? 1 : compareText(a, b),
    );
    for (const [group, rows] of groups) {
      const s = {
        column,
        group: group ?? undefined,
        scale: grid,
        bin: [] as number[],
        x0: [] as number[],
        x1: [] as number[],
        xMean: [] as number[],
        count: [] as number[],
        mean: [] as number[],
        min: [] as number[],
        max: [] as number[],
        lower: [] as number[],
        upper: [] as number[],
        last: [] as number[],
        nonFinite: [] as number[],
      };
      const bins = [...groupBy(rows, (r) => binIndex(r.x!, spec))].sort(([a], [b]) => a - b);
      for (const [bin, inBin] of bins) {
        const values = inBin.map((r) => r.value(column)!).filter(Number.isFinite);
        const sorted = [...values].sort((a, b) => a - b);
        s.bin.push(bin);
        s.x0.push(spec.x0 + bin * spec.width);
        s.x1.push(spec.x0 + (bin + 1) * spec.width);
        s.xMean.push(exactMean(inBin.map((r) => r.x!))!);
        s.count.push(values.length);
        s.mean.push(exactMean(values) ?? NaN);
        s.min.push(values.length ? sorted[0] : NaN);
        s.max.push(values.length ? sorted.at(-1)! : NaN);
        s.lower.push(values.length ? quantile(sorted, options.band[0]) : NaN);
        s.upper.push(values.length ? quantile(sorted, options.band[1]) : NaN);
        s.last.push(values.length ? values.at(-1)! : NaN);
        s.nonFinite.push(inBin.length - values.length);
      }
      series.push(s);
    }
  }
  return { spec, series };
}

/** Exact means are exact sums of values rounded to 2^-93 of the column's largest magnitude. */
function expectMeans(
  actual: readonly number[],
  expected: readonly number[],
  grid: number,
  what: string,
): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i];
    if (Number.isNaN(e)) expect(a, `${what} [${i}]`).toBeNaN();
    else
      expect(Math.abs(a - e), `${what} [${i}]: ${a} vs ${e}`).toBeLessThanOrEqual(
        2 ** -52 * Math.abs(e) + grid,
      );
  });
}

function expectBinned(actual: BinnedStats, expected: BinnedReference, what: string): void {
  expect(actual.quantiles).toBe('exact');
  expect(actual.spec, what).toEqual(expected.spec);
  expect(
    actual.series.map((s) => [s.column, s.group]),
    what,
  ).toEqual(expected.series.map((s) => [s.column, s.group]));
  actual.series.forEach((s, i) => {
    const e = expected.series[i];
    const label = `${what}: ${s.column} ${s.group ?? ''}`;
    const { mean, xMean, scale, ...exact } = e;
    const { mean: actualMean, xMean: actualXMean, ...actualExact } = s;
    expect(actualExact, label).toEqual(exact);
    expectMeans(actualMean, mean, scale, `${label} mean`);
    const xGrid =
      2 **
      (Math.ceil(
        Math.log2(
          Math.max(
            Math.abs(expected.spec.x0),
            Math.abs(expected.spec.x0 + expected.spec.width * expected.spec.count),
          ) || 1,
        ),
      ) -
        92);
    expectMeans(actualXMean, xMean, xGrid, `${label} x mean`);
  });
}

/** The DOUBLE columns of a table that these records have. */
function numericColumns(run: Run, table: 'rows' | 'uid_rows'): string[] {
  const types = table === 'rows' ? run.columns.scalars : run.columns.perUid;
  return [...types].filter(([, type]) => type === 'DOUBLE').map(([name]) => name);
}

describe.each(DATASETS)('$name', (dataset) => {
  let l: Loaded;
  beforeAll(async () => {
    l = await load(dataset);
    expect(l.run.x.column).toBe(dataset.x);
    expect(l.run.ingest.rows).toBe(l.events.length);
    expect(l.run.ingest.uidRows).toBe(l.uidRows.length);
  }, 60_000);

  it('binned statistics of the events: count, exact mean, min, max, exact band, last per bin', async () => {
    const columns = dataset.fields ?? numericColumns(l.run, 'rows');
    expect(columns.length).toBeGreaterThan(0);
    for (const column of columns) expect(l.run.columns.scalars.get(column), column).toBe('DOUBLE');
    for (const [maxBins, band] of [
      [7, [0.1, 0.9]],
      [300, [0.25, 0.75]],
    ] as const) {
      const actual = await binnedStats(l.run, { columns, maxBins, band: [...band] });
      expectBinned(
        actual,
        binnedReference(eventRows(l), columns, { maxBins, band: [...band] }),
        `events ${maxBins}`,
      );
    }
  });

  it('binned statistics of the per-uid values, alone and grouped by task and by uid', async () => {
    const columns = numericColumns(l.run, 'uid_rows');
    if (!l.uidRows.length) return expect(columns).toEqual([]);
    for (const groupBy of [undefined, 'task', 'uid'] as const) {
      const options = { maxBins: groupBy === 'uid' ? 5 : 40, band: [0.1, 0.9] as [number, number], groupBy };
      const actual = await binnedStats(l.run, { columns, table: 'uid_events', ...options });
      expectBinned(actual, binnedReference(uidEventRows(l), columns, options), `uid_events by ${groupBy}`);
    }
  });

  it('the reservoir sample is the N rows with the smallest JS reference hash, in row order', async () => {
    const tables: { table: 'events' | 'uid_events'; rows: RefRow[]; value: string }[] = [
      {
        table: 'events',
        rows: eventRows(l),
        value: (dataset.fields ?? numericColumns(l.run, 'rows'))[0],
      },
    ];
    if (l.uidRows.length) tables.push({ table: 'uid_events', rows: uidEventRows(l), value: 'rewards' });
    for (const { table, rows, value } of tables)
      for (const [seed, size] of [
        [0, 1],
        [7, 25],
        [123456, 400],
        [2 ** 32 + 5, 1e7],
      ]) {
        const v = ident(value);
        const sample = await reservoirSample(l.run, {
          table,
          seed,
          size,
          columns: ['x', value],
          where: sql`${v} IS NOT NULL AND isfinite(${v}) AND x IS NOT NULL`,
        });
        const eligible = rows.filter((r) => r.x !== null && isFiniteNumber(r.value(value)));
        const key = (r: RefRow) => sampleHash(seed >>> 0, r.fileId, r.line, r.pos);
        const chosen = eligible
          .map((r) => ({ r, k: key(r) }))
          .sort((a, b) => a.k - b.k || a.r.ord - b.r.ord || a.r.pos - b.r.pos)
          .slice(0, size)
          .map(({ r }) => r)
          .sort((a, b) => a.ord - b.ord || a.pos - b.pos);
        expect(sample.population).toBe(eligible.length);
        expect(sample.size).toBe(chosen.length);
        expect(sample.columns.x, `${table} seed ${seed}`).toEqual(chosen.map((r) => r.x));
        expect(sample.columns[value], `${table} seed ${seed}`).toEqual(chosen.map((r) => r.value(value)));
      }
  });

  it('position visits per (map, x, y)', async () => {
    const counts = await positionCounts(l.run);
    const expected = new Map<string, number>();
    for (const ev of l.events) {
      const [map, x, y] = ['position.map', 'position.x', 'position.y'].map((c) => field(ev.event, c));
      if (map === null || x === null || y === null) continue;
      const key = `${map},${x},${y}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    if (!expected.size) return expect(counts).toBeUndefined();
    const actual = new Map(
      counts!.map.map((m, i) => [`${m},${counts!.x[i]},${counts!.y[i]}`, counts!.visits[i]]),
    );
    expect(actual).toEqual(expected);
    expect(counts!.total).toBe([...expected.values()].reduce((a, b) => a + b, 0));
  });

  it('weights and other uid-indexed vectors: the last vector of each x bin, carried forward', async () => {
    const xs = l.events.map((ev) => xOf(l.run, ev)).filter((x): x is number => x !== null);
    const kinds = ['set_weights', 'neuron_weights', 'moving_averaged_scores'];
    const vectorsOf = (kind: string) =>
      l.events.filter(
        (ev) =>
          Array.isArray(ev.event[kind]) &&
          (ev.event[kind] as unknown[]).some((w) => typeof w === 'number') &&
          xOf(l.run, ev) !== null,
      );
    for (const kind of kinds) {
      for (const maxBins of [3, 400]) {
        const matrix = await uidIndexedMatrix(l.run, kind, maxBins);
        const spec = binSpec(Math.min(...xs), Math.max(...xs), maxBins, xs.every(Number.isInteger));
        const cells = new Map<number, Map<number, number>>();
        let vectors = 0;
        for (const ev of vectorsOf(kind)) {
          let any = false;
          (ev.event[kind] as unknown[]).forEach((w, uid) => {
            if (!isFiniteNumber(w)) return;
            any = true;
            const row = cells.get(uid) ?? new Map<number, number>();
            row.set(binIndex(xOf(l.run, ev)!, spec), w);
            cells.set(uid, row);
          });
          if (any) vectors++;
        }
        if (!cells.size) {
          expect(matrix, kind).toBeUndefined();
          continue;
        }
        const uids = [...cells.keys()].sort((a, b) => a - b);
        const values = uids.flatMap((uid) => {
          let last = NaN;
          return Array.from({ length: spec.count }, (_, b) => (last = cells.get(uid)!.get(b) ?? last));
        });
        expect(matrix!.uids).toEqual(uids);
        expect(matrix!.spec).toEqual(spec);
        expect(matrix!.vectors).toBe(vectors);
        expect(Array.from(matrix!.values)).toEqual(values);
      }
    }
    const weights = await weightsMatrix(l.run, 50);
    const counts = ['set_weights', 'neuron_weights']
      .map((kind) => ({ kind, n: vectorsOf(kind).length }))
      .filter((k) => k.n > 0)
      .sort((a, b) => b.n - a.n || compareText(a.kind, b.kind));
    expect(weights?.kind).toBe(counts[0]?.kind);
  });

  it('per-uid success rate and completion-time quantiles', async () => {
    const perf = await uidPerformance(l.run);
    const has = (c: string) => l.uidRows.some((r) => c in r.values);
    if (!has('successful') && !has('completion_times')) return expect(perf).toBeUndefined();
    const rows = [
      ...groupBy(
        l.uidRows.filter((r) => r.uid >= 0),
        (r) => r.uid,
      ),
    ].sort((a, b) => a[0] - b[0]);
    expect(perf!.uid).toEqual(rows.map(([uid]) => uid));
    expect(perf!.count).toEqual(rows.map(([, g]) => g.length));
    const flags = rows.map(([, g]) => g.map((r) => numberOf(r.values.successful)).filter((v) => v !== null));
    expect(perf!.successRate).toEqual(
      flags.map((f) => (f.length ? f.filter((v) => v !== 0).length / f.length : NaN)),
    );
    const times = rows.map(([, g]) =>
      g
        .map((r) => r.values.completion_times)
        .filter(isFiniteNumber)
        .sort((a, b) => a - b),
    );
    const at = (q: number) => times.map((t) => (t.length ? quantile(t, q) : NaN));
    expect(perf!.p10).toEqual(at(0.1));
    expect(perf!.p25).toEqual(at(0.25));
    expect(perf!.p50).toEqual(at(0.5));
    expect(perf!.p75).toEqual(at(0.75));
    expect(perf!.p90).toEqual(at(0.9));
  });

  it('block durations: seconds per block between runs of one block, binned over block', async () => {
    const series = await blockDurations(l.run, 20);
    const timed = l.events
      .map((ev) => ({ ord: ev.ord, b: numberOf(ev.event.block), t: numberOf(ev.event._timestamp) }))
      .filter((e): e is { ord: number; b: number; t: number } => isFiniteNumber(e.b) && isFiniteNumber(e.t));
    if (!l.events.some((ev) => 'block' in ev.event) || !l.events.some((ev) => '_timestamp' in ev.event))
      return expect(series).toBeUndefined();
    const starts = timed.filter((e, i) => i === 0 || timed[i - 1].b !== e.b);
    const durations = starts.flatMap((s, i) => {
      const next = starts[i + 1];
      return next && next.b > s.b && next.t > s.t
        ? [{ x: s.b, ord: s.ord, d: (next.t - s.t) / (next.b - s.b) }]
        : [];
    });
    const blocks = l.events.map((ev) => numberOf(ev.event.block)).filter(isFiniteNumber);
    const spec = binSpec(Math.min(...blocks), Math.max(...blocks), 20, blocks.every(Number.isInteger));
    const bins = [...groupBy(durations, (d) => binIndex(d.x, spec))].sort(([a], [b]) => a - b);
    expect(series!.bin).toEqual(bins.map(([b]) => b));
    expect(series!.count).toEqual(bins.map(([, g]) => g.length));
    const sorted = bins.map(([, g]) => g.map((d) => d.d).sort((a, b) => a - b));
    expect(series!.min).toEqual(sorted.map((s) => s[0]));
    expect(series!.max).toEqual(sorted.map((s) => s.at(-1)));
    expect(series!.lower).toEqual(sorted.map((s) => quantile(s, 0.1)));
    expect(series!.upper).toEqual(sorted.map((s) => quantile(s, 0.9)));
    expect(series!.last).toEqual(bins.map(([, g]) => g.at(-1)!.d));
    const grid = 2 ** (Math.ceil(Math.log2(Math.max(...durations.map((d) => Math.abs(d.d))))) - 92);
    expectMeans(
      series!.mean,
      bins.map(([, g]) => exactMean(g.map((d) => d.d))!),
      grid,
      'mean',
    );
  });
});

describe('binned statistics: options', () => {
  const dataset = DATASETS.find((d) => d.name.startsWith('FileTAO simulated, seed 1'))!;

  it('a filter (typed SQL) narrows the rows and the range the bins cut', async () => {
    const l = await load(dataset);
    const store = (r: RefRow) => r.task === 'Store';
    const actual = await binnedStats(l.run, {
      columns: ['rewards', 'completion_times'],
      table: 'uid_events',
      where: taskFilter('Store'),
      maxBins: 30,
    });
    expectBinned(
      actual,
      binnedReference(uidEventRows(l).filter(store), ['rewards', 'completion_times'], {
        maxBins: 30,
        band: [0.1, 0.9],
      }),
      'Store only',
    );
  });

  it('several columns in one call equal one call each (the report batches its metrics), with `between` run between them', async () => {
    const l = await load(dataset);
    let between = 0;
    const together = await binnedStats(l.run, {
      columns: ['rewards', 'completion_times'],
      table: 'uid_events',
      maxBins: 37,
      between: async () => {
        between++;
      },
    });
    expect(between).toBe(1);
    const apart = [
      ...(await binnedStats(l.run, { columns: ['rewards'], table: 'uid_events', maxBins: 37 })).series,
      ...(await binnedStats(l.run, { columns: ['completion_times'], table: 'uid_events', maxBins: 37 }))
        .series,
    ];
    expect(together.series.map((s) => s.column)).toEqual(['rewards', 'completion_times']);
    expect(together.series).toEqual(apart);
  });

  it('sampled quantiles: exact in bins that fit the sample, inside [min, max] in the others', async () => {
    const l = await load(DATASETS.find((d) => d.name.startsWith('FileTAO simulated, seed 2'))!);
    const options = { columns: ['rewards'], table: 'uid_events', maxBins: 3, groupBy: 'task' } as const;
    const exact = await binnedStats(l.run, options);
    const sampled = await binnedStats(l.run, { ...options, exactQuantileRows: 0 });
    expect(sampled.quantiles).toBe('approximate');
    let beyond = 0;
    sampled.series.forEach((s, k) => {
      const e = exact.series[k];
      const { lower: _l, upper: _u, ...rest } = s;
      const { lower: _el, upper: _eu, ...exactRest } = e;
      expect(rest).toEqual(exactRest);
      for (let i = 0; i < s.bin.length; i++) {
        if (s.count[i] <= sampled.quantileSample!) {
          expect(s.lower[i]).toBe(e.lower[i]);
          expect(s.upper[i]).toBe(e.upper[i]);
        } else beyond++;
        expect(s.lower[i]).toBeGreaterThanOrEqual(s.min[i]);
        expect(s.upper[i]).toBeLessThanOrEqual(s.max[i]);
      }
    });
    expect(beyond).toBeGreaterThan(0);
  });
});

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

describe('field names with quotes, dots and a clash with the views’ own columns', () => {
  const dir = tempDir();
  const lines: string[] = [];
  let seed = 3;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed / 2 ** 32);
  for (let i = 0; i < 300; i++)
    lines.push(
      `{"step": ${i}, "a\\"b": ${random() < 0.05 ? 'NaN' : random()}, "c.d": ${random() * 100}, ` +
        `"e": {"f": ${random()}}, "x": ${random() * 3}, "it's": ${i % 7}}`,
    );
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  let l: Loaded;
  beforeAll(async () => {
    l = await load({
      name: 'hostile names',
      input: async () => dir,
      files: (d) => [path.join(d, 'metrics.jsonl')],
      x: 'step',
    });
  });

  it('bin every field by its exact name', async () => {
    // The log's own "x" is kept beside the view's x under another name.
    const own = [...l.run.columns.scalars.keys()].find((k) => k !== 'x' && k.startsWith('x'))!;
    expect(own).toBeDefined();
    const columns = ['a"b', 'c.d', 'e.f', "it's", own];
    const actual = await binnedStats(l.run, { columns, maxBins: 9 });
    const rows = eventRows(l).map((r) => ({ ...r, value: (c: string) => r.value(c === own ? 'x' : c) }));
    expectBinned(actual, binnedReference(rows, columns, { maxBins: 9, band: [0.1, 0.9] }), 'hostile');
    const sample = await reservoirSample(l.run, { columns: ['a"b', "it's"], size: 20, seed: 9 });
    const chosen = rows
      .sort(
        (a, b) => sampleHash(9, a.fileId, a.line, 0) - sampleHash(9, b.fileId, b.line, 0) || a.ord - b.ord,
      )
      .slice(0, 20)
      .sort((a, b) => a.ord - b.ord);
    expect(sample.columns['a"b']).toEqual(chosen.map((r) => r.value('a"b')));
    expect(sample.columns["it's"]).toEqual(chosen.map((r) => r.value("it's")));
  });
});

describe('fields whose names differ only in case', () => {
  const dir = tempDir();
  const lines = Array.from(
    { length: 200 },
    (_, i) =>
      `{"step": ${i}, "Loss": ${i % 13}, "loss": ${-(i % 5)}, "uids": [${i % 4}, 9], "Rewards": [${i}, 1], "rewards": [0.5, ${i % 3}]}`,
  );
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');

  it('scalar fields are two columns, each binned from its own values', async () => {
    const l = await load({
      name: 'case',
      input: async () => dir,
      files: (d) => [path.join(d, 'metrics.jsonl')],
      x: 'step',
    });
    const names = [...l.run.columns.scalars.keys()].filter((k) => k.toLowerCase().startsWith('loss'));
    expect(names).toEqual(['Loss', 'loss~2']);
    const rows = eventRows(l).map((r) => ({
      ...r,
      value: (c: string) => r.value(c === 'loss~2' ? 'loss' : c),
    }));
    expectBinned(
      await binnedStats(l.run, { columns: names, maxBins: 10 }),
      binnedReference(rows, names, { maxBins: 10, band: [0.1, 0.9] }),
      'case',
    );
  });

  it('per-uid vectors are two columns too, each binned from its own values', async () => {
    const l = await load({
      name: 'case',
      input: async () => dir,
      files: (d) => [path.join(d, 'metrics.jsonl')],
      x: 'step',
    });
    const vectors = [...l.run.columns.perUid.keys()].filter((k) => k.toLowerCase().startsWith('rewards'));
    expect(vectors).toEqual(['Rewards', 'rewards~2']);
    const uidRows = uidEventRows(l).map((r) => ({
      ...r,
      value: (c: string) => r.value(c === 'rewards~2' ? 'rewards' : c),
    }));
    expectBinned(
      await binnedStats(l.run, { columns: vectors, table: 'uid_events', maxBins: 10, groupBy: 'uid' }),
      binnedReference(uidRows, vectors, { maxBins: 10, band: [0.1, 0.9], groupBy: 'uid' }),
      'case per uid',
    );
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
    for (const seed of [42, 43, 44]) {
      const size = 6000;
      const sample = await reservoirSample(run, { size, seed, columns: ['step'] });
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
      expect(chi2, `seed ${seed}`).toBeLessThan(58.3);
      // Each file gets its share: the 30-row file is not over-represented (a per-file quota would be).
      expect(steps.filter((s) => s < 30).length).toBeLessThan(30);
    }
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
