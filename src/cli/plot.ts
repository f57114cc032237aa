import { writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { VALIDATOR_CHART_VECTORS } from '../analysis/chart-constants.js';
import { runCaption } from '../charts/caption.js';
import { scanValidatorRun } from '../scan/validator-run.js';
import { formatCount } from '../charts/caption.js';
import { Run } from '../engine/run.js';
import { UserError } from '../errors.js';
import type { ChartFormat } from '../render/chart-formats.js';
import type { VegaLiteSpec } from '../render/index.js';
import { fileProgress, progressReporter } from './progress.js';
import { closingSummaryText, runSummaryText } from './summary.js';
import { discoverRun, type RunLocation } from '../formats/discover.js';
import { formatProblem } from '../formats/problems.js';
import { scanTrainingCharts } from '../analysis/training-charts-fast.js';
import { addRunOptions, openRunOptions, type RunCliOptions } from './run-options.js';
import { parseFormats, positiveInteger } from './option-parsers.js';
import type { RegisterCommand } from './commands.js';

export interface PlotCliOptions extends RunCliOptions {
  out?: string;
  format: ChartFormat[];
  dpi: number;
  seed: number;
  mapLayout?: string;
}

export function addPlotOptions(command: Command): Command {
  return command
    .option('--format <list>', 'png, svg, pdf (comma list ok)', parseFormats, ['png'] as ChartFormat[])
    .option('--dpi <n>', 'PNG resolution', positiveInteger, 300)
    .option('--seed <n>', 'seed of the reservoir sample for point clouds', (v) => Number(v), 0)
    .option('--map-layout <file>', 'RL: region table for one global position grid');
}

export const registerPlot: RegisterCommand = (program: Command) => {
  addPlotOptions(
    addRunOptions(
      program
        .command('plot')
        .description('every chart the run supports, with an index.json of what was written')
        .argument('[path]', 'log file or run directory')
        .option('--out <dir>', 'output directory (default: ./plots)'),
    ),
  ).action(async (path: string | undefined, options: PlotCliOptions) => {
    await plotRun(path, options, options.out ?? 'plots');
  });
};

/**
 * The chart builders and renderers, loaded on first use and shared. `plotRun` starts loading them
 * before it reads the run: Vega, resvg and pdfkit take ~0.4 s of the main thread, which otherwise
 * waits for the scan workers (on two vCPUs this gains ~0.25 s on RL runs, whose scan leaves some
 * of a core free, and nothing on validator runs, whose two workers use both).
 */
function loadChartModules() {
  return Promise.all([
    import('../analysis/plot-run.js'),
    import('../analysis/plot-validator.js'),
    import('../analysis/plot-metrics.js'),
    import('../render/index.js'),
  ]).then(([run, validator, metrics, render]) => ({
    runCharts: run.runCharts,
    validatorChartsFromData: validator.validatorChartsFromData,
    metricsChartFromStats: metrics.metricsChartFromStats,
    renderChart: render.renderChart,
  }));
}

let charting: ReturnType<typeof loadChartModules> | undefined;

function chartModules(): ReturnType<typeof loadChartModules> {
  charting ??= loadChartModules();
  return charting;
}

/** Opens the run, renders every supported chart into `outDir`, writes index.json, prints the paths. */
export async function plotRun(
  path: string | undefined,
  options: PlotCliOptions,
  outDir: string,
): Promise<void> {
  // Loading starts now; a failure surfaces where the modules are awaited.
  chartModules().catch(() => undefined);
  const location = discoverRun(path, openRunOptions(options));
  if (await plotTrainingFast(location, options, outDir)) return;
  if (await plotValidatorFast(location, options, outDir)) return;
  const progress = progressReporter();
  const run = await Run.open(path, {
    ...openRunOptions(options),
    onProgress: progress.onProgress,
    perUidFields: VALIDATOR_CHART_VECTORS,
  });
  progress.done();
  try {
    if (run.ingest.rows === 0)
      throw new UserError(`${run.location.root}: no records to plot`, { hint: 'is the log empty?' });
    const { runCharts } = await chartModules();
    const charts = await runCharts(run, { seed: options.seed, mapLayout: options.mapLayout });
    if (!charts.length)
      throw new UserError(`${run.location.root}: no field this run holds can be charted`, {
        hint: 'run `runlens inspect` to see its fields',
      });
    const summary = await run.summary();
    await writeCharts(charts, outDir, options, {
      run: run.location.root,
      profile: run.profile,
      rows: summary.rows,
      files: summary.files,
      x: { label: run.x.label, min: summary.x.min, max: summary.x.max },
    });

    process.stderr.write(await runSummaryText(run, options.verbose, charts.find((c) => c.sample)?.sample));
  } finally {
    run.close();
  }
}

/**
 * RL training runs: the reward and position charts from the projection scanner, without
 * indexing every field. False when the scanner cannot answer exactly; the full path runs then.
 */
async function plotTrainingFast(
  location: RunLocation,
  options: PlotCliOptions,
  outDir: string,
): Promise<boolean> {
  const progress = fileProgress(location.files.reduce((sum, f) => sum + f.bytes, 0));
  const fast = await scanTrainingCharts(location, {
    x: options.x,
    strict: options.strict,
    mapLayout: options.mapLayout,
    onFileDone: progress.onFileDone,
  });
  progress.done();
  if (!fast) return false;
  for (const problem of fast.problems) process.stderr.write(`warning: ${formatProblem(problem)}\n`);
  const charts = [
    { name: 'rewards', description: `reward components over ${fast.xLabel}`, spec: fast.rewards.spec },
    ...(fast.positions
      ? [{ name: 'heatmap', description: 'position visits per tile', spec: fast.positions.spec }]
      : []),
    ...(fast.metrics ? [fast.metrics] : []),
  ];
  await writeCharts(charts, outDir, options, {
    run: location.root,
    profile: 'rl',
    rows: fast.entries,
    files: fast.files,
    x: { label: fast.xLabel, min: fast.xMin, max: fast.xMax },
    engine: 'projection scanner',
  });
  return true;
}

/**
 * Validator runs (FileTAO, OpenValidators): every chart from one parallel pass of the projection
 * scanner (see scanValidatorRun). False when it cannot answer as the full path would.
 */
async function plotValidatorFast(
  location: RunLocation,
  options: PlotCliOptions,
  outDir: string,
): Promise<boolean> {
  const bytes = location.files.reduce((sum, f) => sum + f.bytes, 0);
  const progress = fileProgress(bytes);
  const rangeBytes = Number(process.env.RUNLENS_RANGE_BYTES) || undefined;
  const fast = await scanValidatorRun(location, {
    x: options.x,
    strict: options.strict,
    seed: options.seed,
    rangeBytes,
    onProgress: (done) => progress.onBytes(done),
  });
  progress.done();
  if (!fast) return false;
  if (fast.records === 0)
    throw new UserError(`${location.root}: no records to plot`, { hint: 'is the log empty?' });
  const { validatorChartsFromData, metricsChartFromStats } = await chartModules();
  const charts = validatorChartsFromData(fast.data);
  const metrics = metricsChartFromStats(
    fast.metrics,
    runCaption({
      rows: fast.records,
      files: fast.files,
      xLabel: fast.x.label,
      xMin: fast.xMin,
      xMax: fast.xMax,
    }),
    fast.x.label,
    fast.metricTotal,
  );
  if (metrics) charts.push(metrics);
  if (!charts.length)
    throw new UserError(`${location.root}: no field this run holds can be charted`, {
      hint: 'run `runlens inspect` to see its fields',
    });
  await writeCharts(charts, outDir, options, {
    run: location.root,
    profile: fast.profile,
    rows: fast.records,
    files: fast.files,
    x: { label: fast.x.label, min: fast.xMin, max: fast.xMax },
    engine: 'projection scanner',
  });
  process.stderr.write(
    closingSummaryText(
      {
        rows: fast.records,
        files: fast.files,
        xLabel: fast.x.label,
        xMin: fast.xMin,
        xMax: fast.xMax,
        rowsWithoutX: fast.rowsWithoutX,
      },
      { problemCount: fast.problemCount, files: fast.fileReports, problems: fast.problems },
      options.verbose,
      charts.find((c) => c.sample)?.sample,
    ),
  );
  return true;
}

/** Renders the charts into `outDir`, writes index.json (run facts + what was written), prints the paths. */
async function writeCharts(
  charts: { name: string; description: string; spec: VegaLiteSpec }[],
  outDir: string,
  options: PlotCliOptions,
  facts: { run: string; profile: string; rows: number; files: number; x: object; engine?: string },
): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const { renderChart } = await chartModules();
  // Two charts at a time: one builds its SVG (JS, this thread) while the other's PNG is rendered on
  // a PNG worker thread. Paths are printed and indexed in chart order.
  const written = await mapConcurrently(charts, 2, (chart) =>
    renderChart(chart.spec, {
      outBase: join(outDir, chart.name),
      formats: options.format,
      dpi: options.dpi,
      title: chart.description,
    }),
  );
  const index = charts.map((chart, i) => {
    for (const f of written[i]) process.stdout.write(`wrote ${f}\n`);
    return { name: chart.name, description: chart.description, files: written[i].map((f) => resolve(f)) };
  });
  const indexPath = join(outDir, 'index.json');
  await writeFile(indexPath, `${JSON.stringify({ ...facts, charts: index }, null, 2)}\n`);
  process.stdout.write(
    `${charts.length} charts from ${formatCount(facts.rows)} rows in ${facts.files} files → ${indexPath}\n`,
  );
}

/** `work` over items with at most `limit` in flight; results in item order. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
