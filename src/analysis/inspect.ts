import type { FieldStat } from '../engine/field-catalog.js';
import { directoryBytes } from '../engine/run-cache.js';
import type { FileReport, Run, RunSummary } from '../engine/run.js';
import type { IgnoredFile } from '../formats/log-file.js';
import type { ReadProblem } from '../formats/problems.js';

export interface RunInspection {
  root: string;
  /** Where the run's index is kept and what this look read of the logs. */
  index: { cache: string | undefined; bytes: number | undefined; bytesRead: number; rowsRead: number };
  summary: RunSummary;
  files: Omit<FileReport, 'path'>[];
  ignored: IgnoredFile[];
  fields: FieldStat[];
  problems: ReadProblem[];
  typeConflicts: Record<string, number>;
}

/** Everything `runlens inspect` shows, as data. */
export async function inspectRun(run: Run): Promise<RunInspection> {
  // Every record's members, not only those of the records the columns were declared from.
  await run.checkMembers();
  const catalog = await run.fieldCatalog();
  return {
    root: run.location.root,
    index: {
      cache: run.cacheDir,
      bytes: run.cacheDir === undefined ? undefined : directoryBytes(run.cacheDir),
      bytesRead: run.lastChange.bytesRead,
      rowsRead: run.lastChange.newRows,
    },
    summary: await run.summary(),
    files: run.ingest.files.map(({ path: _path, ...rest }) => rest),
    ignored: run.location.ignored,
    fields: catalog.fields,
    problems: run.ingest.problems,
    typeConflicts: Object.fromEntries(catalog.conflicts),
  };
}
