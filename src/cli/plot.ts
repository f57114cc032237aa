import { writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatCount } from '../charts/caption.js';
import { requireRows, Run } from '../engine/run.js';
import { UserError } from '../errors.js';
import type { ChartFormat } from '../render/chart-formats.js';
import type { VegaLiteSpec } from '../render/index.js';
import { progressReporter } from './progress.js';
import { runSummaryText } from './summary.js';
import { addRunOptions, openRunOptions, type RunCliOptions } from './run-options.js';
import { parseFormats, positiveInteger } from './option-parsers.js';
import type { RegisterCommand } from './commands.js';

export interface PlotCliOptions extends RunCliOptions {
  out?: string;
  format: ChartFormat[];
  dpi: number;
  seed: number;
  mapLayout?: string;
  clickhouse?: string;
  database?: string;
  cluster?: string;
  run?: string;
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
        .option('--out <dir>', 'output directory (default: ./plots)')
        .option(
          '--clickhouse <url>',
          'chart a run pushed to this ClickHouse fleet (with --run) instead of local logs',
        )
        .option(
          '--database <name>',
          'with --clickhouse: the database of the runlens tables (default: runlens)',
        )
        .option('--cluster <name>', 'with --clickhouse: the cluster whose shards the URLs are')
        .option('--run <name>', 'with --clickhouse: the run to chart'),
    ),
  ).action(async (path: string | undefined, options: PlotCliOptions) => {
    if (options.clickhouse !== undefined) await plotFleetRun(path, options, options.out ?? 'plots');
    else if (options.run !== undefined)
      throw new UserError('--run names a run of a fleet: give --clickhouse URL too');
    else await plotRun(path, options, options.out ?? 'plots');
  });
};

/** `plot --clickhouse URL --run NAME`: the same charts, computed on the fleet. */
async function plotFleetRun(
  path: string | undefined,
  options: PlotCliOptions,
  outDir: string,
): Promise<void> {
  if (path !== undefined) throw new UserError(`give either a path (${path}) or --clickhouse, not both`);
  if (options.run === undefined)
    throw new UserError('plot --clickhouse needs --run NAME', {
      hint: 'runlens runs --clickhouse URL lists them',
    });
  chartModules().catch(() => undefined);
  const [{ Fleet, parseFleetTarget }, { FleetRun }] = await Promise.all([
    import('../fleet/clickhouse.js'),
    import('../fleet/fleet-run.js'),
  ]);
  const fleet = new Fleet(
    parseFleetTarget(options.clickhouse!, { database: options.database, cluster: options.cluster }),
  );
  try {
    const run = await FleetRun.open(fleet, [options.run]);
    const { runCharts } = await chartModules();
    const charts = await runCharts(run, { seed: options.seed, mapLayout: options.mapLayout });
    if (!charts.length) throw new UserError(`run ${options.run}: no field it holds can be charted`);
    const x = await run.xRange();
    await writeCharts(charts, outDir, options, {
      run: options.run,
      profile: run.profile,
      rows: run.ingest.rows,
      files: run.fileCount,
      x: { label: run.x.label, min: x.min, max: x.max },
    });
  } finally {
    await fleet.close();
  }
}

/**
 * The chart builders and renderers, loaded on first use and shared. `plotRun` starts loading them
 * before it reads the run: Vega, resvg and pdfkit take ~0.4 s of the main thread, which otherwise
 * waits while DuckDB reads the run.
 */
function loadChartModules() {
  return Promise.all([import('../analysis/plot-run.js'), import('../render/index.js')]).then(
    ([run, render]) => ({
      runCharts: run.runCharts,
      renderChart: render.renderChart,
    }),
  );
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
  const progress = progressReporter();
  const run = await Run.open(path, { ...openRunOptions(options), onProgress: progress.onProgress });
  progress.done();
  try {
    requireRows(run);
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

/** Renders the charts into `outDir`, writes index.json (run facts + what was written), prints the paths. */
async function writeCharts(
  charts: { name: string; description: string; spec: VegaLiteSpec }[],
  outDir: string,
  options: PlotCliOptions,
  facts: { run: string; profile: string; rows: number; files: number; x: object },
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
    `${charts.length} charts from ${formatCount(facts.rows)} rows in ${facts.files} file${facts.files === 1 ? '' : 's'} → ${indexPath}\n`,
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
