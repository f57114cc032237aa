import { readdirSync, renameSync, unlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RotatedCompressor } from './rotated-compressor.js';

/**
 * Size-based rotation, logrotate style: when the live file would pass `maxBytes`, `events.json`
 * becomes `events.json.1`, the old `.1` becomes `.2`, and so on; `.N.gz` when gzip is on. The higher
 * the number, the older the file; the live file is the newest. `keep` rotated files are retained.
 */
export interface RotateOptions {
  maxBytes: number;
  keep: number;
  gzip?: boolean;
}

export interface RotatedFile {
  path: string;
  index: number;
  gzip: boolean;
}

export function rotatedPath(path: string, index: number, gzip: boolean): string {
  return `${path}.${index}${gzip ? '.gz' : ''}`;
}

function rotatedPattern(path: string): RegExp {
  const escaped = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}\\.([1-9][0-9]*)(\\.gz)?$`);
}

function parseRotated(path: string, names: string[]): RotatedFile[] {
  const pattern = rotatedPattern(path);
  const files: RotatedFile[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match)
      files.push({ path: join(dirname(path), name), index: Number(match[1]), gzip: match[2] !== undefined });
  }
  return files;
}

/** Every rotated file of `path` on disk (both `.N` and `.N.gz` when both exist), unordered. */
export function scanRotated(path: string): RotatedFile[] {
  return parseRotated(path, readdirSync(dirname(path)));
}

/**
 * The files holding the log at `path`, oldest first: `.K(.gz)` … `.2(.gz)`, `.1(.gz)`, then the live
 * file (if it exists). When both `.N` and `.N.gz` exist (compression just finished, or was cut short
 * by a crash), the uncompressed `.N` is listed: it is the complete original.
 */
export async function listRotatedSet(path: string): Promise<string[]> {
  const names = await readdir(dirname(path));
  const byIndex = new Map<number, RotatedFile>();
  for (const file of parseRotated(path, names)) {
    const seen = byIndex.get(file.index);
    if (!seen || (seen.gzip && !file.gzip)) byIndex.set(file.index, file);
  }
  const ordered = [...byIndex.values()].sort((a, b) => b.index - a.index).map((file) => file.path);
  if (names.includes(basename(path))) ordered.push(path);
  return ordered;
}

/**
 * Rotates synchronously: drops the files that fall out of retention, shifts `.N` → `.N+1`, renames the
 * live file to `.1` (or deletes it when keep is 0) and, with a compressor, starts compressing `.1`.
 */
export function rotateFiles(
  path: string,
  options: RotateOptions,
  compressor: RotatedCompressor | undefined,
): void {
  const keep = Math.max(0, Math.floor(options.keep));
  const existing = scanRotated(path).sort((a, b) => b.index - a.index);
  for (const file of existing) if (file.index >= keep) unlinkIfPresent(file.path);
  compressor?.forgetFrom(keep);
  for (const file of existing) {
    if (file.index < keep) renameSync(file.path, rotatedPath(path, file.index + 1, file.gzip));
  }
  compressor?.shift();
  if (keep === 0) {
    unlinkIfPresent(path);
    return;
  }
  renameSync(path, rotatedPath(path, 1, false));
  compressor?.compress(1);
}

export function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
