import { createHash } from 'node:crypto';
import { existsSync, rmSync, statSync, truncateSync } from 'node:fs';
import { UserError } from '../errors.js';
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

/**
 * The manifest of the export an incremental re-run adds to (undefined for a first export), after
 * checking the options are the same and cutting back an append that was interrupted.
 */
export function previousExport(
  output: string,
  fingerprint: Record<string, unknown>,
  format: ExportFormat,
): ExportManifest | undefined {
  const manifest = readManifest(output);
  if (manifest === undefined) {
    if (existsSync(output))
      throw new UserError(`${output} exists but has no manifest (${manifestPath(output)})`, {
        hint: 'runlens cannot tell which rows it holds: remove it or choose another output for --incremental',
      });
    return undefined;
  }
  prepareAppend(output, manifest, fingerprint, format);
  return manifest;
}

function prepareAppend(
  output: string,
  manifest: ExportManifest,
  fingerprint: Record<string, unknown>,
  format: ExportFormat,
): void {
  if (manifest.format !== format || JSON.stringify(manifest.options) !== JSON.stringify(fingerprint))
    throw new UserError(`the options differ from the ones ${output} was exported with`, {
      hint: `use the same filters and format as recorded in ${manifestPath(output)}, or export afresh to a new file`,
    });
  if (format === 'parquet') return;
  if (!existsSync(output))
    throw new UserError(`${output} is missing but its manifest exists`, {
      hint: `delete ${manifestPath(output)} to export afresh`,
    });
  const size = statSync(output).size;
  const expected = manifest.outputBytes ?? 0;
  if (size < expected)
    throw new UserError(
      `${output} is shorter (${size} bytes) than when it was last exported (${expected} bytes)`,
      {
        hint: 'it was changed by something else; export afresh',
      },
    );
  if (size > expected) truncateSync(output, expected);
}

/** The manifest after an export: what this one wrote added to what the previous ones did. */
export function nextManifest(
  output: string,
  previous: ExportManifest | undefined,
  format: ExportFormat,
  fingerprint: Record<string, unknown>,
  runs: ExportManifest['runs'],
  written: { rows: number; columns: string[] },
  target: OutputTarget,
): ExportManifest {
  const manifest: ExportManifest = {
    version: 1,
    format,
    options: fingerprint,
    rows: (previous?.rows ?? 0) + written.rows,
    runs,
    updated: new Date().toISOString(),
  };
  if (format === 'parquet') {
    manifest.parts = [...(previous?.parts ?? [])];
    if (!previous || written.rows > 0) manifest.parts.push({ path: target.path, rows: written.rows });
  } else manifest.outputBytes = statSync(output).size;
  if (format === 'csv') manifest.columns = previous?.columns?.length ? previous.columns : written.columns;
  // Runs exported before but not named this time keep their place.
  for (const run of previous?.runs ?? []) if (!runs.some((r) => r.id === run.id)) manifest.runs.push(run);
  return manifest;
}
