import path from 'node:path';

/**
 * Orders log files the way their producers meant them to be read:
 * RL `stats_<n>.json` by the number in the name (not by mtime) with `stats_final_<n>.json` last,
 * rotated sets (`events.json.2.gz`, `events.json.1`, `events.json`) oldest first,
 * everything else by directory, then natural name order (numbers compared as numbers).
 */
export function compareLogPaths(a: string, b: string): number {
  const dirOrder = naturalCompare(path.dirname(a), path.dirname(b));
  if (dirOrder !== 0) return dirOrder;
  const ka = sortKey(path.basename(a));
  const kb = sortKey(path.basename(b));
  if (ka.stem !== kb.stem) return naturalCompare(ka.stem, kb.stem);
  if (ka.rank !== kb.rank) return ka.rank - kb.rank;
  if (ka.number !== kb.number) return ka.number - kb.number;
  return naturalCompare(path.basename(a), path.basename(b));
}

interface SortKey {
  stem: string;
  /** 0 = ordinary or rotated member, 1 = the live file of a rotated set, 2 = a `final` file. */
  rank: number;
  number: number;
}

const STATS = /^stats_(final_)?(\d+)\.json(\.gz)?$/i;
const ROTATED = /^(.+?\.(?:jsonl?|log|ndjson|csv))\.(\d+)(\.gz)?$/i;
const LIVE = /^(.+?\.(?:jsonl?|log|ndjson|csv))(\.gz)?$/i;

function sortKey(name: string): SortKey {
  const stats = STATS.exec(name);
  if (stats) return { stem: 'stats_', rank: stats[1] ? 2 : 0, number: Number(stats[2]) };
  const rotated = ROTATED.exec(name);
  // Rotation numbers count backwards in time: .3 is older than .1, and the live file is newest.
  if (rotated) return { stem: rotated[1].toLowerCase(), rank: 0, number: -Number(rotated[2]) };
  const live = LIVE.exec(name);
  if (live) return { stem: live[1].toLowerCase(), rank: 1, number: 0 };
  return { stem: name.toLowerCase(), rank: 0, number: 0 };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
