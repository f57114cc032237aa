import type { Command } from 'commander';
import { inspectRun, type RunInspection } from '../analysis/inspect.js';
import { describeTypes } from '../engine/field-catalog.js';
import { requireRows, Run } from '../engine/run.js';
import { formatProblem } from '../formats/problems.js';
import { formatBytes } from '../format-bytes.js';
import { formatNumber, progressReporter } from './progress.js';
import { addRunOptions, openRunOptions, type RunCliOptions } from './run-options.js';

export function registerInspect(program: Command): void {
  addRunOptions(
    program
      .command('inspect')
      .description('show what a run holds: profile, files, fields, x range, uids, bad lines')
      .argument('[path]', 'log file or run directory')
      .option('--json', 'machine-readable output'),
  ).action(async (path: string | undefined, options: RunCliOptions & { json?: boolean }) => {
    const progress = progressReporter();
    const run = await Run.open(path, { ...openRunOptions(options), onProgress: progress.onProgress });
    progress.done();
    try {
      // A run with no rows is one line of why (its --json still lists every file), and exit 1.
      if (run.ingest.rows === 0 && !options.json) requireRows(run);
      const inspection = await inspectRun(run);
      process.stdout.write(
        options.json
          ? `${JSON.stringify(inspection, null, 2)}\n`
          : formatInspection(inspection, options.verbose),
      );
      requireRows(run);
    } finally {
      run.close();
    }
  });
}

export function formatInspection(r: RunInspection, verbose = false): string {
  const out: string[] = [];
  const s = r.summary;
  out.push(`run      ${r.root}`);
  out.push(`profile  ${s.profile}`);
  out.push(
    `rows     ${formatNumber(s.rows)} events in ${s.files} file${s.files === 1 ? '' : 's'} (${formatBytes(s.bytes)})`,
  );
  if (s.uidRows)
    out.push(
      `         ${formatNumber(s.uidRows)} per-uid rows, ${formatNumber(s.uidIndexedRows)} uid-indexed values`,
    );
  out.push(`x axis   ${s.x.label} — ${s.x.reason}`);
  out.push(
    `x range  ${formatNumber(s.x.min)} … ${formatNumber(s.x.max)}` +
      (s.x.rowsWithoutX ? ` (${formatNumber(s.x.rowsWithoutX)} rows without ${s.x.label})` : ''),
  );
  out.push(`uids     ${formatNumber(s.uids)}`);
  const index = r.index;
  out.push(
    `index    ${index.cache ? `${index.cache} (${formatBytes(index.bytes ?? 0)})` : 'temporary (--no-cache)'}; this look read ${formatBytes(index.bytesRead)} of the logs`,
  );
  out.push(`problems ${s.problems === 0 ? 'none' : `${formatNumber(s.problems)} (${describeProblems(r)})`}`);
  out.push('', 'files');
  const width = Math.max(4, ...r.files.map((f) => f.name.length));
  for (const f of r.files) {
    const problems = Object.entries(f.problems)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ');
    out.push(
      `  ${f.name.padEnd(width)}  ${formatNumber(f.rows).padStart(10)} rows  ${formatBytes(f.bytes).padStart(8)}  ${f.profile.padEnd(14)} ${f.status}${problems ? `: ${problems}` : ''}`,
    );
  }
  if (r.ignored.length) {
    out.push('', 'not read');
    for (const f of r.ignored) out.push(`  ${f.name} — ${f.reason}`);
  }
  for (const [role, title] of [
    ['scalar', 'fields (one value per event)'],
    ['per-uid', 'per-uid vectors (aligned with uids)'],
    ['uid-indexed', 'vectors indexed by uid'],
    ['unstored', 'seen, not charted (lists not aligned with uids)'],
  ] as const) {
    const fields = r.fields.filter((f) => f.role === role);
    if (!fields.length) continue;
    out.push('', title);
    const w = Math.max(...fields.map((f) => f.path.length));
    for (const f of fields)
      out.push(
        `  ${f.path.padEnd(w)}  ${describeTypes(f.types).padEnd(18)} in ${formatNumber(f.events)} events`,
      );
  }
  if (r.problems.length) {
    out.push('', 'problems');
    const shown = verbose ? r.problems : r.problems.slice(0, 20);
    for (const p of shown) out.push(`  ${formatProblem(p)}`);
    if (s.problems > shown.length)
      out.push(
        `  … ${formatNumber(s.problems - shown.length)} more${verbose ? '' : ' (--verbose or --json for more)'}`,
      );
  }
  return `${out.join('\n')}\n`;
}

function describeProblems(r: RunInspection): string {
  const byKind = new Map<string, number>();
  for (const f of r.files)
    for (const [kind, n] of Object.entries(f.problems) as [string, number][])
      byKind.set(kind, (byKind.get(kind) ?? 0) + n);
  return [...byKind].map(([kind, n]) => `${n} ${kind}`).join(', ');
}
