import type fs from 'node:fs';
import type { LogFile } from '../formats/log-file.js';
import { sameStart, statOrUndefined, unchanged } from './file-identity.js';
import type { IndexedFile } from './index-db.js';
import type { UpdatePlan } from './index-update.js';
import type { IndexChange } from './run-index.js';

/**
 * What to read: for each file found, its known entry when what was indexed of it is still its
 * start (nothing, or the appended bytes, to read), else the entry of a file whose indexed bytes
 * it now begins with (renamed by a rotation), else a new read; entries left unmatched are dropped.
 */
export function planUpdate(
  indexed: ReadonlyMap<number, IndexedFile>,
  files: readonly LogFile[],
  change: IndexChange,
  settled: (fileId: number) => void,
): UpdatePlan {
  const byPath = new Map([...indexed.values()].map((f) => [f.path, f]));
  const matched = new Set<number>();
  const plan: UpdatePlan = { drop: [], reads: [] };
  const pending: { file: LogFile; stat: fs.Stats; displaced?: IndexedFile }[] = [];
  for (const file of files) {
    const stat = statOrUndefined(file.path);
    if (!stat) continue;
    const known = byPath.get(file.path);
    if (known && (unchanged(known, stat) || sameStart(known, file, stat))) {
      matched.add(known.fileId);
      planKnown(known, file, stat, plan, change, settled);
    } else pending.push({ file, stat, displaced: known });
  }
  const unplaced: typeof pending = [];
  for (const item of pending) {
    const moved = [...indexed.values()].find(
      (f) => !matched.has(f.fileId) && sameStart(f, item.file, item.stat),
    );
    if (!moved) {
      unplaced.push(item);
      continue;
    }
    matched.add(moved.fileId);
    moved.path = item.file.path;
    moved.name = item.file.name;
    plan.reads.push({ kind: 'renamed', file: item.file, stat: item.stat, known: moved });
    planKnown(moved, item.file, item.stat, plan, change, settled);
  }
  for (const { file, stat, displaced } of unplaced) {
    if (displaced && !matched.has(displaced.fileId)) {
      // Rewritten or truncated in place: read again under the same id.
      matched.add(displaced.fileId);
      change.reread.push(file.name);
      plan.drop.push(displaced.fileId);
      plan.reads.push({ kind: 'full', file, stat, reuseId: displaced.fileId });
      continue;
    }
    change.newFiles.push(file.name);
    plan.reads.push({ kind: 'full', file, stat });
  }
  for (const f of indexed.values())
    if (!matched.has(f.fileId)) {
      change.dropped.push(f.name);
      plan.drop.push(f.fileId);
    }
  return plan;
}

/** An entry whose indexed bytes the file still begins with: read nothing, or what was appended. */
function planKnown(
  known: IndexedFile,
  file: LogFile,
  stat: fs.Stats,
  plan: UpdatePlan,
  change: IndexChange,
  settled: (fileId: number) => void,
): void {
  known.name = file.name;
  const resumable = known.layout === 'jsonl' && !known.gzip;
  if (unchanged(known, stat)) {
    settled(known.fileId);
    if (resumable && known.indexedBytes < stat.size) plan.reads.push({ kind: 'append', file, stat, known });
    return;
  }
  if (resumable && stat.size > known.indexedBytes) {
    change.appended.push(file.name);
    plan.reads.push({ kind: 'append', file, stat, known });
  } else if (resumable || stat.size === known.indexedBytes)
    plan.reads.push({ kind: 'touch', file, stat, known });
  else {
    // A file DuckDB reads whole (an array, gzip) that grew: read again.
    change.reread.push(file.name);
    plan.drop.push(known.fileId);
    plan.reads.push({ kind: 'full', file, stat, reuseId: known.fileId });
  }
}
