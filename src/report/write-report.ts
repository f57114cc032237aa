import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { QueryableRun } from '../engine/queryable.js';
import type { RunFacts } from './run-facts.js';
import { clientScript } from './client-script.js';
import { gatherReport, type ReportModel, type ReportOptions } from './gather-report.js';
import { reportPage } from './page-html.js';

let plotlyBundle: string | undefined;

/**
 * The Plotly bundle the report inlines (never links): Plotly's core with the report's traces only,
 * built from the plotly.js sources by scripts/build-plotly.js (`npm run build`) into
 * dist/plotly-report.min.js; read once.
 */
export function plotlySource(): string {
  if (plotlyBundle === undefined) {
    // Two levels below the package root both as src/report/ and as dist/report/.
    const file = fileURLToPath(new URL('../../dist/plotly-report.min.js', import.meta.url));
    if (!existsSync(file))
      throw new UserError(`the report's Plotly bundle is missing (${file})`, {
        hint: 'build runlens first: npm run build',
      });
    plotlyBundle = readFileSync(file, 'utf8');
  }
  return plotlyBundle;
}

export interface BuiltReport {
  html: string;
  model: ReportModel;
}

/** The report of a run as one self-contained HTML string (same run and seed → same bytes). */
export async function buildReport(
  run: QueryableRun,
  options: ReportOptions = {},
  facts?: RunFacts,
): Promise<BuiltReport> {
  const model = await gatherReport(run, options, facts);
  return { html: reportPage(model, { plotly: plotlySource(), client: clientScript() }), model };
}

export interface WrittenReport extends BuiltReport {
  path: string;
  bytes: number;
}

/** Builds the report and writes it to `outPath` (directories are created). */
export async function writeReport(
  run: QueryableRun,
  outPath: string,
  options: ReportOptions = {},
  facts?: RunFacts,
): Promise<WrittenReport> {
  const built = await buildReport(run, options, facts);
  const resolved = path.resolve(outPath);
  await mkdir(path.dirname(resolved), { recursive: true });
  await writeFile(resolved, built.html);
  return { ...built, path: resolved, bytes: Buffer.byteLength(built.html) };
}
