import fs from 'node:fs';
import { isMetricPath, rewardColumnsInOrder } from '../analysis/metric-paths.js';
import {
  BLOCK_DURATION_BINS,
  MAX_METRICS,
  SCORE_BINS,
  STEP_LENGTH_BINS,
  WEIGHT_BINS,
} from '../analysis/chart-constants.js';
import type { UidCloud, ValidatorData } from '../analysis/plot-validator.js';
import type { UidPerformance } from '../charts/uid-performance.js';
import { emptySeries, type BinnedSeries, type BinnedStats } from '../engine/binned-stats.js';
import { binSpec, type BinSpec } from '../engine/bins.js';
import { mergeFieldStats, type FieldStat } from '../engine/field-stats.js';
import { majorityProfile, OrderStat, X_CANDIDATES } from '../engine/ingest.js';
import { FIXED_COLUMNS, TASK_CANDIDATES } from '../engine/ingest-schema.js';
import type { ScoreMatrix } from '../engine/moving-average-scores.js';
import { profileOfFiles } from '../engine/run.js';
import { forwardFill, type WeightsMatrix } from '../engine/uid-indexed-matrix.js';
import { chooseXAxis, type XAxis } from '../engine/x-axis.js';
import { sampleSeed } from '../engine/sample-hash.js';
import { readHead } from '../formats/byte-source.js';
import type { RunLocation } from '../formats/discover.js';
import type { EventSink } from '../formats/event-sink.js';
import type { LogFile } from '../formats/log-file.js';
import { normalizeRecord } from '../formats/normalize.js';
import type { ReadProblem } from '../formats/problems.js';
import type { Profile } from '../formats/profile.js';
import { looksLikeJsonLines, readRecords } from '../formats/read-records.js';
import { EventWalker } from './event-walker.js';
import {
  BIN_SAMPLE,
  mergeBinAcc,
  newBinAcc,
  mergeSamples,
  sampleQuantiles,
  sampleRow,
  type BinAcc,
} from './bin-acc.js';
import { seededRandom } from './group-stats.js';
import { runJobsInOrder } from './pool.js';
import {
  addDuration,
  CLOUD_VALUES,
  compareKeys,
  NUMERIC_COLUMN,
  PERF_SAMPLE,
  type CloudCandidates,
  type ColumnKind,
  type ValidatorPartial,
  type ValidatorScanPlan,
  type ValidatorTask,
} from './validator-scan.js';

/** Byte ranges one large plain JSON lines file is cut into, so every core reads part of it. */
export const RANGE_BYTES = 48 << 20;
const PROBE_BYTES = 1 << 20;

export interface ValidatorScanOptions {
  x?: string;
  strict?: boolean;
  seed?: number;
  sampleSize?: number;
  alpha?: number;
  threads?: number;
  rangeBytes?: number;
  /** How much of the run's start (records) and end (bytes) predicts the ranges (tests shrink it). */
  probe?: { records: number; bytes: number };
  onProgress?: (bytesDone: number) => void;
  /** false: parse every line with JSON.parse instead of the byte-level EventWalker (tests compare both). */
  byteWalker?: boolean;
  /**
   * Only the facts `inspect` shows will be used (x range, fields, counts, problems): skip the checks
   * that only guard the charts' exactness, and the second pass a mispredicted bin range costs.
   */
  inspectOnly?: boolean;
}

/** Everything `plot` needs from a validator run, computed in one parallel pass. */
export interface ValidatorScanResult {
  x: XAxis;
  profile: Profile;
  records: number;
  files: number;
  xMin: number | null;
  xMax: number | null;
  rowsWithoutX: number;
  data: ValidatorData;
  metrics: BinnedStats;
  /** Metric columns before the MAX_METRICS cut (the chart's caption says "first N of M"). */
  metricTotal: number;
  problems: ReadProblem[];
  problemCount: number;
  fileReports: {
    name: string;
    records: number;
    problems: Partial<Record<ReadProblem['kind'], number>>;
    profile: Profile;
  }[];
  /** Passes over the input (2 when the probe mispredicted a range). */
  passes: number;
  /** The ingest's bookkeeping that `inspect` shows, as the full path would count it. */
  fields: FieldStat[];
  uids: number;
  uidRows: number;
  uidIndexedRows: number;
  typeConflicts: Map<string, number>;
}

interface Prediction {
  x: string;
  xRange: Range;
  blockRange: Range | undefined;
  taskColumn: string | undefined;
}

interface Range {
  min: number;
  max: number;
  integer: boolean;
}

/**
 * The validator charts (FileTAO, OpenValidators) from the projection scanner: every record is read
 * by the same readers and normaliser as the full path, on one worker per core (large JSON lines
 * files in byte ranges), into mergeable aggregates binned over ranges predicted from the run's
 * first and last records. A misprediction costs a second pass with the true ranges. Undefined when
 * this path cannot answer as the full (DuckDB) path would; the caller then runs that path, which
 * stays the reference (RUNLENS_ENGINE=duckdb forces it).
 */
export async function scanValidatorRun(
  location: RunLocation,
  options: ValidatorScanOptions = {},
): Promise<ValidatorScanResult | undefined> {
  if (process.env.RUNLENS_ENGINE === 'duckdb') return undefined;
  const files = location.files;
  if (!files.length || files.some((f) => f.container === 'csv')) return undefined;
  if (options.x === 'ordinal' || options.x === 'row') return undefined;
  let prediction = await predict(
    files,
    options.x,
    options.probe ?? { records: 2000, bytes: PROBE_BYTES },
    options.inspectOnly ?? false,
  );
  if (!prediction) return undefined;
  const tasks = splitTasks(files, options.rangeBytes ?? RANGE_BYTES);
  const lines = withLineNumbers(tasks);
  try {
    for (let pass = 1; pass <= 2; pass++) {
      const merged = await scanOnce(tasks, lines.ready, files, prediction, options);
      if (!merged) return undefined;
      const outcome = finish(merged, files, prediction, options, pass);
      if (outcome.kind === 'done') return outcome.result;
      if (outcome.kind === 'fallback') return undefined;
      prediction = outcome.prediction;
    }
    return undefined;
  } finally {
    lines.stop();
  }
}

/** x, ranges and the task column from the first and last records of the run. */
async function predict(
  files: readonly LogFile[],
  requestedX: string | undefined,
  limits: { records: number; bytes: number },
  anyProfile: boolean,
): Promise<Prediction | undefined> {
  const seen = new Map<string, number[]>();
  const votes: Record<Profile, number> = { filetao: 0, openvalidators: 0, rl: 0, generic: 0 };
  const texts = new Set<string>();
  const sink: EventSink = {
    beginEvent() {},
    number(path, value) {
      if (!Number.isFinite(value)) return;
      let list = seen.get(path);
      if (!list) seen.set(path, (list = []));
      list.push(value);
    },
    text(path) {
      texts.add(path);
    },
    uids() {},
    uidVector() {},
    uidIndexed() {},
    other(path, type) {
      if (type === 'null') texts.add(path);
    },
    endEvent() {},
  };
  const probe = async (file: LogFile, fromEnd: boolean): Promise<void> => {
    let start = 0;
    let line = 0;
    if (fromEnd && file.bytes > limits.bytes) {
      if (file.gzip) return; // no seeking into gzip: a mispredicted range costs a second pass
      // Start at the first line boundary of the last PROBE_BYTES (its line number does not matter).
      start = nextLineStart(file.path, file.bytes - limits.bytes);
      line = 1;
      if (start >= file.bytes || !isJsonLines(file)) return;
    }
    let read = 0;
    const walker = new EventWalker(sink, () => false);
    const records = readRecords(file, () => {}, {
      position: { offset: start, line },
      fastLine: (buffer, from, to, lineNumber) => {
        if (!fromEnd && read >= limits.records) return true;
        const profile = walker.walk(buffer, from, to, lineNumber);
        if (profile === undefined) return false;
        votes[profile]++;
        read++;
        return true;
      },
    });
    for await (const batch of records) {
      for (const record of batch) {
        if (!fromEnd && read >= limits.records) break;
        votes[normalizeRecord(record.value as Record<string, unknown>, record.line, sink)]++;
        read++;
      }
      if (!fromEnd && read >= limits.records) break;
    }
    await records.return(undefined);
  };
  await probe(files[0], false);
  await probe(files[files.length - 1], true);
  const profile = majorityProfile(votes);
  if (!anyProfile && profile !== 'filetao' && profile !== 'openvalidators') return undefined;
  const x = requestedX ?? X_CANDIDATES.find((c) => seen.has(c) && c !== 'step');
  if (x === undefined || !seen.has(x)) return undefined;
  const range = (values: number[] | undefined): Range | undefined =>
    values && values.length
      ? {
          min: values.reduce((a, b) => Math.min(a, b)),
          max: values.reduce((a, b) => Math.max(a, b)),
          integer: values.every(Number.isInteger),
        }
      : undefined;
  return {
    x,
    xRange: range(seen.get(x))!,
    blockRange: range(seen.get('block')),
    taskColumn: TASK_CANDIDATES.find((c) => texts.has(c) || seen.has(c)),
  };
}

function isJsonLines(file: LogFile): boolean {
  if (file.gzip) return false;
  const head = readHead(file.path, Math.min(file.bytes, 64 << 10));
  return head.length > 0 && looksLikeJsonLines(head);
}

/** The offset just after the first newline at or after `from` (the file size when none). */
function nextLineStart(path: string, from: number): number {
  const fd = fs.openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    let offset = from;
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, offset);
      if (n <= 0) return offset;
      const i = buffer.subarray(0, n).indexOf(10);
      if (i !== -1) return offset + i + 1;
      offset += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Whole files, and large plain JSON lines files cut at line boundaries into ~rangeBytes ranges.
 * A range after a file's first has `line` −1 here: `withLineNumbers` counts the lines before it
 * while the first ranges are already being scanned.
 */
export function splitTasks(files: readonly LogFile[], rangeBytes: number): ValidatorTask[] {
  const tasks: ValidatorTask[] = [];
  files.forEach((file, fileIndex) => {
    if (file.gzip || file.bytes <= rangeBytes * 1.5 || !isJsonLines(file)) {
      tasks.push({ file, fileIndex, index: tasks.length, start: 0, end: undefined, line: 0 });
      return;
    }
    let start = 0;
    while (start < file.bytes) {
      const end =
        file.bytes - start <= rangeBytes * 1.5 ? file.bytes : nextLineStart(file.path, start + rangeBytes);
      const last = end >= file.bytes;
      tasks.push({
        file,
        fileIndex,
        index: tasks.length,
        start,
        end: last ? undefined : end,
        line: start ? -1 : 0,
      });
      if (last) break;
      start = end;
    }
  });
  return tasks;
}

/**
 * The tasks with their `line` (lines before `start`), each as soon as it is known: the newlines of
 * a large file are counted range by range, in the background, so the workers start on the first
 * ranges at once (counting first took ~0.25 s a GB from the page cache, ~1 s a GB from disk, on
 * one thread before any scanning). `stop()` ends the count early (the scan is over). A task whose
 * count failed rejects; nothing is left unhandled when no one asks for it.
 */
export function withLineNumbers(tasks: readonly ValidatorTask[]): {
  ready: Promise<ValidatorTask>[];
  stop: () => void;
} {
  let stopped = false;
  const ready = tasks.map(() => {
    let settle!: { resolve: (task: ValidatorTask) => void; reject: (error: Error) => void };
    const promise = new Promise<ValidatorTask>((resolve, reject) => (settle = { resolve, reject }));
    promise.catch(() => {});
    return { promise, ...settle };
  });
  void (async () => {
    let i = 0;
    try {
      let line = 0;
      for (; i < tasks.length; i++) {
        const task = tasks[i];
        if (task.start === 0) line = 0;
        else if (stopped) throw new Error('line count stopped');
        ready[i].resolve(task.line >= 0 ? task : { ...task, line });
        if (i + 1 < tasks.length && tasks[i + 1].start > 0)
          line += await countLines(task.file.path, task.start, task.end ?? task.file.bytes, () => stopped);
      }
    } catch (error) {
      for (; i < tasks.length; i++) ready[i].reject(error as Error);
    }
  })();
  return {
    ready: ready.map((r) => r.promise),
    stop: () => {
      stopped = true;
    },
  };
}

/** Newlines in [start, end) of a file, read in 4 MB pieces off the main thread. */
async function countLines(path: string, start: number, end: number, stopped: () => boolean): Promise<number> {
  const handle = await fs.promises.open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(4 << 20);
    let lines = 0;
    for (let offset = start; offset < end && !stopped();) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - offset), offset);
      if (bytesRead <= 0) break;
      const view = buffer.subarray(0, bytesRead);
      for (let i = view.indexOf(10); i !== -1; i = view.indexOf(10, i + 1)) lines++;
      offset += bytesRead;
    }
    return lines;
  } finally {
    await handle.close();
  }
}

/** Plans made in this process (each pass of each scan gets its own number). */
let scans = 0;

function planFor(prediction: Prediction, options: ValidatorScanOptions): ValidatorScanPlan {
  const { xRange, blockRange } = prediction;
  const spec = (bins: number): BinSpec => binSpec(xRange.min, xRange.max, bins, xRange.integer);
  const xCandidates = X_CANDIDATES.includes(prediction.x)
    ? [...X_CANDIDATES]
    : [...X_CANDIDATES, prediction.x];
  return {
    x: prediction.x,
    xCandidates,
    taskColumn: prediction.taskColumn,
    scoreSpec: spec(SCORE_BINS),
    weightSpec: spec(WEIGHT_BINS),
    stepSpec: spec(STEP_LENGTH_BINS),
    metricSpec: spec(400),
    blockSpec: blockRange && binSpec(blockRange.min, blockRange.max, BLOCK_DURATION_BINS, blockRange.integer),
    seed: sampleSeed(options.seed ?? 0),
    sampleSize: options.sampleSize ?? 10_000,
    alpha: options.alpha ?? 0.05,
    maxMetricPaths: 512,
    maxSnapshots: 4096,
    byteWalker: options.byteWalker ?? process.env.RUNLENS_BYTE_WALKER !== '0',
    scan: ++scans,
    charts: !options.inspectOnly,
  };
}

/** The merged aggregates of one pass over every task. */
interface Merged {
  plan: ValidatorScanPlan;
  records: number;
  fileRecords: number[];
  fileProblems: Partial<Record<ReadProblem['kind'], number>>[];
  fileVotes: Record<Profile, number>[];
  problems: ReadProblem[];
  problemCount: number;
  fields: Map<string, FieldStat>;
  order: (OrderStat & { integral: boolean })[];
  rowsWithoutX: number;
  metrics: Map<string, BinAcc>;
  stepLength: BinAcc | undefined;
  blockDurations: BinAcc | undefined;
  clouds: Map<string, CloudCandidates>;
  scores: { state: Float64Array; seen: Uint8Array; snapshots: Map<number, Float64Array>; events: number };
  matrices: Map<
    string,
    { rows: number; eventsWithX: number; vectors: number; values: Float64Array; bins: number }
  >;
  perf: Map<number, { rows: number; okSum: number; okN: number; sample: Float64Array; seen: Float64Array }>;
  uids: Set<number>;
  uidRows: number;
  uidIndexedRows: number;
  /** Per table: the kind of each column's deciding value so far, and its type conflicts in order. */
  columns: Record<'rows' | 'uidRows', { kinds: Map<string, ColumnKind>; conflicts: Map<string, number> }>;
}

async function scanOnce(
  tasks: readonly ValidatorTask[],
  ready: readonly Promise<ValidatorTask>[],
  files: readonly LogFile[],
  prediction: Prediction,
  options: ValidatorScanOptions,
): Promise<Merged | undefined> {
  const plan = planFor(prediction, options);
  const random = seededRandom(0x2545f491);
  const merged: Merged = {
    plan,
    records: 0,
    fileRecords: files.map(() => 0),
    fileProblems: files.map(() => ({})),
    fileVotes: files.map(() => ({ filetao: 0, openvalidators: 0, rl: 0, generic: 0 })),
    problems: [],
    problemCount: 0,
    fields: new Map(),
    order: plan.xCandidates.map(() => Object.assign(new OrderStat(), { integral: true })),
    rowsWithoutX: 0,
    metrics: new Map(),
    stepLength: undefined,
    blockDurations: undefined,
    clouds: new Map(),
    scores: { state: new Float64Array(0), seen: new Uint8Array(0), snapshots: new Map(), events: 0 },
    matrices: new Map(),
    perf: new Map(),
    uids: new Set(),
    uidRows: 0,
    uidIndexedRows: 0,
    columns: {
      rows: {
        kinds: new Map(FIXED_COLUMNS.rows.map((c) => [c, NUMERIC_COLUMN])),
        conflicts: new Map(),
      },
      uidRows: {
        kinds: new Map(FIXED_COLUMNS.uidRows.map((c) => [c, NUMERIC_COLUMN])),
        conflicts: new Map(),
      },
    },
  };
  let failed = false;
  let lastFile = -1;
  let pending: { block: number; t: number; lastBlock: number } | undefined;
  let bytesDone = 0;
  await runJobsInOrder<ValidatorPartial>(
    ready.map(async (task) => ({ kind: 'validator', task: await task, plan })),
    (part, i) => {
      const task = tasks[i];
      bytesDone += (task.end ?? task.file.bytes) - task.start;
      options.onProgress?.(bytesDone);
      if (failed) return;
      if (part.unsupported !== undefined || part.overflow) {
        failed = true;
        return;
      }
      if (options.strict && Object.keys(part.problemCounts).some((k) => k !== 'truncated')) {
        failed = true; // the full path reports it with --strict semantics
        return;
      }
      const sameFile = part.fileIndex === lastFile;
      lastFile = part.fileIndex;
      mergePart(merged, part, files, sameFile, random);
      pending = mergeBlockEdges(merged, part, pending, random);
    },
    { threads: options.threads },
  );
  return failed ? undefined : merged;
}

function mergePart(
  m: Merged,
  part: ValidatorPartial,
  files: readonly LogFile[],
  sameFile: boolean,
  random: () => number,
): void {
  const file = files[part.fileIndex];
  m.records += part.records;
  m.fileRecords[part.fileIndex] += part.records;
  const fileProblems = m.fileProblems[part.fileIndex];
  for (const [kind, n] of Object.entries(part.problemCounts) as [ReadProblem['kind'], number][]) {
    fileProblems[kind] = (fileProblems[kind] ?? 0) + n;
    m.problemCount += n;
  }
  for (const p of part.problems) if (m.problems.length < 200) m.problems.push({ file: file.name, ...p });
  const votes = m.fileVotes[part.fileIndex];
  for (const [profile, n] of Object.entries(part.votes) as [Profile, number][]) votes[profile] += n;
  mergeFieldStats(m.fields, part.fields);
  if (!sameFile) for (const o of m.order) o.last = NaN;
  part.order.forEach((o, k) => {
    const into = m.order[k];
    if (o.present === 0) return;
    // Within one file, a value lower than the previous range's last is one more decrease.
    if (into.present > 0 && !Number.isNaN(into.last) && o.first < into.last) into.decreases++;
    into.present += o.present;
    into.decreases += o.decreases;
    into.min = Math.min(into.min, o.min);
    into.max = Math.max(into.max, o.max);
    into.last = o.last;
    into.integral &&= o.integral;
  });
  m.rowsWithoutX += part.rowsWithoutX;
  for (const [path, acc] of Object.entries(part.metrics)) {
    const into = m.metrics.get(path);
    if (into) mergeBinAcc(into, acc, random);
    else m.metrics.set(path, acc);
  }
  if (part.stepLength) {
    if (m.stepLength) mergeBinAcc(m.stepLength, part.stepLength, random);
    else m.stepLength = part.stepLength;
  }
  for (const value of CLOUD_VALUES) {
    const c = part.clouds[value];
    if (!c) continue;
    const into = m.clouds.get(value);
    m.clouds.set(value, into ? bottomK(concatCandidates(into, c), m.plan.sampleSize) : c);
  }
  if (part.scores) applyScores(m, part.scores);
  for (const [kind, chunk] of Object.entries(part.matrices)) {
    const bins = (kind === 'moving_averaged_scores' ? m.plan.scoreSpec : m.plan.weightSpec).count;
    let into = m.matrices.get(kind);
    if (!into)
      m.matrices.set(
        kind,
        (into = { rows: 0, eventsWithX: 0, vectors: 0, values: new Float64Array(0), bins }),
      );
    into.rows += chunk.rows;
    into.eventsWithX += chunk.eventsWithX;
    into.vectors += chunk.vectors;
    if (chunk.values.length > into.values.length) {
      const grown = new Float64Array(chunk.values.length).fill(NaN);
      grown.set(into.values);
      into.values = grown;
    }
    for (let i = 0; i < chunk.values.length; i++)
      if (!Number.isNaN(chunk.values[i])) into.values[i] = chunk.values[i];
  }
  const perf = part.perf;
  for (let i = 0; i < perf.uid.length; i++) {
    const uid = perf.uid[i];
    let into = m.perf.get(uid);
    if (!into)
      m.perf.set(
        uid,
        (into = {
          rows: 0,
          okSum: 0,
          okN: 0,
          sample: new Float64Array(PERF_SAMPLE),
          seen: new Float64Array(1),
        }),
      );
    into.rows += perf.rows[i];
    into.okSum += perf.okSum[i];
    into.okN += perf.okN[i];
    mergeSamples(
      into.sample,
      into.seen,
      perf.sample.subarray(i * PERF_SAMPLE, (i + 1) * PERF_SAMPLE),
      perf.seen.subarray(i, i + 1),
      PERF_SAMPLE,
      random,
    );
  }
  for (const uid of part.uids) m.uids.add(uid);
  m.uidRows += part.uidRows;
  m.uidIndexedRows += part.uidIndexedRows;
  for (const table of ['rows', 'uidRows'] as const) {
    // A column's type is its first deciding value's in file order; its misfits are conflicts when
    // that made it numeric (a task's misfits come after its own deciding value: text decides).
    const { kinds, conflicts } = m.columns[table];
    for (const [path, kind] of part.columns[table].kinds) if (!kinds.has(path)) kinds.set(path, kind);
    for (const [path, n] of part.columns[table].misfits)
      if (kinds.get(path) === NUMERIC_COLUMN) conflicts.set(path, (conflicts.get(path) ?? 0) + n);
  }
}

/**
 * Durations that span task boundaries: the previous tasks' last run start (`pending`) and this
 * task's first runs. Added before the task's own durations (row order, for each bin's last value).
 */
function mergeBlockEdges(
  m: Merged,
  part: ValidatorPartial,
  pending: { block: number; t: number; lastBlock: number } | undefined,
  random: () => number,
): { block: number; t: number; lastBlock: number } | undefined {
  const e = part.blockEdges;
  const spec = m.plan.blockSpec;
  if (spec) m.blockDurations ??= newBinAcc(spec.count);
  if (spec && m.blockDurations && !Number.isNaN(e.headBlock)) {
    const add = (b: number, t: number, nb: number, nt: number): void =>
      addDuration(m.blockDurations!, spec, b, t, nb, nt, random);
    const continues = pending !== undefined && e.headBlock === pending.lastBlock;
    if (pending && !continues) add(pending.block, pending.t, e.headBlock, e.headT);
    const first = continues ? pending! : { block: e.headBlock, t: e.headT };
    if (!Number.isNaN(e.secondBlock)) add(first.block, first.t, e.secondBlock, e.secondT);
    pending = Number.isNaN(e.secondBlock)
      ? { block: first.block, t: first.t, lastBlock: e.lastBlock }
      : { block: e.lastStartBlock, t: e.lastStartT, lastBlock: e.lastBlock };
  }
  if (part.blockDurations && m.blockDurations) mergeBinAcc(m.blockDurations, part.blockDurations, random);
  return pending;
}

function applyScores(m: Merged, chunk: NonNullable<ValidatorPartial['scores']>): void {
  const s = m.scores;
  if (chunk.endA.length > s.state.length) {
    const grown = new Float64Array(chunk.endA.length);
    grown.set(s.state);
    s.state = grown;
    const seen = new Uint8Array(chunk.endA.length);
    seen.set(s.seen);
    s.seen = seen;
  }
  const apply = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = s.state.slice();
    for (let u = 0; u < a.length; u++) out[u] = a[u] * s.state[u] + b[u];
    return out;
  };
  for (let k = 0; k < chunk.bins.length - 1; k++)
    s.snapshots.set(chunk.bins[k], apply(chunk.a[k], chunk.b[k]));
  // The last snapshot is the state at the task's end (its bin may stay open into the next task).
  const end = apply(chunk.endA, chunk.endB);
  s.snapshots.set(chunk.bins[chunk.bins.length - 1], end);
  s.state = end;
  for (let u = 0; u < chunk.seen.length; u++) if (chunk.seen[u]) s.seen[u] = 1;
  s.events += chunk.events;
}

function concatCandidates(a: CloudCandidates, b: CloudCandidates): CloudCandidates {
  const cat = (x: Float64Array, y: Float64Array): Float64Array => {
    const out = new Float64Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    population: a.population + b.population,
    hash: cat(a.hash, b.hash),
    file: cat(a.file, b.file),
    line: cat(a.line, b.line),
    pos: cat(a.pos, b.pos),
    x: cat(a.x, b.x),
    uid: cat(a.uid, b.uid),
    value: cat(a.value, b.value),
    task: [...a.task, ...b.task],
  };
}

/** The k smallest keys, in key order. */
function bottomK(c: CloudCandidates, k: number): CloudCandidates {
  const idx = Array.from(c.hash.keys()).sort((i, j) =>
    compareKeys(c.hash[i], c.file[i], c.line[i], c.pos[i], c.hash[j], c.file[j], c.line[j], c.pos[j]),
  );
  return pick(c, idx.slice(0, k));
}

function pick(c: CloudCandidates, idx: number[]): CloudCandidates {
  const take = (a: Float64Array): Float64Array => Float64Array.from(idx, (i) => a[i]);
  return {
    population: c.population,
    hash: take(c.hash),
    file: take(c.file),
    line: take(c.line),
    pos: take(c.pos),
    x: take(c.x),
    uid: take(c.uid),
    value: take(c.value),
    task: idx.map((i) => c.task[i]),
  };
}

type Outcome =
  | { kind: 'done'; result: ValidatorScanResult }
  | { kind: 'fallback' }
  | { kind: 'rerun'; prediction: Prediction };

function finish(
  m: Merged,
  files: readonly LogFile[],
  prediction: Prediction,
  options: ValidatorScanOptions,
  pass: number,
): Outcome {
  const fields = [...m.fields.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.role < b.role ? -1 : 1,
  );
  const scalar = new Map(fields.filter((f) => f.role === 'scalar').map((f) => [f.path, f]));
  const perUid = new Map(fields.filter((f) => f.role === 'per-uid').map((f) => [f.path, f]));
  const indexed = fields.filter((f) => f.role === 'uid-indexed');
  const fileReports = files.map((f, i) => ({
    name: f.name,
    records: m.fileRecords[i],
    problems: m.fileProblems[i],
    profile: majorityProfile(m.fileVotes[i]),
    rows: m.fileRecords[i],
  }));
  const profile = profileOfFiles(fileReports);
  const charts = !options.inspectOnly;
  if (charts && profile !== 'filetao' && profile !== 'openvalidators') return { kind: 'fallback' };
  // Charts this path does not draw (RL rewards, positions) or values it does not convert like the
  // full path's column types (text among numbers): the full path answers.
  if (
    charts &&
    (rewardColumnsInOrder(scalar.keys()).length || [...scalar.keys()].some((p) => p.startsWith('position.')))
  )
    return { kind: 'fallback' };
  const hasText = (f: FieldStat | undefined): boolean => (f?.types.string ?? 0) > 0;
  if (charts && ['rewards', 'completion_times', 'successful'].some((p) => hasText(perUid.get(p))))
    return { kind: 'fallback' };
  if (charts && indexed.some(hasText)) return { kind: 'fallback' };
  const taskField = TASK_CANDIDATES.find((c) => scalar.has(c));
  if (
    charts &&
    taskField &&
    Object.keys(scalar.get(taskField)!.types).some((t) => t !== 'string' && t !== 'null')
  )
    return { kind: 'fallback' };
  const orderMap = new Map(m.plan.xCandidates.map((c, k) => [c, m.order[k]] as const));
  const x = chooseXAxis(orderMap, m.records, options.x);
  if (x.column !== prediction.x) return { kind: 'fallback' };
  const xStat = orderMap.get(prediction.x)!;
  if (xStat.present === 0) return { kind: 'fallback' };
  const actual: Prediction = {
    x: prediction.x,
    xRange: { min: xStat.min, max: xStat.max, integer: xStat.integral },
    blockRange: orderMap.get('block')?.present
      ? {
          min: orderMap.get('block')!.min,
          max: orderMap.get('block')!.max,
          integer: orderMap.get('block')!.integral,
        }
      : undefined,
    taskColumn: taskField,
  };
  if (charts && !samePrediction(actual, prediction))
    return pass === 1 ? { kind: 'rerun', prediction: actual } : { kind: 'fallback' };
  const stored = (f: FieldStat | undefined): boolean =>
    f !== undefined && Object.entries(f.types).some(([t, n]) => t !== 'null' && (n ?? 0) > 0);
  // metricColumns(run, ['step_length']) of the full path, from the same catalogue.
  const metricPaths = [...scalar.values()]
    .filter((f) => stored(f) && isMetricPath(f.path))
    .filter((f) => (f.types.int ?? 0) + (f.types.float ?? 0) + (f.types.nan ?? 0) > (f.types.string ?? 0))
    .map((f) => f.path)
    .filter((p) => p !== x.column && p !== 'step_length');
  const chosen = metricPaths.slice(0, MAX_METRICS);
  if (charts && chosen.some((p) => hasText(scalar.get(p)))) return { kind: 'fallback' };
  if (charts && stored(scalar.get('step_length')) && hasText(scalar.get('step_length')))
    return { kind: 'fallback' };
  const plan = m.plan;
  const exact = { value: true };
  const metrics: BinnedStats = {
    spec: plan.metricSpec,
    quantiles: 'exact',
    band: [0.1, 0.9],
    series: chosen.map((path) => {
      const acc = m.metrics.get(path);
      return acc ? series(path, acc, plan.metricSpec, exact) : emptySeries(path, undefined);
    }),
  };
  if (!exact.value) metrics.quantiles = 'approximate';
  const data: ValidatorData = {
    events: m.records,
    files: files.length,
    xTitle: x.label,
    seed: options.seed ?? 0,
    clouds: clouds(m, perUid, stored),
    scores: scores(m, perUid, stored, options.alpha ?? 0.05),
    weights: weights(m),
    performance:
      stored(perUid.get('successful')) || stored(perUid.get('completion_times'))
        ? performance(m, perUid, stored)
        : undefined,
    stepLength:
      stored(scalar.get('step_length')) && m.stepLength
        ? series('step_length', m.stepLength, plan.stepSpec, { value: true })
        : undefined,
    blockDurations:
      plan.blockSpec && stored(scalar.get('_timestamp')) && m.blockDurations
        ? series('block_duration', m.blockDurations, plan.blockSpec, { value: true }, true)
        : undefined,
  };
  return {
    kind: 'done',
    result: {
      x,
      profile,
      records: m.records,
      files: files.length,
      xMin: xStat.min,
      xMax: xStat.max,
      rowsWithoutX: m.rowsWithoutX,
      data,
      metrics,
      metricTotal: metricPaths.length,
      problems: m.problems,
      problemCount: m.problemCount,
      fileReports: fileReports.map(({ name, records, problems, profile }) => ({
        name,
        records,
        problems,
        profile,
      })),
      passes: pass,
      fields,
      uids: m.uids.size,
      uidRows: m.uidRows,
      uidIndexedRows: m.uidIndexedRows,
      typeConflicts: new Map([...m.columns.rows.conflicts, ...m.columns.uidRows.conflicts]),
    },
  };
}

function samePrediction(a: Prediction, b: Prediction): boolean {
  const same = (r: Range | undefined, s: Range | undefined): boolean =>
    r === undefined || s === undefined
      ? r === s
      : r.min === s.min && r.max === s.max && r.integer === s.integer;
  return (
    a.x === b.x &&
    a.taskColumn === b.taskColumn &&
    same(a.xRange, b.xRange) &&
    same(a.blockRange, b.blockRange)
  );
}

/** A BinnedSeries from merged bin statistics (bins with any row, as GROUP BY gives them). */
function series(
  column: string,
  acc: BinAcc,
  spec: BinSpec,
  exact: { value: boolean },
  noNonFinite = false,
): BinnedSeries {
  const s = emptySeries(column, undefined);
  for (let b = 0; b < acc.n.length; b++) {
    const rows = acc.n[b] + acc.nonFinite[b];
    if (rows === 0) continue;
    if (acc.seen[b] > BIN_SAMPLE) exact.value = false;
    const [lower, upper] = sampleQuantiles(sampleRow(acc.sample, acc.seen, b, BIN_SAMPLE), [0.1, 0.9]);
    const n = acc.n[b];
    s.bin.push(b);
    s.x0.push(spec.x0 + b * spec.width);
    s.x1.push(spec.x0 + (b + 1) * spec.width);
    s.xMean.push(acc.xSum[b] / rows);
    s.count.push(n);
    s.mean.push(n ? acc.sum[b] / n : NaN);
    s.min.push(n ? acc.min[b] : NaN);
    s.max.push(n ? acc.max[b] : NaN);
    s.lower.push(lower);
    s.upper.push(upper);
    s.last.push(acc.last[b]);
    s.nonFinite.push(noNonFinite ? 0 : acc.nonFinite[b]);
  }
  return s;
}

function clouds(
  m: Merged,
  perUid: Map<string, FieldStat>,
  stored: (f: FieldStat | undefined) => boolean,
): UidCloud[] {
  const out: UidCloud[] = [];
  for (const value of CLOUD_VALUES) {
    const c = m.clouds.get(value);
    if (!stored(perUid.get(value)) || !c || c.population === 0) continue;
    const top = bottomK(c, m.plan.sampleSize);
    const idx = Array.from(top.hash.keys()).sort(
      (i, j) => top.file[i] - top.file[j] || top.line[i] - top.line[j] || top.pos[i] - top.pos[j],
    );
    if (!idx.length) continue;
    out.push({
      value,
      columns: {
        x: idx.map((i) => top.x[i]),
        uid: idx.map((i) => top.uid[i]),
        task: idx.map((i) => top.task[i]),
        [value]: idx.map((i) => top.value[i]),
      },
      size: idx.length,
      population: c.population,
    });
  }
  return out;
}

function scores(
  m: Merged,
  perUid: Map<string, FieldStat>,
  stored: (f: FieldStat | undefined) => boolean,
  alpha: number,
): ScoreMatrix | undefined {
  const logged = m.matrices.get('moving_averaged_scores');
  if (logged && logged.rows > 0) {
    const matrix = uidMatrix(logged, m.plan.scoreSpec);
    return (
      matrix && {
        uids: matrix.uids,
        spec: m.plan.scoreSpec,
        values: matrix.values,
        source: 'logged',
        alpha,
        events: logged.vectors,
      }
    );
  }
  if (!stored(perUid.get('rewards')) || m.scores.snapshots.size === 0) return undefined;
  const s = m.scores;
  const uids = [...s.seen.keys()].filter((u) => s.seen[u]);
  const spec = m.plan.scoreSpec;
  const values = new Float64Array(uids.length * spec.count).fill(NaN);
  for (const [bin, state] of s.snapshots)
    for (let row = 0; row < uids.length; row++) values[row * spec.count + bin] = state[uids[row]];
  forwardFill(values, uids.length, spec.count);
  return { uids, spec, values, source: 'reconstructed', alpha, events: s.events };
}

function uidMatrix(
  matrix: { vectors: number; values: Float64Array; bins: number },
  spec: BinSpec,
): { uids: number[]; values: Float64Array } | undefined {
  if (matrix.vectors === 0) return undefined;
  const rows = matrix.values.length / matrix.bins;
  const uids: number[] = [];
  for (let u = 0; u < rows; u++) {
    const row = matrix.values.subarray(u * matrix.bins, (u + 1) * matrix.bins);
    if (row.some((v) => !Number.isNaN(v))) uids.push(u);
  }
  if (!uids.length) return undefined;
  const values = new Float64Array(uids.length * spec.count);
  uids.forEach((u, r) =>
    values.set(matrix.values.subarray(u * matrix.bins, (u + 1) * matrix.bins), r * spec.count),
  );
  forwardFill(values, uids.length, spec.count);
  return { uids, values };
}

function weights(m: Merged): WeightsMatrix | undefined {
  const kinds = (['set_weights', 'neuron_weights'] as const)
    .map((kind) => ({ kind, n: m.matrices.get(kind)?.eventsWithX ?? 0 }))
    .filter((k) => k.n > 0)
    .sort((a, b) => b.n - a.n || (a.kind < b.kind ? -1 : 1));
  if (!kinds.length) return undefined;
  const chosen = m.matrices.get(kinds[0].kind)!;
  const matrix = uidMatrix(chosen, m.plan.weightSpec);
  return (
    matrix && {
      uids: matrix.uids,
      spec: m.plan.weightSpec,
      values: matrix.values,
      vectors: chosen.vectors,
      kind: kinds[0].kind,
      updates: chosen.vectors,
    }
  );
}

function performance(
  m: Merged,
  perUid: Map<string, FieldStat>,
  stored: (f: FieldStat | undefined) => boolean,
): UidPerformance {
  const uids = [...m.perf.keys()].sort((a, b) => a - b);
  const hasOk = stored(perUid.get('successful'));
  const hasTimes = stored(perUid.get('completion_times'));
  const q = uids.map((u) => {
    const p = m.perf.get(u)!;
    return hasTimes
      ? sampleQuantiles(sampleRow(p.sample, p.seen, 0, PERF_SAMPLE), [0.1, 0.25, 0.5, 0.75, 0.9])
      : [NaN, NaN, NaN, NaN, NaN];
  });
  return {
    uid: uids,
    successRate: uids.map((u) => {
      const p = m.perf.get(u)!;
      return hasOk && p.okN > 0 ? p.okSum / p.okN : NaN;
    }),
    p10: q.map((v) => v[0]),
    p25: q.map((v) => v[1]),
    p50: q.map((v) => v[2]),
    p75: q.map((v) => v[3]),
    p90: q.map((v) => v[4]),
    count: uids.map((u) => m.perf.get(u)!.rows),
  };
}
