import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRows, Run, type FileReport } from '../engine/run.js';
import { boundedMemoryLimit, Session } from '../engine/session.js';
import { and, lit, sql } from '../engine/sql.js';
import { UserError } from '../errors.js';
import type { ReadProblem } from '../formats/problems.js';
import { trackTemp, untrackTemp } from '../temp-files.js';
import { blacklistCountQuery, readBlacklist, type PhraseCount } from './blacklist.js';
import {
  checkExportOptions,
  exportFormat,
  exportMode,
  type ExportFormat,
  type ExportMode,
  type ExportOptions,
} from './export-options.js';
import { checkColumns, MINABLE, runQuery } from './export-queries.js';
import { exportScope, type ExportScope } from './export-scope.js';
import {
  incrementalTarget,
  nextManifest,
  optionsFingerprint,
  previousExport,
  removeStaleOutputs,
} from './incremental.js';
import {
  manifestPath,
  resumePoints,
  writeManifest,
  type ExportManifest,
  type ManifestFile,
} from './manifest.js';
import { stageRows, writeOutput, type OutputPlan, type OutputTarget } from './output-writer.js';

export type { ExportFormat, ExportOptions } from './export-options.js';

export interface ExportProgress {
  /** The run being exported (its index in the paths), or `runs` while several runs' rows are written. */
  run: number;
  runs: number;
  /** DuckDB's estimate of the fraction done. */
  fraction: number;
}

export interface ExportReport {
  output: string;
  /** Every file written this time (parquet incremental runs add a part file). */
  written: string[];
  format: ExportFormat;
  mode: ExportMode;
  rows: number;
  columns: string[];
  runs: {
    id: string;
    root: string;
    files: number;
    events: number;
    exportedFrom: number;
    /** Bad input of the run (records skipped while reading it). */
    problemCount: number;
    problems: ReadProblem[];
    fileProblems: Pick<FileReport, 'problems'>[];
  }[];
  blacklist?: { phrases: PhraseCount[]; removed: number };
  incremental?: { manifest: string; previousRows: number; totalRows: number; notes: string[] };
  seconds: number;
}

/**
 * Exports one or more runs to one file. One run is written by one streaming COPY from its index,
 * in file and record order, within DuckDB's memory limit whatever its size; several runs are each
 * staged as a parquet file, then written together with a `run_id` column (the path as given).
 */
export async function exportRuns(
  paths: readonly string[],
  options: ExportOptions,
  onProgress?: (p: ExportProgress) => void,
): Promise<ExportReport> {
  const started = performance.now();
  if (!paths.length)
    throw new UserError('no run given', {
      hint: 'pass one or more log files or run directories, or --variant NAME',
    });
  const duplicate = paths.find((p, i) => paths.indexOf(p) !== i);
  if (duplicate) throw new UserError(`${duplicate} is given twice`, { hint: 'pass each run once' });
  const format = exportFormat(options.output, options.format);
  const mode = exportMode(options);
  checkExportOptions(options, format);
  const phrases = options.blacklist === undefined ? undefined : readBlacklist(options.blacklist);
  const fingerprint = optionsFingerprint(options, format, mode, phrases);
  const previous = options.incremental ? previousExport(options.output, fingerprint, format) : undefined;
  const known: ManifestFile[] = previous?.runs.flatMap((r) => r.files) ?? [];
  const target: OutputTarget = previous
    ? incrementalTarget(options.output, previous, format)
    : { path: options.output, append: false };
  const plan: OutputPlan = {
    mode,
    format,
    columns: options.columns,
    dedupe: options.dedupe,
    withScores: options.withScores,
    runIds: paths.length > 1,
  };
  const report: ExportReport = {
    output: options.output,
    written: [],
    format,
    mode,
    rows: 0,
    columns: [],
    runs: [],
    seconds: 0,
  };
  const counts = phrases?.map((phrase) => ({ phrase, matched: 0, removed: 0 }));
  const notes: string[] = [];
  const manifestRuns: ExportManifest['runs'] = [];
  const staging = paths.length > 1 ? mkdtempSync(join(tmpdir(), 'runlens-export-')) : undefined;
  if (staging) trackTemp(staging);
  let written = { rows: 0, columns: [] as string[] };
  try {
    const parts: string[] = [];
    for (let runIndex = 0; runIndex < paths.length; runIndex++) {
      const run = await Run.open(paths[runIndex], options.run);
      const progress = (fraction: number) => onProgress?.({ run: runIndex, runs: paths.length, fraction });
      try {
        requireRows(run);
        const files = run.ingest.files.map((f) => ({ fileId: f.fileId, path: f.path, rows: f.rows }));
        const resume = options.incremental ? await resumePoints(files, known) : undefined;
        if (resume) {
          notes.push(...resume.notes);
          manifestRuns.push({ id: paths[runIndex], files: resume.entries });
        }
        const since = resume?.since ?? new Map<number, number>();
        await run.session.withInsertionOrder(async () => {
          const scope = await exportScope(run, options, mode, phrases, since);
          checkColumns(scope, mode, options.columns);
          if (counts && phrases) await countBlacklist(run, scope, mode, phrases, counts);
          const context = {
            runIndex,
            runId: plan.runIds ? paths[runIndex] : undefined,
            columns: options.columns,
          };
          await run.session.run(
            sql`CREATE OR REPLACE TEMP VIEW staged AS ${runQuery(scope, mode, context)}`.text,
          );
          if (staging) {
            const part = join(staging, `run${runIndex}.parquet`);
            await explainWhere(options, () => stageRows(run.session, part, progress));
            parts.push(part);
          } else
            written = await explainWhere(options, () => writeOutput(run.session, plan, target, progress));
        });
        report.runs.push({
          id: paths[runIndex],
          root: run.location.root,
          files: run.location.files.length,
          events: run.ingest.rows,
          exportedFrom: [...since.values()].reduce((a, b) => a + b, 0),
          problemCount: run.ingest.problemCount,
          problems: run.ingest.problems,
          fileProblems: run.ingest.files.map((f) => ({ problems: f.problems })),
        });
      } finally {
        run.close();
      }
    }
    if (staging)
      written = await writeStaged(parts, plan, target, (fraction) =>
        onProgress?.({ run: paths.length, runs: paths.length, fraction }),
      );
    report.rows = written.rows;
    report.columns = written.columns;
    if (!previous || target.path !== options.output || written.rows > 0) report.written.push(target.path);
    if (!previous) removeStaleOutputs(options.output);
    if (previous && format === 'parquet' && written.rows === 0) rmSync(target.path, { force: true });
    if (options.incremental) {
      const manifest = nextManifest(
        options.output,
        previous,
        format,
        fingerprint,
        manifestRuns,
        written,
        target,
      );
      writeManifest(options.output, manifest);
      report.incremental = {
        manifest: manifestPath(options.output),
        previousRows: previous?.rows ?? 0,
        totalRows: manifest.rows,
        notes,
      };
      if (previous && format === 'parquet' && written.rows === 0) report.written = [];
    }
  } finally {
    if (staging) {
      rmSync(staging, { recursive: true, force: true });
      untrackTemp(staging);
    }
  }
  if (counts) report.blacklist = { phrases: counts, removed: counts.reduce((sum, c) => sum + c.removed, 0) };
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** Several runs' staged parts written as one output, in run order, in a session of their own. */
async function writeStaged(
  parts: readonly string[],
  plan: OutputPlan,
  target: OutputTarget,
  onProgress: (fraction: number) => void,
): Promise<{ rows: number; columns: string[] }> {
  const session = await Session.create({ memoryLimit: boundedMemoryLimit() });
  try {
    return await session.withInsertionOrder(async () => {
      await session.run(
        sql`CREATE VIEW staged AS SELECT * FROM read_parquet([${parts.map((p) => lit(p))}], union_by_name = true)`
          .text,
      );
      return writeOutput(session, plan, target, onProgress);
    });
  } finally {
    session.close();
  }
}

/** Runs export SQL; a DuckDB error caused by `--where` (e.g. a failed cast at run time) names it. */
async function explainWhere<T>(options: ExportOptions, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (options.where === undefined || error instanceof UserError) throw error;
    const message = (error as Error).message.split('\n')[0];
    throw new UserError(`while exporting with --where "${options.where}": ${message}`, {
      hint: 'check the expression against the column types (`runlens inspect` lists them)',
      cause: error,
    });
  }
}

async function countBlacklist(
  run: Run,
  scope: ExportScope,
  mode: ExportMode,
  phrases: readonly string[],
  counts: PhraseCount[],
): Promise<void> {
  const conditions = [...scope.eventLevel, ...scope.uidLevelBeforeBlacklist, sql`completions IS NOT NULL`];
  if (mode === 'mining' || mode === 'openai') conditions.push(...MINABLE);
  const relation = sql`(SELECT completions FROM export_uid_events WHERE ${and(conditions)})`;
  const row = await run.session.one<Record<string, number>>(blacklistCountQuery(phrases, relation).text);
  phrases.forEach((_, i) => {
    counts[i].matched += row?.[`m${i}`] ?? 0;
    counts[i].removed += row?.[`r${i}`] ?? 0;
  });
}
