import type { Run } from '../engine/run.js';
import { formatProblem } from '../formats/problems.js';
import { formatNumber } from './progress.js';

/**
 * The closing summary of a command that read a run, for stderr: rows, files, x range and every
 * kind of problem, with the first few bad records as file:line (all of them with --verbose).
 */
export async function runSummaryText(run: Run, verbose = false): Promise<string> {
  const s = await run.summary();
  const lines = [
    `read ${formatNumber(s.rows)} rows from ${s.files} file${s.files === 1 ? '' : 's'}; ` +
      `${s.x.label} ${formatNumber(s.x.min)} … ${formatNumber(s.x.max)}` +
      (s.x.rowsWithoutX ? ` (${formatNumber(s.x.rowsWithoutX)} rows without ${s.x.label})` : ''),
  ];
  if (s.problems > 0) {
    const byKind = new Map<string, number>();
    for (const f of run.ingest.files)
      for (const [kind, n] of Object.entries(f.problems))
        byKind.set(kind, (byKind.get(kind) ?? 0) + (n ?? 0));
    lines.push(
      `${formatNumber(s.problems)} bad record${s.problems === 1 ? '' : 's'} skipped (${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}); every good row was read`,
    );
    const shown = verbose ? run.ingest.problems : run.ingest.problems.slice(0, 3);
    for (const p of shown) lines.push(`  ${formatProblem(p)}`);
    if (s.problems > shown.length) lines.push(`  … (runlens inspect --verbose lists them)`);
  }
  return `${lines.join('\n')}\n`;
}
