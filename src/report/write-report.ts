import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { QueryableRun } from '../engine/queryable.js';
import type { RunFacts } from './run-facts.js';
import { clientScript } from './client-script.js';
import { gatherReport, type ReportModel, type ReportOptions } from './gather-report.js';
import { reportPage } from './page-html.js';

const require = createRequire(import.meta.url);
let plotlyBundle: string | undefined;

/** The minified Plotly bundle, read once from node_modules (it is inlined, never linked). */
export function plotlySource(): string {
  plotlyBundle ??= readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
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
