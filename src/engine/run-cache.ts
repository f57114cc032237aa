import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { isAlive } from '../process-alive.js';

/**
 * Where run indexes are kept between commands: `<root>/runs/<key>/index.duckdb`, one directory per
 * run (keyed by the run's path), with `run.json` saying which run it is and when it was last used.
 * The root is `--cache-dir`, else `$RUNLENS_CACHE_DIR`, else `$XDG_CACHE_HOME/runlens`, else
 * `~/.cache/runlens`. The cache is bounded: after an index grows, the least recently used other
 * runs are removed until the whole fits the limit (`$RUNLENS_CACHE_SIZE`, default 10 GB).
 */
export interface CachedRun {
  key: string;
  dir: string;
  /** The run's path (a log file or directory). */
  run: string;
  bytes: number;
  lastUsed: number;
  created: number;
  /** Process holding the index open, when one does. */
  pid?: number;
}

interface RunMarker {
  run: string;
  created: number;
  lastUsed: number;
  pid?: number;
}

export const DEFAULT_CACHE_BYTES = 10e9;

export function cacheRoot(dir?: string): string {
  if (dir) return path.resolve(dir);
  if (process.env.RUNLENS_CACHE_DIR) return path.resolve(process.env.RUNLENS_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'runlens');
}

/** The cache's size limit in bytes (`RUNLENS_CACHE_SIZE`: a number of bytes, or 500MB, 20GB, …). */
export function cacheLimit(): number {
  const text = process.env.RUNLENS_CACHE_SIZE;
  if (!text) return DEFAULT_CACHE_BYTES;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*$/i.exec(text);
  if (!match)
    throw new UserError(`RUNLENS_CACHE_SIZE=${text} is not a size`, { hint: 'write it like 500MB or 20GB' });
  const unit = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 }[(match[2] ?? 'b').toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** The directory of a run's index (made if missing). */
export function runCacheDir(root: string, run: string): string {
  const key = crypto.createHash('sha1').update(path.resolve(run)).digest('hex').slice(0, 16);
  const dir = path.join(root, 'runs', key);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export const INDEX_FILE = 'index.duckdb';

/** Notes that this process uses the run's index now (`inUse`), or no longer. */
export function markUsed(dir: string, run: string, inUse = true): void {
  const file = path.join(dir, 'run.json');
  const old = readMarker(dir);
  const now = Date.now();
  const marker: RunMarker = {
    run: path.resolve(run),
    created: old?.created ?? now,
    lastUsed: now,
    pid: inUse ? process.pid : undefined,
  };
  fs.writeFileSync(file, `${JSON.stringify(marker, null, 2)}\n`);
}

function readMarker(dir: string): RunMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunMarker;
  } catch {
    return undefined;
  }
}

export function listCache(root: string): CachedRun[] {
  const runs = path.join(root, 'runs');
  if (!fs.existsSync(runs)) return [];
  const list: CachedRun[] = [];
  for (const key of fs.readdirSync(runs)) {
    const dir = path.join(runs, key);
    if (!fs.statSync(dir).isDirectory()) continue;
    const marker = readMarker(dir);
    list.push({
      key,
      dir,
      run: marker?.run ?? '(unknown)',
      bytes: directoryBytes(dir),
      lastUsed: marker?.lastUsed ?? fs.statSync(dir).mtimeMs,
      created: marker?.created ?? fs.statSync(dir).ctimeMs,
      pid: marker?.pid !== undefined && isAlive(marker.pid) ? marker.pid : undefined,
    });
  }
  return list.sort((a, b) => b.lastUsed - a.lastUsed);
}

/** Removes cached runs (all, or those whose run path or key is given); returns what was removed. */
export function clearCache(root: string, which?: readonly string[]): CachedRun[] {
  const targets = listCache(root).filter(
    (r) => !which?.length || which.some((w) => r.key === w || r.run === path.resolve(w)),
  );
  for (const r of targets) fs.rmSync(r.dir, { recursive: true, force: true });
  return targets;
}

/**
 * Removes the least recently used runs (not `keep`, not one another process has open) until the
 * cache fits `limit` bytes; returns what was removed.
 */
export function evict(root: string, limit: number, keep: string): CachedRun[] {
  const runs = listCache(root);
  let total = runs.reduce((sum, r) => sum + r.bytes, 0);
  const removed: CachedRun[] = [];
  for (const r of [...runs].reverse()) {
    if (total <= limit) break;
    if (r.dir === keep || r.pid !== undefined) continue;
    fs.rmSync(r.dir, { recursive: true, force: true });
    total -= r.bytes;
    removed.push(r);
  }
  return removed;
}

export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}
