import type { FileReport } from '../engine/run.js';
import type { Run } from '../engine/run.js';
import { formatProblem, type ReadProblem } from '../formats/problems.js';
import { formatNumber } from './progress.js';

/** What a read run says about its bad input. */
export interface ProblemFacts {
  problemCount: number;
  files: Pick<FileReport, 'problems'>[];
  problems: ReadProblem[];
}

/**
 * Bad input, for stderr: how many records were skipped by kind, the first few as file:line (all
 * with --verbose). Empty when the input was clean.
 */
export function problemSummaryText(facts: ProblemFacts, verbose = false): string {
  if (facts.problemCount === 0) return '';
  const byKind = new Map<string, number>();
  for (const f of facts.files)
    for (const [kind, n] of Object.entries(f.problems) as [string, number][])
      byKind.set(kind, (byKind.get(kind) ?? 0) + n);
  const n = facts.problemCount;
  const lines = [
    `${formatNumber(n)} bad record${n === 1 ? '' : 's'} skipped (${[...byKind].map(([k, c]) => `${c} ${k}`).join(', ')}); every good row was read`,
  ];
  const shown = verbose ? facts.problems : facts.problems.slice(0, 3);
  for (const p of shown) lines.push(`  ${formatProblem(p)}`);
  if (n > shown.length) lines.push('  … (runlens inspect --verbose lists them)');
  return `${lines.join('\n')}\n`;
}

/**
 * The closing summary of a command that read a run, for stderr: rows, files, x range and every
 * kind of problem, with the first few bad records as file:line (all of them with --verbose).
 */
export async function runSummaryText(
  run: Run,
  verbose = false,
  sample?: { size: number; population: number; seed: number },
): Promise<string> {
  const s = await run.summary();
  return closingSummaryText(
    {
      rows: s.rows,
      files: s.files,
      xLabel: s.x.label,
      xMin: s.x.min,
      xMax: s.x.max,
      rowsWithoutX: s.x.rowsWithoutX,
    },
    run.ingest,
    verbose,
    sample,
  );
}

/** runSummaryText from plain facts (the projection scanner has no indexed run). */
export function closingSummaryText(
  s: {
    rows: number;
    files: number;
    xLabel: string;
    xMin: number | null;
    xMax: number | null;
    rowsWithoutX: number;
  },
  problems: ProblemFacts,
  verbose = false,
  sample?: { size: number; population: number; seed: number },
): string {
  const sampled = sample
    ? `\npoint clouds: a seeded uniform sample of ${formatNumber(sample.size)} of ${formatNumber(sample.population)} uid rows (${((sample.size / Math.max(1, sample.population)) * 100).toPrecision(3)} %, seed ${sample.seed})`
    : '';
  const head =
    `read ${formatNumber(s.rows)} rows from ${s.files} file${s.files === 1 ? '' : 's'}; ` +
    `${s.xLabel} ${formatNumber(s.xMin)} … ${formatNumber(s.xMax)}` +
    (s.rowsWithoutX ? ` (${formatNumber(s.rowsWithoutX)} rows without ${s.xLabel})` : '');
  return `${head}${sampled}\n${problemSummaryText(problems, verbose)}`;
}
