import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ExportFormat, ExportMode, ExportOptions } from './export-options.js';
import { manifestPath, readManifest, type ExportManifest } from './manifest.js';
import type { OutputTarget } from './output-writer.js';

/** The options that decide which rows and columns an export writes; a re-run must match them. */
export function optionsFingerprint(
  options: ExportOptions,
  format: ExportFormat,
  mode: ExportMode,
  phrases: readonly string[] | undefined,
): Record<string, unknown> {
  return {
    mode,
    format,
    where: options.where ?? null,
    task: options.task ?? null,
    uids: options.uids ?? null,
    xRange: options.xRange ?? null,
    x: options.run?.x ?? null,
    minReward: options.minReward ?? null,
    columns: options.columns ?? null,
    blacklist: phrases ? createHash('sha256').update(phrases.join('\n')).digest('hex') : null,
  };
}

/** `data.parquet` → `data-part-0002.parquet` (the n-th incremental part beside it). */
export function partPath(output: string, n: number): string {
  const base = output.replace(/\.(parquet|pq)$/i, '');
  return `${base}-part-${String(n).padStart(4, '0')}.parquet`;
}

/**
 * Where an incremental re-run writes: JSONL and CSV append to the output (CSV keeps the first
 * header); parquet files cannot be appended to, so each re-run adds a part file beside it.
 */
export function incrementalTarget(
  output: string,
  previous: ExportManifest,
  format: ExportFormat,
): OutputTarget {
  if (format === 'parquet') return { path: partPath(output, previous.parts?.length ?? 1), append: false };
  return { path: output, append: true, header: format === 'csv' ? previous.columns : undefined };
}

/** After a full (non-incremental) export over an incremental one: its manifest and parts no longer apply. */
export function removeStaleOutputs(output: string): void {
  let manifest: ExportManifest | undefined;
  try {
    manifest = readManifest(output);
  } catch {
    manifest = undefined;
  }
  if (!existsSync(manifestPath(output))) return;
  for (const part of manifest?.parts ?? [])
    if (resolve(part.path) !== resolve(output)) rmSync(part.path, { force: true });
  rmSync(manifestPath(output), { force: true });
}
