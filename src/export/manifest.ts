import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors.js';
import type { ExportFormat } from './export-options.js';

/** How many leading (decompressed) bytes identify a log file across appends and rotation. */
const HEAD_BYTES = 4096;

export interface ManifestFile {
  /** Absolute path when exported. */
  path: string;
  /** Records of the file already exported through (the next export starts at this record). */
  rows: number;
  /** SHA-256 of the first `headBytes` decompressed bytes: finds the file again after rotation. */
  head: string;
  headBytes: number;
}

/**
 * What an incremental export has written, kept beside the output as `<output>.manifest.json`.
 * A re-run exports, per file, only the records from `rows` on (the same filters apply).
 */
export interface ExportManifest {
  version: 1;
  format: ExportFormat;
  /** The options that decide which rows and columns are written; a re-run must use the same. */
  options: Record<string, unknown>;
  /** jsonl/csv: bytes of the output after the last complete export (a longer file is cut back). */
  outputBytes?: number;
  /** csv: the header, kept on every append. */
  columns?: string[];
  /** parquet: the files written, first the output itself, then one part per incremental run. */
  parts?: { path: string; rows: number }[];
  rows: number;
  runs: { id: string; files: ManifestFile[] }[];
  updated: string;
}

export function manifestPath(output: string): string {
  return `${output}.manifest.json`;
}

export function readManifest(output: string): ExportManifest | undefined {
  const path = manifestPath(output);
  if (!existsSync(path)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as ExportManifest;
    if (manifest.version !== 1 || !Array.isArray(manifest.runs)) throw new Error('unknown manifest version');
    return manifest;
  } catch (error) {
    throw new UserError(`cannot read the export manifest ${path}: ${(error as Error).message}`, {
      hint: 'delete it and the output to export afresh',
    });
  }
}

export function writeManifest(output: string, manifest: ExportManifest): void {
  const path = manifestPath(output);
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(temp, path);
}

/** SHA-256 of the first `bytes` bytes of a file's content (gunzipped for .gz). */
export async function headHash(
  path: string,
  bytes = HEAD_BYTES,
): Promise<{ head: string; headBytes: number }> {
  const hash = createHash('sha256');
  let taken = 0;
  const source = createReadStream(
    path,
    path.endsWith('.gz') ? {} : { start: 0, end: Math.max(0, bytes - 1) },
  );
  const stream = path.endsWith('.gz') ? source.pipe(createGunzip()) : source;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const part = chunk.subarray(0, bytes - taken);
      hash.update(part);
      taken += part.length;
      if (taken >= bytes) break;
    }
  } catch (error) {
    // A gzip member still being written ends early; what was read identifies it.
    if (taken === 0) throw error;
  } finally {
    source.destroy();
  }
  return { head: hash.digest('hex'), headBytes: taken };
}

/**
 * For each current file of a run, the record to start from: the file the manifest knows with the
 * same leading bytes (same path preferred, else a rotated copy), or 0 for a new file.
 */
export async function resumePoints(
  files: { fileId: number; path: string; rows: number }[],
  known: ManifestFile[],
): Promise<{ since: Map<number, number>; entries: ManifestFile[]; notes: string[] }> {
  const since = new Map<number, number>();
  const entries: ManifestFile[] = [];
  const notes: string[] = [];
  const used = new Set<ManifestFile>();
  for (const file of files) {
    const own = await headHash(file.path);
    let match: ManifestFile | undefined;
    const candidates = [...known].sort((a, b) => Number(b.path === file.path) - Number(a.path === file.path));
    for (const entry of candidates) {
      if (used.has(entry)) continue;
      const head =
        entry.headBytes === own.headBytes ? own.head : (await headHash(file.path, entry.headBytes)).head;
      if (head === entry.head) {
        match = entry;
        break;
      }
    }
    let from = 0;
    if (match) {
      used.add(match);
      if (file.rows < match.rows)
        throw new UserError(
          `${file.path} now holds ${file.rows} records, fewer than the ${match.rows} already exported from it`,
          { hint: 'the file was rewritten; export afresh (delete the output and its manifest)' },
        );
      from = match.rows;
      if (match.path !== file.path)
        notes.push(`${file.path}: recognised as ${match.path} (rotated), resuming at record ${from}`);
    } else if (known.some((k) => k.path === file.path)) {
      notes.push(`${file.path}: its first bytes changed (file replaced), exporting it from the start`);
    }
    since.set(file.fileId, from);
    entries.push({ path: file.path, rows: file.rows, ...own });
  }
  return { since, entries, notes };
}
