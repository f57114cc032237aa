import fs from 'node:fs';
import path from 'node:path';
import { containerOf } from '../formats/log-file.js';
import type { Profile } from './api-types.js';
import { guessProfile } from './profile-guess.js';

/** A run found under the served directory, before it is opened. */
export interface CatalogEntry {
  /** Path relative to the served directory, with "/" separators; "." for the directory itself. */
  id: string;
  /** Absolute path handed to `Run.open` (a file or a directory). */
  path: string;
  kind: 'file' | 'directory';
  files: number;
  bytes: number;
  modified: number;
  profile: Profile;
}

const RUN_DIR = /^\d{8}_\d{6}$/;
const SKIP_DIRS = new Set(['node_modules', 'plots', 'checkpoints', 'tensorboard', '.runlens-cache']);
const MAX_DEPTH = 8;
const MAX_ENTRIES = 50_000;

/**
 * Finds the runs under `root`:
 * - a directory named `YYYYMMDD_HHMMSS` or holding `json_logs/` (an RL training run) is one run;
 * - a directory whose logs are one log with its rotated members (`events.json`, `events.json.1`, …)
 *   or one numbered series (`stats_<n>.json`, `part-3.jsonl`), and with no logs further down, is one run;
 * - otherwise each log file directly in a directory is a run of its own.
 * Symbolic links are never followed and hidden directories are not entered, so nothing outside
 * `root` is ever listed. `root` may itself be a log file (one run).
 */
export function discoverRuns(root: string): CatalogEntry[] {
  const top = fs.statSync(root);
  if (top.isFile()) return [fileEntry(root, path.basename(root), top)];
  const runs: CatalogEntry[] = [];
  let seen = 0;
  const visit = (dir: string, depth: number): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    seen += entries.length;
    const logs = entries.filter((e) => e.isFile() && containerOf(e.name) !== undefined).map((e) => e.name);
    const dirs = entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !SKIP_DIRS.has(e.name))
      .map((e) => e.name)
      .sort();
    const id = relativeId(root, dir);
    if (RUN_DIR.test(path.basename(dir)) || dirs.includes('json_logs')) {
      const entry = directoryEntry(dir, id);
      if (entry.files > 0) runs.push(entry);
      return entry.files > 0;
    }
    let logsBelow = false;
    if (depth < MAX_DEPTH && seen < MAX_ENTRIES)
      for (const name of dirs) logsBelow = visit(path.join(dir, name), depth + 1) || logsBelow;
    if (!logs.length) return logsBelow;
    const families = new Set(logs.map(familyOf));
    if (!logsBelow && families.size === 1) {
      runs.push(directoryEntry(dir, id));
    } else {
      for (const name of logs.sort()) {
        const file = path.join(dir, name);
        const stat = fs.statSync(file, { throwIfNoEntry: false });
        if (stat) runs.push(fileEntry(file, relativeId(root, file), stat));
      }
    }
    return true;
  };
  visit(root, 0);
  return runs.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/** `events.json.2.gz` → `events.json`; `stats_final_1690.json` → `stats_#.json`; `part-3.jsonl` → `part-#.jsonl`. */
export function familyOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/\.gz$/, '')
    .replace(/\.\d+$/, '')
    .replace(/_final(?=_\d)/, '')
    .replace(/\d+/g, '#');
}

function relativeId(root: string, target: string): string {
  const rel = path.relative(root, target);
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}

function fileEntry(file: string, id: string, stat: fs.Stats): CatalogEntry {
  return {
    id,
    path: file,
    kind: 'file',
    files: 1,
    bytes: stat.size,
    modified: stat.mtimeMs,
    profile: guessProfile([file]),
  };
}

/** Mirrors what `Run.open` reads from a directory: every log below it, symlinks not followed. */
function directoryEntry(dir: string, id: string): CatalogEntry {
  const files: string[] = [];
  let bytes = 0;
  let modified = 0;
  const walk = (d: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH && !SKIP_DIRS.has(e.name)) walk(full, depth + 1);
      } else if (e.isFile() && containerOf(e.name)) {
        const stat = fs.statSync(full, { throwIfNoEntry: false });
        if (!stat) continue;
        files.push(full);
        bytes += stat.size;
        modified = Math.max(modified, stat.mtimeMs);
      }
    }
  };
  walk(dir, 0);
  return {
    id,
    path: dir,
    kind: 'directory',
    files: files.length,
    bytes,
    modified,
    profile: guessProfile(files.sort()),
  };
}
