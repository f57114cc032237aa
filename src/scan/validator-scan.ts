import { isMetricPath } from '../analysis/metric-paths.js';
import { binIndex, type BinSpec } from '../engine/bins.js';
import {
  countTypes,
  numericValue,
  textClass,
  typeOfValue,
  type FieldRole,
  type FieldStat,
  type ValueType,
} from '../engine/field-stats.js';
import { HIDDEN_COLUMNS, OrderStat } from '../engine/ingest-schema.js';
import { sampleHash } from '../engine/sample-hash.js';
import type { EventSink, NumberCounts } from '../formats/event-sink.js';
import type { LogFile } from '../formats/log-file.js';
import { normalizeRecord } from '../formats/normalize.js';
import type { ReadProblem } from '../formats/problems.js';
import type { Profile } from '../formats/profile.js';
import { readRecords } from '../formats/read-records.js';
import { seededRandom } from './group-stats.js';
import { addToBin, newBinAcc, offer, type BinAcc } from './bin-acc.js';
import { EventWalker } from './event-walker.js';

/** One unit of work: a whole file, or a newline-aligned byte range of a plain JSON lines file. */
export interface ValidatorTask {
  file: LogFile;
  fileIndex: number;
  /** Position in the run's task order (row order). */
  index: number;
  start: number;
  /** Exclusive; undefined = to the end of the file. */
  end: number | undefined;
  /** Lines before `start` (so problems and sample keys use the file's own line numbers). */
  line: number;
}

/** What the scan computes, with bin specs fixed in advance (see validator-run.ts). */
export interface ValidatorScanPlan {
  x: string;
  xCandidates: string[];
  taskColumn: string | undefined;
  /** Bins over x: reconstructed and logged scores, weights, step length, metrics. */
  scoreSpec: BinSpec;
  weightSpec: BinSpec;
  stepSpec: BinSpec;
  metricSpec: BinSpec;
  /** Bins over block for the block durations (undefined without a block field). */
  blockSpec: BinSpec | undefined;
  seed: number;
  sampleSize: number;
  alpha: number;
  /** Caps beyond which the scan gives up (overflow) and the full path runs. */
  maxMetricPaths: number;
  maxSnapshots: number;
  /** Read JSON lines with the byte-level EventWalker (false: JSON.parse every line; for tests). */
  byteWalker: boolean;
  /** Which scan (and pass) the plan is for, unique within the process: scopes CloudBound. */
  scan: number;
  /**
   * Compute the charts' aggregates (bins, clouds, scores, matrices, block durations); false for
   * `inspect`, which needs only the bookkeeping: fields, counts, uids, x statistics, problems.
   */
  charts: boolean;
}

export const CLOUD_VALUES = ['rewards', 'completion_times'] as const;
const MATRIX_KINDS = ['moving_averaged_scores', 'set_weights', 'neuron_weights'] as const;
type MatrixKind = (typeof MATRIX_KINDS)[number];
export const PERF_SAMPLE = 1024;

/** Bottom-k reservoir candidates of one cloud: parallel arrays, unsorted. */
export interface CloudCandidates {
  population: number;
  hash: Float64Array;
  file: Float64Array;
  line: Float64Array;
  pos: Float64Array;
  x: Float64Array;
  uid: Float64Array;
  value: Float64Array;
  task: (string | null)[];
}

/** The EMA of rewards over one task as affine maps of the state at the task's start, per uid. */
export interface ScoreChunk {
  /** Snapshots: the bin left, and per uid (A, B) so that score = A · start + B. */
  bins: number[];
  a: Float64Array[];
  b: Float64Array[];
  /** The state at the task's end as a map of its start. */
  endA: Float64Array;
  endB: Float64Array;
  seen: Uint8Array;
  events: number;
}

/** Last finite value per (bin, uid) of one uid-indexed kind; NaN where none. */
export interface MatrixChunk {
  /** Rows of this kind (any x): the SQL path's "logged" test. */
  rows: number;
  /** Events with the kind and a finite x (which weights kind wins), and those with a cell (vectors). */
  eventsWithX: number;
  vectors: number;
  uids: number;
  values: Float64Array;
}

export interface BlockRunEdges {
  /** First timed event (block, t); NaN when the task has none. */
  headBlock: number;
  headT: number;
  /** The second run start in the task (the first one's successor), if any. */
  secondBlock: number;
  secondT: number;
  /** The last run start and the block of the last timed event. */
  lastStartBlock: number;
  lastStartT: number;
  lastBlock: number;
}

export interface ValidatorPartial {
  index: number;
  fileIndex: number;
  records: number;
  problems: Omit<ReadProblem, 'file'>[];
  problemCounts: Partial<Record<ReadProblem['kind'], number>>;
  votes: Record<Profile, number>;
  fields: FieldStat[];
  /** Per x candidate: order statistics, first and last finite value, all integers. */
  order: {
    present: number;
    decreases: number;
    min: number;
    max: number;
    first: number;
    last: number;
    integral: boolean;
  }[];
  rowsWithoutX: number;
  /** A field this path does not model (x or task as text, an empty task name, …): fall back. */
  unsupported: string | undefined;
  overflow: boolean;
  /** Scalar metric paths (and step_length) binned over metricSpec / stepSpec. */
  metrics: Record<string, BinAcc>;
  stepLength: BinAcc | undefined;
  blockDurations: BinAcc | undefined;
  blockEdges: BlockRunEdges;
  clouds: Partial<Record<(typeof CLOUD_VALUES)[number], CloudCandidates>>;
  scores: ScoreChunk | undefined;
  matrices: Partial<Record<MatrixKind, MatrixChunk>>;
  /** Per uid ≥ 0 (sparse: uid list): uid rows, successful sum and count, completion time sample. */
  perf: {
    uid: Float64Array;
    rows: Float64Array;
    okSum: Float64Array;
    okN: Float64Array;
    sample: Float64Array;
    seen: Float64Array;
  };
  /** Distinct uids of uid rows and uid-indexed cells. */
  uids: number[];
  /** Per-uid rows (one per uid of every event with uids) and uid-indexed cells the ingest would store. */
  uidRows: number;
  uidIndexedRows: number;
  /** How the ingest's `rows` and `uid_rows` tables would type each column (for its type conflicts). */
  columns: { rows: ColumnNotes; uidRows: ColumnNotes };
}

/** Column type notes of one table over one task (see TableWriter: a column's first non-empty value fixes its type). */
export interface ColumnNotes {
  /** Per column, the kind of its first value that decides a type in this task. */
  kinds: [string, ColumnKind][];
  /** Per column, in order of first occurrence: text values a numeric column could not hold. */
  misfits: [string, number][];
}

export const NUMERIC_COLUMN = 1;
export const TEXT_COLUMN = 2;
export type ColumnKind = typeof NUMERIC_COLUMN | typeof TEXT_COLUMN;

/** Scans one task for the validator charts. */
export async function scanValidatorTask(
  task: ValidatorTask,
  plan: ValidatorScanPlan,
): Promise<ValidatorPartial> {
  const sink = new ValidatorSink(task, plan);
  const problems: Omit<ReadProblem, 'file'>[] = [];
  const problemCounts: Partial<Record<ReadProblem['kind'], number>> = {};
  const votes: Record<Profile, number> = { filetao: 0, openvalidators: 0, rl: 0, generic: 0 };
  // Lines the walker declines (bad JSON, loguru, …) come back as records, in order.
  const walker = plan.byteWalker ? new EventWalker(sink, (path) => path === plan.taskColumn) : undefined;
  const records = readRecords(
    task.file,
    (p) => {
      problemCounts[p.kind] = (problemCounts[p.kind] ?? 0) + 1;
      if (problems.length < 200) problems.push(p);
    },
    {
      position: { offset: task.start, line: task.line },
      end: task.end,
      fastLine: walker
        ? (buffer, start, end, line) => {
            if (sink.overflow) return true;
            const profile = walker.walk(buffer, start, end, line);
            if (profile === undefined) return false;
            votes[profile]++;
            return true;
          }
        : undefined,
    },
  );
  for await (const batch of records) {
    for (const record of batch)
      votes[normalizeRecord(record.value as Record<string, unknown>, record.line, sink)]++;
    if (sink.overflow) break;
  }
  return sink.result(problems, problemCounts, votes);
}

interface ScalarInfo {
  stat: FieldStat;
  /** Index among the x candidates, or −1. */
  candidate: number;
  metric: boolean;
  /** A metric or step_length: binned over x. */
  binned: boolean;
  /** Kind of the first value that decided the column's type in this task (0: none yet). */
  kind: 0 | ColumnKind;
}

class ValidatorSink implements EventSink {
  /** Field statistics by role, then path (two lookups, no key strings built per value). */
  private readonly fields: Record<FieldRole, Map<string, FieldStat>> = {
    scalar: new Map(),
    'per-uid': new Map(),
    'uid-indexed': new Map(),
    unstored: new Map(),
  };
  private readonly order: OrderStat[];
  private readonly orderFirst: number[];
  private readonly integral: boolean[];
  private readonly candidateIndex = new Map<string, number>();
  private readonly scalarInfos = new Map<string, ScalarInfo>();
  private readonly random: () => number;
  records = 0;
  rowsWithoutX = 0;
  unsupported: string | undefined;
  overflow = false;
  // The current event.
  private line = 0;
  private x = NaN;
  private xText = false;
  private block = NaN;
  private timestamp = NaN;
  private taskName: string | null = null;
  private eventUids: readonly number[] | undefined;
  /** This event's per-uid vectors the charts use (fields, not a Map: set and reset every event). */
  private rewards: readonly unknown[] | undefined;
  private times: readonly unknown[] | undefined;
  private ok: readonly unknown[] | undefined;
  private readonly indexed = new Map<MatrixKind, readonly unknown[]>();
  private readonly scalarPaths: string[] = [];
  private readonly scalarValues: number[] = [];
  // Aggregates.
  private readonly metrics = new Map<string, BinAcc>();
  private stepLength: BinAcc | undefined;
  private readonly blockDurations: BinAcc | undefined;
  private readonly edges: BlockRunEdges = {
    headBlock: NaN,
    headT: NaN,
    secondBlock: NaN,
    secondT: NaN,
    lastStartBlock: NaN,
    lastStartT: NaN,
    lastBlock: NaN,
  };
  private starts = 0;
  private scores: ScoreState | undefined;
  private readonly matrices = new Map<MatrixKind, MatrixChunk>();
  private readonly perf = new DensePerf();
  /** Uids ≥ 0 of uid rows are perf's; negative ones and uid-indexed cells are kept here. */
  private readonly negativeUids = new Set<number>();
  private indexedUids: Uint8Array = new Uint8Array(0);
  private readonly rewardCloud: Cloud;
  private readonly timeCloud: Cloud;
  private uidRowCount = 0;
  private uidIndexedCount = 0;
  private readonly rowMisfits = new Map<string, number>();
  private readonly vectorKinds = new Map<string, ColumnKind>();
  private readonly vectorMisfits = new Map<string, number>();

  constructor(
    private readonly task: ValidatorTask,
    private readonly plan: ValidatorScanPlan,
  ) {
    this.order = plan.xCandidates.map(() => new OrderStat());
    this.orderFirst = plan.xCandidates.map(() => NaN);
    this.integral = plan.xCandidates.map(() => true);
    plan.xCandidates.forEach((c, i) => this.candidateIndex.set(c, i));
    this.random = seededRandom(0x5bd1e995 ^ (task.index * 2654435761));
    if (plan.blockSpec) this.blockDurations = newBinAcc(plan.blockSpec.count);
    this.rewardCloud = new Cloud(plan.sampleSize, cloudBound(plan.scan, 'rewards'));
    this.timeCloud = new Cloud(plan.sampleSize, cloudBound(plan.scan, 'completion_times'));
  }

  private field(path: string, role: FieldRole): FieldStat {
    const map = this.fields[role];
    let stat = map.get(path);
    if (stat === undefined) {
      stat = { path, role, events: 0, types: {} };
      map.set(path, stat);
    }
    return stat;
  }

  private count(path: string, role: FieldRole, type: ValueType): void {
    const stat = this.field(path, role);
    stat.events++;
    stat.types[type] = (stat.types[type] ?? 0) + 1;
  }

  beginEvent(line: number): void {
    this.line = line;
    this.x = NaN;
    this.xText = false;
    this.block = NaN;
    this.timestamp = NaN;
    this.taskName = null;
    this.eventUids = undefined;
    this.rewards = this.times = this.ok = undefined;
    if (this.indexed.size) this.indexed.clear();
    this.scalarPaths.length = 0;
    this.scalarValues.length = 0;
  }

  number(path: string, value: number): void {
    const info = this.scalarInfo(path);
    const stat = info.stat;
    stat.events++;
    if (info.kind === 0) info.kind = NUMERIC_COLUMN;
    const type = typeOfValue(value);
    stat.types[type] = (stat.types[type] ?? 0) + 1;
    const k = info.candidate;
    if (k >= 0 && Number.isFinite(value)) {
      if (this.order[k].present === 0) this.orderFirst[k] = value;
      this.order[k].see(value);
      if (!Number.isInteger(value)) this.integral[k] = false;
    }
    if (path === this.plan.x) {
      if (!Number.isFinite(value)) this.unsupported ??= `a non-finite ${path} at line ${this.line}`;
      this.x = value;
    }
    if (path === 'block') this.block = value;
    else if (path === '_timestamp') this.timestamp = value;
    if (path === this.plan.taskColumn) this.unsupported ??= `a number in ${path} at line ${this.line}`;
    if (info.binned && this.plan.charts) {
      this.scalarPaths.push(path);
      this.scalarValues.push(value);
    }
  }

  /** What number() needs to know of a path, looked up once per path. */
  private scalarInfo(path: string): ScalarInfo {
    let info = this.scalarInfos.get(path);
    if (info === undefined) {
      info = {
        stat: this.field(path, 'scalar'),
        candidate: this.candidateIndex.get(path) ?? -1,
        metric: isMetricPath(path),
        binned: path === 'step_length' || isMetricPath(path),
        kind: 0,
      };
      this.scalarInfos.set(path, info);
    }
    return info;
  }

  text(path: string, value: string): void {
    const info = this.scalarInfo(path);
    info.stat.events++;
    info.stat.types.string = (info.stat.types.string ?? 0) + 1;
    if (value !== '') {
      if (info.kind === 0) info.kind = TEXT_COLUMN;
      const kind = textClass(value);
      if (kind === 'x' || kind === ' ') this.rowMisfits.set(path, (this.rowMisfits.get(path) ?? 0) + 1);
    }
    if (path === this.plan.taskColumn) {
      if (value === '') this.unsupported ??= `an empty ${path} at line ${this.line}`;
      this.taskName = value;
    } else if (path === this.plan.x || path === 'block' || path === '_timestamp') this.xText = true;
  }

  uids(uids: readonly number[], counts?: NumberCounts): void {
    const stat = this.field('uids', 'per-uid');
    stat.events++;
    countTypes(stat, uids, counts);
    this.eventUids = uids;
    this.uidRowCount += uids.length;
  }

  uidVector(path: string, values: readonly unknown[], counts?: NumberCounts): void {
    const stat = this.field(path, 'per-uid');
    stat.events++;
    const strings = stat.types.string ?? 0;
    countTypes(stat, values, counts);
    if (!HIDDEN_COLUMNS.has(path)) this.vectorColumn(path, values, (stat.types.string ?? 0) !== strings);
    if (path === 'rewards') this.rewards = values;
    else if (path === 'completion_times') this.times = values;
    else if (path === 'successful') this.ok = values;
  }

  uidIndexed(kind: string, values: readonly unknown[], counts?: NumberCounts): void {
    const stat = this.field(kind, 'uid-indexed');
    stat.events++;
    countTypes(stat, values, counts);
    if ((MATRIX_KINDS as readonly string[]).includes(kind)) this.indexed.set(kind as MatrixKind, values);
    for (let uid = 0; uid < values.length; uid++) {
      const v = values[uid];
      if (typeof v === 'number' || typeof v === 'boolean') {
        this.uidIndexedCount++;
        if (uid >= this.indexedUids.length) this.indexedUids = growBytes(this.indexedUids, uid + 1);
        this.indexedUids[uid] = 1;
      }
    }
  }

  /**
   * A per-uid vector as the ingest's `uid_rows` column would take it: a new column is text if any
   * value is non-empty text, numeric if any value is not null or empty; text that is not a number
   * is a misfit for a numeric column.
   */
  private vectorColumn(path: string, values: readonly unknown[], hasText: boolean): void {
    if (!this.vectorKinds.has(path)) {
      let kind: ColumnKind | undefined;
      for (const v of values) {
        if (typeof v === 'string' && v !== '') kind = TEXT_COLUMN;
        else if (v !== null && v !== '') kind ??= NUMERIC_COLUMN;
      }
      if (kind !== undefined) this.vectorKinds.set(path, kind);
    }
    if (!hasText) return;
    let misfits = 0;
    for (const v of values)
      if (typeof v === 'string' && v !== '') {
        const kind = textClass(v);
        if (kind === 'x' || kind === ' ') misfits++;
      }
    if (misfits) this.vectorMisfits.set(path, (this.vectorMisfits.get(path) ?? 0) + misfits);
  }

  other(path: string, type: 'list' | 'null' | 'object'): void {
    if (type === 'null') this.count(path, 'scalar', 'null');
    else this.count(path, 'unstored', type);
  }

  endEvent(): void {
    this.records++;
    if (this.xText) this.unsupported ??= `text in ${this.plan.x}, block or _timestamp at line ${this.line}`;
    const x = this.x;
    const hasX = Number.isFinite(x);
    if (!hasX) this.rowsWithoutX++;
    const rank = this.line;
    const uids = this.eventUids;
    if (!this.plan.charts) {
      if (uids && uids.length > 0) this.uidSet(uids);
      return;
    }
    if (hasX) this.scalars(x);
    if (Number.isFinite(this.block) && Number.isFinite(this.timestamp))
      this.blockRun(this.block, this.timestamp);
    if (uids && uids.length > 0) this.uidRows(uids, x, hasX, rank);
    for (const [kind, values] of this.indexed) this.indexedRow(kind, values, x, hasX);
    if (this.metrics.size > this.plan.maxMetricPaths) this.overflow = true;
  }

  private scalars(x: number): void {
    const metricBin = binIndex(x, this.plan.metricSpec);
    for (let i = 0; i < this.scalarPaths.length; i++) {
      const path = this.scalarPaths[i];
      const value = this.scalarValues[i];
      if (path === 'step_length') {
        this.stepLength ??= newBinAcc(this.plan.stepSpec.count);
        addToBin(this.stepLength, binIndex(x, this.plan.stepSpec), x, value, this.random);
      }
      if (!this.scalarInfos.get(path)!.metric) continue;
      let acc = this.metrics.get(path);
      if (acc === undefined) {
        acc = newBinAcc(this.plan.metricSpec.count);
        this.metrics.set(path, acc);
      }
      addToBin(acc, metricBin, x, value, this.random);
    }
  }

  /** Runs of one block among timed events (see plot-validator's blockDurations). */
  private blockRun(block: number, t: number): void {
    const e = this.edges;
    if (Number.isNaN(e.headBlock)) {
      e.headBlock = block;
      e.headT = t;
      e.lastStartBlock = block;
      e.lastStartT = t;
      e.lastBlock = block;
      this.starts = 1;
      return;
    }
    if (block !== e.lastBlock) {
      // A new run starts. Its predecessor's duration is known here unless the predecessor is the
      // task's first run (whose start may continue the previous task's run: the merge decides).
      if (this.starts === 1) {
        e.secondBlock = block;
        e.secondT = t;
      } else
        addDuration(
          this.blockDurations!,
          this.plan.blockSpec!,
          e.lastStartBlock,
          e.lastStartT,
          block,
          t,
          this.random,
        );
      this.starts++;
      e.lastStartBlock = block;
      e.lastStartT = t;
    }
    e.lastBlock = block;
  }

  /** Without charts: only which uids occur (as uidRows counts them). */
  private uidSet(uids: readonly number[]): void {
    for (let pos = 0; pos < uids.length; pos++) if (!this.countUid(uids[pos])) return;
  }

  /** Counts one uid row of `uid` (which uids occur); false for a uid this path does not keep. */
  private countUid(uid: number): boolean {
    if (uid >= MAX_DENSE_UID) {
      this.unsupported ??= `uid ${uid} at line ${this.line} (this path keeps uids below ${MAX_DENSE_UID})`;
      return false;
    }
    if (uid >= 0) {
      if (uid >= this.perf.size) this.perf.grow(uid + 1);
      this.perf.rows[uid]++;
    } else this.negativeUids.add(uid);
    return true;
  }

  private uidRows(uids: readonly number[], x: number, hasX: boolean, rank: number): void {
    const rewards = this.rewards;
    const times = this.times;
    const ok = this.ok;
    const fileIndex = this.task.fileIndex;
    const perf = this.perf;
    const scoreBin = hasX ? binIndex(x, this.plan.scoreSpec) : -1;
    for (let pos = 0; pos < uids.length; pos++) {
      const uid = uids[pos];
      if (!this.countUid(uid)) return;
      const c = times === undefined ? null : numericValue(times[pos]);
      if (uid >= 0) {
        const s = ok === undefined ? null : numericValue(ok[pos]);
        if (s !== null) {
          perf.okSum[uid] += s;
          perf.okN[uid]++;
        }
        if (c !== null && Number.isFinite(c)) offer(perf.sample, perf.seen, uid, PERF_SAMPLE, c, this.random);
      }
      if (!hasX) continue;
      const r = rewards === undefined ? null : numericValue(rewards[pos]);
      const rewardOk = r !== null && Number.isFinite(r);
      const timeOk = c !== null && Number.isFinite(c);
      if (rewardOk || timeOk) {
        const hash = sampleHash(this.plan.seed, fileIndex, rank, pos);
        if (rewardOk) this.rewardCloud.offer(hash, fileIndex, rank, pos, x, uid, r, this.taskName);
        if (timeOk) this.timeCloud.offer(hash, fileIndex, rank, pos, x, uid, c, this.taskName);
      }
      if (rewardOk) {
        this.scores ??= new ScoreState(this.plan.alpha);
        this.scores.add(scoreBin, uid, r, rank);
        if (this.scores.snapshots > this.plan.maxSnapshots) this.overflow = true;
      }
    }
  }

  private indexedRow(kind: MatrixKind, values: readonly unknown[], x: number, hasX: boolean): void {
    let m = this.matrices.get(kind);
    const spec = kind === 'moving_averaged_scores' ? this.plan.scoreSpec : this.plan.weightSpec;
    if (m === undefined) {
      m = { rows: 0, eventsWithX: 0, vectors: 0, uids: 0, values: new Float64Array(0) };
      this.matrices.set(kind, m);
    }
    let rows = 0;
    let cells = 0;
    const bin = hasX ? binIndex(x, spec) : -1;
    for (let uid = 0; uid < values.length; uid++) {
      const v = numericValue(values[uid]);
      if (v === null) continue;
      rows++;
      if (!hasX || !Number.isFinite(v)) continue;
      if (uid >= m.uids) {
        const grown = new Float64Array(Math.max(uid + 1, m.uids * 2) * spec.count).fill(NaN);
        grown.set(m.values);
        m.values = grown;
        m.uids = grown.length / spec.count;
      }
      m.values[uid * spec.count + bin] = v;
      cells++;
    }
    m.rows += rows;
    if (hasX && rows > 0) m.eventsWithX++;
    if (cells > 0) m.vectors++;
  }

  result(
    problems: Omit<ReadProblem, 'file'>[],
    problemCounts: Partial<Record<ReadProblem['kind'], number>>,
    votes: Record<Profile, number>,
  ): ValidatorPartial {
    const perf = this.perf.compact();
    const clouds: ValidatorPartial['clouds'] = {};
    if (this.rewardCloud.population > 0) clouds.rewards = this.rewardCloud.candidates();
    if (this.timeCloud.population > 0) clouds.completion_times = this.timeCloud.candidates();
    const uids = [...this.negativeUids];
    for (let u = 0; u < this.perf.size; u++) if (this.perf.rows[u] > 0) uids.push(u);
    for (let u = 0; u < this.indexedUids.length; u++) if (this.indexedUids[u]) uids.push(u);
    const matrices: ValidatorPartial['matrices'] = {};
    for (const [kind, m] of this.matrices) matrices[kind] = m;
    return {
      index: this.task.index,
      fileIndex: this.task.fileIndex,
      records: this.records,
      problems,
      problemCounts,
      votes,
      fields: Object.values(this.fields).flatMap((map) => [...map.values()]),
      order: this.order.map((o, k) => ({
        present: o.present,
        decreases: o.decreases,
        min: o.min,
        max: o.max,
        first: this.orderFirst[k],
        last: o.last,
        integral: this.integral[k],
      })),
      rowsWithoutX: this.rowsWithoutX,
      unsupported: this.unsupported,
      overflow: this.overflow,
      metrics: Object.fromEntries(this.metrics),
      stepLength: this.stepLength,
      blockDurations: this.blockDurations,
      blockEdges: this.edges,
      clouds,
      scores: this.scores?.result(),
      matrices,
      perf,
      uids,
      uidRows: this.uidRowCount,
      uidIndexedRows: this.uidIndexedCount,
      columns: {
        rows: {
          kinds: [...this.scalarInfos]
            .filter(([, i]) => i.kind !== 0)
            .map(([p, i]) => [p, i.kind as ColumnKind]),
          misfits: [...this.rowMisfits],
        },
        uidRows: { kinds: [...this.vectorKinds], misfits: [...this.vectorMisfits] },
      },
    };
  }
}

/** One block duration: from a run start to the next one, per block advanced. */
export function addDuration(
  acc: BinAcc,
  spec: BinSpec,
  block: number,
  t: number,
  nextBlock: number,
  nextT: number,
  random: () => number,
): void {
  if (!(nextBlock > block && nextT > t)) return;
  addToBin(acc, binIndex(block, spec), block, (nextT - t) / (nextBlock - block), random);
}

/** Uids at or above this make the scan decline (dense per-uid arrays). */
const MAX_DENSE_UID = 1 << 20;

function growBytes(bytes: Uint8Array, size: number): Uint8Array {
  const grown = new Uint8Array(Math.max(size, bytes.length * 2, 256));
  grown.set(bytes);
  return grown;
}

/** Per-uid performance statistics in dense arrays indexed by uid. */
class DensePerf {
  size = 0;
  rows: Float64Array = new Float64Array(0);
  okSum: Float64Array = new Float64Array(0);
  okN: Float64Array = new Float64Array(0);
  sample: Float64Array = new Float64Array(0);
  seen: Float64Array = new Float64Array(0);

  grow(needed: number): void {
    const size = Math.max(needed, this.size * 2, 256);
    const grow = (a: Float64Array, width = 1): Float64Array => {
      const out = new Float64Array(size * width);
      out.set(a);
      return out;
    };
    this.rows = grow(this.rows);
    this.okSum = grow(this.okSum);
    this.okN = grow(this.okN);
    this.sample = grow(this.sample, PERF_SAMPLE);
    this.seen = grow(this.seen);
    this.size = size;
  }

  /** Only the uids with rows, for posting. */
  compact(): ValidatorPartial['perf'] {
    const uids: number[] = [];
    for (let u = 0; u < this.size; u++) if (this.rows[u] > 0) uids.push(u);
    const out = {
      uid: Float64Array.from(uids),
      rows: new Float64Array(uids.length),
      okSum: new Float64Array(uids.length),
      okN: new Float64Array(uids.length),
      sample: new Float64Array(uids.length * PERF_SAMPLE),
      seen: new Float64Array(uids.length),
    };
    uids.forEach((u, i) => {
      out.rows[i] = this.rows[u];
      out.okSum[i] = this.okSum[u];
      out.okN[i] = this.okN[u];
      out.sample.set(this.sample.subarray(u * PERF_SAMPLE, (u + 1) * PERF_SAMPLE), i * PERF_SAMPLE);
      out.seen[i] = this.seen[u];
    });
    return out;
  }
}

/**
 * The largest key a cloud may still take, per cloud, from the clouds this thread already filled in
 * the same scan: a task's k smallest keys bound the whole run's k smallest (keys are unique, so a
 * row whose key is above another task's k-th smallest is never in the final sample). Without it
 * every byte range refilled its heap from scratch (15 × more heap operations on 1 GB of FileTAO).
 */
interface CloudBound {
  key: [hash: number, file: number, line: number, pos: number] | undefined;
}
let boundsScan = -1;
const bounds = new Map<string, CloudBound>();

function cloudBound(scan: number, name: string): CloudBound {
  if (scan !== boundsScan) {
    bounds.clear();
    boundsScan = scan;
  }
  let bound = bounds.get(name);
  if (bound === undefined) bounds.set(name, (bound = { key: undefined }));
  return bound;
}

/** Bottom-k by (hash, file, line, pos): a max-heap of the k smallest keys seen. */
class Cloud {
  population = 0;
  private readonly heap: number[] = [];
  private readonly hash: number[] = [];
  private readonly file: number[] = [];
  private readonly line: number[] = [];
  private readonly pos: number[] = [];
  private readonly x: number[] = [];
  private readonly uid: number[] = [];
  private readonly value: number[] = [];
  private readonly task: (string | null)[] = [];

  constructor(
    private readonly k: number,
    private readonly bound: CloudBound,
  ) {}

  offer(
    hash: number,
    file: number,
    line: number,
    pos: number,
    x: number,
    uid: number,
    value: number,
    task: string | null,
  ): void {
    this.population++;
    if (this.k <= 0) return;
    const b = this.bound.key;
    if (b !== undefined && compareKeys(hash, file, line, pos, b[0], b[1], b[2], b[3]) > 0) return;
    if (this.heap.length < this.k) {
      const slot = this.hash.length;
      this.store(slot, hash, file, line, pos, x, uid, value, task);
      this.heap.push(slot);
      this.up(this.heap.length - 1);
      return;
    }
    const top = this.heap[0];
    if (!this.less(hash, file, line, pos, top)) return;
    this.store(top, hash, file, line, pos, x, uid, value, task);
    this.down(0);
  }

  private store(
    slot: number,
    hash: number,
    file: number,
    line: number,
    pos: number,
    x: number,
    uid: number,
    value: number,
    task: string | null,
  ): void {
    this.hash[slot] = hash;
    this.file[slot] = file;
    this.line[slot] = line;
    this.pos[slot] = pos;
    this.x[slot] = x;
    this.uid[slot] = uid;
    this.value[slot] = value;
    this.task[slot] = task;
  }

  /** Key (hash, file, line, pos) of a new row is smaller than that of a slot. */
  private less(hash: number, file: number, line: number, pos: number, slot: number): boolean {
    return (
      compareKeys(hash, file, line, pos, this.hash[slot], this.file[slot], this.line[slot], this.pos[slot]) <
      0
    );
  }

  private greater(a: number, b: number): boolean {
    return (
      compareKeys(
        this.hash[a],
        this.file[a],
        this.line[a],
        this.pos[a],
        this.hash[b],
        this.file[b],
        this.line[b],
        this.pos[b],
      ) > 0
    );
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.greater(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let largest = i;
      if (l < h.length && this.greater(h[l], h[largest])) largest = l;
      if (r < h.length && this.greater(h[r], h[largest])) largest = r;
      if (largest === i) return;
      [h[i], h[largest]] = [h[largest], h[i]];
      i = largest;
    }
  }

  candidates(): CloudCandidates {
    if (this.heap.length === this.k && this.k > 0) {
      // This task's k-th smallest key bounds the clouds of the tasks after it (CloudBound).
      const top = this.heap[0];
      const key: [number, number, number, number] = [
        this.hash[top],
        this.file[top],
        this.line[top],
        this.pos[top],
      ];
      const b = this.bound.key;
      if (b === undefined || compareKeys(key[0], key[1], key[2], key[3], b[0], b[1], b[2], b[3]) < 0)
        this.bound.key = key;
    }
    return {
      population: this.population,
      hash: Float64Array.from(this.hash),
      file: Float64Array.from(this.file),
      line: Float64Array.from(this.line),
      pos: Float64Array.from(this.pos),
      x: Float64Array.from(this.x),
      uid: Float64Array.from(this.uid),
      value: Float64Array.from(this.value),
      task: this.task,
    };
  }
}

export function compareKeys(
  h1: number,
  f1: number,
  l1: number,
  p1: number,
  h2: number,
  f2: number,
  l2: number,
  p2: number,
): number {
  return h1 - h2 || f1 - f2 || l1 - l2 || p1 - p2;
}

/**
 * The reward EMA of one task as affine maps of the scores at its start: per uid, after k rewards,
 * score = (1−α)^k · start + B. A snapshot is taken whenever the bin changes (as the SQL path's
 * replay does) and at the task's end; the merge applies them in task order.
 */
class ScoreState {
  private a = new Float64Array(0);
  private b = new Float64Array(0);
  private seen = new Uint8Array(0);
  private readonly snapBins: number[] = [];
  private readonly snapA: Float64Array[] = [];
  private readonly snapB: Float64Array[] = [];
  private currentBin = -1;
  private lastEvent = -1;
  events = 0;

  constructor(private readonly alpha: number) {}

  get snapshots(): number {
    return this.snapBins.length;
  }

  add(bin: number, uid: number, reward: number, event: number): void {
    if (bin !== this.currentBin) {
      if (this.currentBin >= 0) this.snapshot();
      this.currentBin = bin;
    }
    if (uid < 0) return;
    if (uid >= this.a.length) this.grow(uid + 1);
    this.a[uid] *= 1 - this.alpha;
    this.b[uid] = this.alpha * reward + (1 - this.alpha) * this.b[uid];
    this.seen[uid] = 1;
    if (event !== this.lastEvent) {
      this.events++;
      this.lastEvent = event;
    }
  }

  private grow(size: number): void {
    const n = Math.max(size, this.a.length * 2, 16);
    const a = new Float64Array(n).fill(1);
    a.set(this.a);
    const b = new Float64Array(n);
    b.set(this.b);
    const seen = new Uint8Array(n);
    seen.set(this.seen);
    this.a = a;
    this.b = b;
    this.seen = seen;
  }

  private snapshot(): void {
    this.snapBins.push(this.currentBin);
    this.snapA.push(this.a.slice());
    this.snapB.push(this.b.slice());
  }

  result(): ScoreChunk {
    if (this.currentBin >= 0) this.snapshot();
    return {
      bins: this.snapBins,
      a: this.snapA,
      b: this.snapB,
      endA: this.a,
      endB: this.b,
      seen: this.seen,
      events: this.events,
    };
  }
}
