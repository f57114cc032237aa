import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { compareLogPaths } from './file-order.js';
import { containerOf, type IgnoredFile, type LogFile } from './log-file.js';

export interface RunLocation {
  /** Directory (or the file itself) the run was found at. */
  root: string;
  files: LogFile[];
  /** Files under the root that are not logs, each with the reason; never skipped silently. */
  ignored: IgnoredFile[];
  /** For `--variant`: the variant name and run timestamp directory name. */
  variant?: string;
  runName?: string;
}

export interface DiscoverOptions {
  /** Pick the newest `<experimentsDir>/<variant>/<YYYYMMDD_HHMMSS>/` run. */
  variant?: string;
  experimentsDir?: string;
}

const RUN_DIR = /^\d{8}_\d{6}$/;
const SKIP_DIRS = new Set(['node_modules', '.git', 'plots', 'checkpoints', 'tensorboard', '.runlens-cache']);

/** Finds the log files of a run: a file, a directory (recursively), or the newest run of a variant. */
export function discoverRun(input: string | undefined, options: DiscoverOptions = {}): RunLocation {
  if (options.variant !== undefined) return discoverVariant(options.variant, options.experimentsDir ?? input);
  if (input === undefined)
    throw new UserError('no path given', { hint: 'pass a log file or a run directory' });
  const resolved = path.resolve(expandHome(input));
  const stat = statOrUndefined(resolved);
  if (!stat) {
    throw new UserError(`${input}: no such file or directory`, {
      hint: 'check the path; a run can be a log file, a directory of logs, or --variant NAME',
    });
  }
  if (stat.isFile()) {
    const kind = containerOf(resolved);
    const file: LogFile = {
      path: resolved,
      name: path.basename(resolved),
      container: kind?.container ?? sniffContainer(resolved),
      gzip: kind?.gzip ?? false,
      bytes: stat.size,
    };
    return { root: path.dirname(resolved), files: [file], ignored: [] };
  }
  return discoverDirectory(resolved);
}

export function discoverDirectory(root: string): RunLocation {
  const files: LogFile[] = [];
  const ignored: IgnoredFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const name = path.relative(root, full);
      if (entry.name.startsWith('.')) {
        ignored.push({ path: full, name: entry.isDirectory() ? `${name}/` : name, reason: 'hidden' });
        continue;
      }
      if (entry.isDirectory()) {
        if (SKIP_DIRS.has(entry.name))
          ignored.push({ path: full, name: `${name}/`, reason: 'not a log directory' });
        else walk(full);
        continue;
      }
      if (!entry.isFile()) continue;
      if (entry.name.endsWith('.manifest.json')) {
        ignored.push({ path: full, name, reason: 'runlens export manifest' });
        continue;
      }
      const kind = containerOf(entry.name);
      if (!kind) {
        ignored.push({
          path: full,
          name,
          reason: `not a log file (${path.extname(entry.name) || 'no extension'})`,
        });
        continue;
      }
      files.push({ path: full, name, ...kind, bytes: fs.statSync(full).size });
    }
  };
  walk(root);
  // A rotated member being compressed exists as both `.N` and `.N.gz`: read `.N` once.
  const names = new Set(files.map((f) => f.path));
  const duplicates = files.filter(
    (f) => f.gzip && /\.\d+\.gz$/i.test(f.path) && names.has(f.path.slice(0, -3)),
  );
  for (const file of duplicates) {
    ignored.push({
      path: file.path,
      name: file.name,
      reason: 'compressed copy of a rotated file being gzipped; the plain file is read',
    });
  }
  const read = files.filter((f) => !duplicates.includes(f)).sort((a, b) => compareLogPaths(a.path, b.path));
  ignored.sort((a, b) => compareLogPaths(a.path, b.path));
  return { root, files: read, ignored };
}

function discoverVariant(variant: string, experimentsDir: string | undefined): RunLocation {
  const base = path.resolve(expandHome(experimentsDir ?? 'experiments'));
  const variantDir = path.join(base, variant);
  if (!statOrUndefined(base)?.isDirectory()) {
    throw new UserError(`experiments directory not found: ${base}`, {
      hint: 'run from the directory that holds experiments/, or pass --experiments-dir DIR',
    });
  }
  if (!statOrUndefined(variantDir)?.isDirectory()) {
    const known = fs
      .readdirSync(base, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    throw new UserError(`unknown variant "${variant}" in ${base}`, {
      hint: known.length ? `variants found: ${known.join(', ')}` : 'that directory holds no variants',
    });
  }
  const runs = fs
    .readdirSync(variantDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && RUN_DIR.test(e.name))
    .map((e) => e.name)
    .sort();
  const newest = runs.at(-1);
  if (newest === undefined) {
    throw new UserError(`variant "${variant}" has no runs in ${variantDir}`, {
      hint: 'a run is a directory named YYYYMMDD_HHMMSS holding json_logs/',
    });
  }
  const location = discoverDirectory(path.join(variantDir, newest));
  return { ...location, variant, runName: newest };
}

/** A file with an unknown extension: look at its first byte. */
function sniffContainer(file: string): LogFile['container'] {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64);
    const n = fs.readSync(fd, buffer, 0, 64, 0);
    const text = buffer
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (text.startsWith('[')) return 'json';
    if (text.startsWith('{')) return 'jsonl';
    return 'csv';
  } finally {
    fs.closeSync(fd);
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}
