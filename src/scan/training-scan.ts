import type { LogFile } from '../formats/log-file.js';
import type { ReadProblem } from '../formats/problems.js';
import { OrderStat } from '../engine/ingest.js';
import { buildPathTrie } from './path-trie.js';
import { addValue, newGroup, seededRandom, type GroupStats } from './group-stats.js';
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
  const positions = new Map<number, number>();
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
      result.records++;
      for (let k = 0; k < candidateSlots.length; k++)
        if (seen[candidateSlots[k]]) order[k].see(values[candidateSlots[k]]);
      const [m, px, py] = positionSlots;
      if (seen[m] && seen[px] && seen[py]) {
        const key = packPosition(values[m], values[px], values[py]);
        positions.set(key, (positions.get(key) ?? 0) + 1);
      }
      const x = values[xSlot];
      if (!seen[xSlot] || !Number.isFinite(x)) return;
      result.withX++;
      if (!Number.isInteger(x)) result.xIntegral = false;
      let group = groups.get(x);
      let any = false;
      for (let c = 0; c < columnSlots.length; c++) {
        const slot = columnSlots[c];
        if (!seen[slot]) continue;
        if (group === undefined) {
          if (groups.size >= plan.maxGroups) {
            result.overflow = true;
            return;
          }
          group = newGroup(x, columnSlots.length);
          groups.set(x, group);
        }
        addValue(group, c, values[slot], fileIndex * 4294967296 + result.records, random);
        any = true;
      }
      if (any) {
        result.withValue++;
        if (x < result.valueXMin) result.valueXMin = x;
        if (x > result.valueXMax) result.valueXMax = x;
      }
    },
  );
  result.order = order.map(({ present, decreases, min, max }) => ({ present, decreases, min, max }));
  result.groups = [...groups.values()];
  result.positionKeys = Float64Array.from(positions.keys());
  result.positionCounts = Float64Array.from(positions.values());
  return result;
}

function slotOf(slots: Map<string, number>, path: string): number {
  let slot = slots.get(path);
  if (slot === undefined) {
    slot = slots.size;
    slots.set(path, slot);
  }
  return slot;
}
