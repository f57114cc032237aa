import type { LogFile } from '../formats/log-file.js';
import type { ReadProblem } from '../formats/problems.js';
import { OrderStat } from '../engine/ingest-schema.js';
import { buildPathTrie } from './path-trie.js';
import { addRecord, newGroup, seededRandom, type GroupStats } from './group-stats.js';
import { scanFile } from './scan-file.js';

/** What the RL charts need from one file, computed by the projection scanner. */
export interface FileScan {
  fileIndex: number;
  records: number;
  problems: Omit<ReadProblem, 'file'>[];
  problemCounts: Partial<Record<ReadProblem['kind'], number>>;
  /** Order statistics of each x candidate, in `TrainingScanPlan.xCandidates` order. */
  order: { present: number; decreases: number; min: number; max: number }[];
  /** Groups by distinct x (of the planned x column), in first-seen order. */
  groups: GroupStats[];
  /** Too many distinct x values: the caller must fall back to the full path. */
  overflow: boolean;
  /** Records with a finite x: count, min, max; and those that also have a value column. */
  withX: number;
  /** Every finite x is an integer. */
  xIntegral: boolean;
  withValue: number;
  valueXMin: number;
  valueXMax: number;
  /** Position visits: keys (map, x, y) packed as numbers, and counts. */
  positionKeys: Float64Array;
  positionCounts: Float64Array;
}

export interface TrainingScanPlan {
  /** Value columns (dotted paths) to aggregate per x. */
  columns: string[];
  /** The x column the groups are keyed by. */
  x: string;
  xCandidates: string[];
  /** Cap on distinct x values per file before giving up on this path. */
  maxGroups: number;
}

/** Old flat RL keys that mean a nested path (see FLAT_RL_PATHS), for the paths a scan reads. */
const FLAT_ALIASES: Record<string, string> = { 'position.x': 'x', 'position.y': 'y', 'position.map': 'map' };
const POSITION = ['position.map', 'position.x', 'position.y'] as const;

const KEY_OFFSET = 1 << 15;
/** (map, x, y) → one number; exact for |x|, |y| < 32768 and 0 ≤ map < 2^20. */
export function packPosition(map: number, x: number, y: number): number {
  return (map * 65536 + (y + KEY_OFFSET)) * 65536 + (x + KEY_OFFSET);
}

export function unpackPosition(key: number): [number, number, number] {
  const x = (key % 65536) - KEY_OFFSET;
  const rest = Math.floor(key / 65536);
  return [Math.floor(rest / 65536), (rest % 65536) - KEY_OFFSET, x];
}

/** Scans one file for the RL charts: per-x statistics of the value columns, positions, x order. */
export async function scanTrainingFile(
  file: LogFile,
  fileIndex: number,
  plan: TrainingScanPlan,
): Promise<FileScan> {
  const slots = new Map<string, number>();
  const columnSlots = plan.columns.map((c) => slotOf(slots, c));
  const xSlot = slotOf(slots, plan.x);
  const candidateSlots = plan.xCandidates.map((c) => slotOf(slots, c));
  const positionSlots = POSITION.map((p) => slotOf(slots, p));
  const paths = new Map(slots);
  for (const [nested, flat] of Object.entries(FLAT_ALIASES)) paths.set(flat, slots.get(nested)!);
  const trie = buildPathTrie(paths);
  const order = plan.xCandidates.map(() => new OrderStat());
  const groups = new Map<number, GroupStats>();
  let lastX = NaN;
  let lastGroup: GroupStats | undefined;
  const positions = new PositionCounts();
  const [mapSlot, pxSlot, pySlot] = positionSlots;
  const candidateCount = candidateSlots.length;
  const columnCount = columnSlots.length;
  const random = seededRandom(0x9e3779b1 ^ fileIndex);
  const result: FileScan = {
    fileIndex,
    records: 0,
    problems: [],
    problemCounts: {},
    order: [],
    groups: [],
    overflow: false,
    withX: 0,
    xIntegral: true,
    withValue: 0,
    valueXMin: Infinity,
    valueXMax: -Infinity,
    positionKeys: new Float64Array(0),
    positionCounts: new Float64Array(0),
  };
  await scanFile(
    file,
    trie,
    slots.size,
    (problem) => {
      result.problemCounts[problem.kind] = (result.problemCounts[problem.kind] ?? 0) + 1;
      if (result.problems.length < 50) result.problems.push(problem);
    },
    (values, seen) => {
      const records = ++result.records;
      for (let k = 0; k < candidateCount; k++) {
        const slot = candidateSlots[k];
        if (seen[slot]) order[k].see(values[slot]);
      }
      if (seen[mapSlot] && seen[pxSlot] && seen[pySlot])
        positions.add(packPosition(values[mapSlot], values[pxSlot], values[pySlot]));
      const x = values[xSlot];
      if (!seen[xSlot] || !Number.isFinite(x)) return;
      result.withX++;
      if (!Number.isInteger(x)) result.xIntegral = false;
      // x (total steps) rarely changes from one record to the next.
      let group = x === lastX ? lastGroup : groups.get(x);
      let any = false;
      for (let c = 0; c < columnCount; c++)
        if (seen[columnSlots[c]]) {
          any = true;
          break;
        }
      if (any) {
        if (group === undefined) {
          if (groups.size >= plan.maxGroups) {
            result.overflow = true;
            return;
          }
          group = newGroup(x, columnCount);
          groups.set(x, group);
        }
        lastX = x;
        lastGroup = group;
        addRecord(group, columnSlots, values, seen, fileIndex * 4294967296 + records, random);
        result.withValue++;
        if (x < result.valueXMin) result.valueXMin = x;
        if (x > result.valueXMax) result.valueXMax = x;
      }
    },
  );
  result.order = order.map(({ present, decreases, min, max }) => ({ present, decreases, min, max }));
  result.groups = [...groups.values()];
  result.positionKeys = Float64Array.from(positions.keys);
  result.positionCounts = Float64Array.from(positions.counts);
  return result;
}

/**
 * Visits per position key, keys in first-seen order: a Map<number, number> (same key equality:
 * NaN is one key, -0 is 0) whose double keys are not boxed on each lookup.
 */
class PositionCounts {
  readonly keys: number[] = [];
  readonly counts: number[] = [];
  private table = new Int32Array(1024).fill(-1);
  private tableKeys = new Float64Array(1024);
  /** The last key seen (positions repeat) and its index. */
  private readonly last = new Float64Array([NaN]);
  private lastIndex = -1;
  private nanIndex = -1;

  add(key: number): void {
    if (key === this.last[0]) {
      this.counts[this.lastIndex]++;
      return;
    }
    let index: number;
    if (Number.isNaN(key)) {
      if (this.nanIndex < 0) this.nanIndex = this.append(NaN);
      index = this.nanIndex;
    } else {
      if (key === 0) key = 0; // -0 → 0, as Map stores it
      index = this.find(key);
    }
    this.last[0] = key;
    this.lastIndex = index;
    this.counts[index]++;
  }

  private find(key: number): number {
    const mask = this.table.length - 1;
    let i = hashKey(key) & mask;
    for (;;) {
      const index = this.table[i];
      if (index < 0) break;
      if (this.tableKeys[i] === key) return index;
      i = (i + 1) & mask;
    }
    const index = this.append(key);
    this.table[i] = index;
    this.tableKeys[i] = key;
    if (this.keys.length * 2 > this.table.length) this.grow();
    return index;
  }

  private append(key: number): number {
    this.keys.push(key);
    this.counts.push(0);
    return this.keys.length - 1;
  }

  private grow(): void {
    const size = this.table.length * 2;
    this.table = new Int32Array(size).fill(-1);
    this.tableKeys = new Float64Array(size);
    const mask = size - 1;
    this.keys.forEach((key, index) => {
      if (Number.isNaN(key)) return;
      let i = hashKey(key) & mask;
      while (this.table[i] >= 0) i = (i + 1) & mask;
      this.table[i] = index;
      this.tableKeys[i] = key;
    });
  }
}

function hashKey(key: number): number {
  const h = Math.imul((key >>> 0) ^ Math.imul((key / 4294967296) >>> 0, 0x9e3779b1), 0x85ebca6b);
  return h ^ (h >>> 15);
}

function slotOf(slots: Map<string, number>, path: string): number {
  let slot = slots.get(path);
  if (slot === undefined) {
    slot = slots.size;
    slots.set(path, slot);
  }
  return slot;
}
