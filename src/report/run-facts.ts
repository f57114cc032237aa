import path from 'node:path';
import type { FileReport } from '../engine/run.js';
import type { Run, RunSummary } from '../engine/run.js';
import { formatProblem } from '../formats/problems.js';

export interface RunFacts {
  /** What the header calls the run: `v4/20250726_130714`, `validator/events.json`, or the directory name. */
  name: string;
  root: string;
  summary: RunSummary;
  files: FileReport[];
  /** Files beyond the cap of the files table. */
  omittedFiles: number;
  ignored: { name: string; reason: string }[];
  /** First problems with file:line (all are counted in summary.problems). */
  problems: string[];
}

/** A run's facts from their parts (a fleet's run: the name it was pushed as, its ledger's files). */
export function factsOf(parts: {
  name: string;
  root: string;
  summary: RunSummary;
  files: FileReport[];
  maxFiles?: number;
}): RunFacts {
  const maxFiles = parts.maxFiles ?? 1000;
  return {
    name: parts.name,
    root: parts.root,
    summary: parts.summary,
    files: parts.files.slice(0, maxFiles),
    omittedFiles: Math.max(0, parts.files.length - maxFiles),
    ignored: [],
    problems: [],
  };
}

/** The run's identity and counts for the header and the summary section. */
export async function runFacts(
  run: Run,
  options: { maxFiles?: number; maxProblems?: number } = {},
): Promise<RunFacts> {
  const location = run.location;
  const name =
    location.variant && location.runName
      ? `${location.variant}/${location.runName}`
      : [
          path.basename(location.root) || location.root,
          ...(location.files.length === 1 ? [location.files[0].name] : []),
        ].join('/');
  const maxFiles = options.maxFiles ?? 1000;
  return {
    name,
    root: location.root,
    summary: await run.summary(),
    files: run.ingest.files.slice(0, maxFiles),
    omittedFiles: Math.max(0, run.ingest.files.length - maxFiles),
    ignored: location.ignored.slice(0, 100).map((f) => ({ name: f.name, reason: f.reason })),
    problems: run.ingest.problems.slice(0, options.maxProblems ?? 50).map(formatProblem),
  };
}
