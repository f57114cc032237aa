import { extname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { AnalysisOptions } from '../analysis/analysis-result.js';
import { ANALYSIS_KINDS, analyzeRun } from '../analysis/analyses.js';
import type { AnalysisResult } from '../analysis/analysis-result.js';
import { analyzeFleet, FLEET_KINDS } from '../analysis/fleet-analyses.js';
import { Fleet, parseFleetTarget } from '../fleet/clickhouse.js';
import { FleetRun } from '../fleet/fleet-run.js';
import { parseNameList, parseXRange } from '../analysis/filters.js';
import { formatCsv, formatTable, resultJson } from '../analysis/result-format.js';
import { requireRows, Run } from '../engine/run.js';
import { UserError } from '../errors.js';
import { CHART_FORMATS, renderChart, type ChartFormat } from '../render/index.js';
import { problemSummaryText } from './summary.js';
import type { RegisterCommand } from './commands.js';
import { progressReporter } from './progress.js';
import { addRunOptions, openRunOptions, type RunCliOptions } from './run-options.js';
import { parseFormats, positiveInteger } from './option-parsers.js';

interface AnalyzeCliOptions extends RunCliOptions {
  kind: string;
  interval?: string;
  by?: 'uid' | 'completion';
  metric?: string;
  sort?: 'mean' | 'max' | 'count';
  top?: number;
  match?: string;
  completions?: number;
  task?: string;
  xRange?: string;
  json?: boolean;
  csv?: boolean;
  plot?: string;
  format?: ChartFormat[];
  dpi: number;
  clickhouse?: string;
  database?: string;
  cluster?: string;
  run?: string;
  runs?: string;
  all?: boolean;
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a whole number (0 = no limit).');
  return n;
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}.`);
    return value as T;
  };
}

export const registerAnalyze: RegisterCommand = (program: Command) => {
  addRunOptions(
    program
      .command('analyze')
      .description('network analyses over a validator run: table to stdout, --json, --csv, --plot')
      .argument('[path]', 'log file or run directory')
      .requiredOption(
        '--kind <kind>',
        `analysis: ${ANALYSIS_KINDS.join(', ')}; over several runs of a fleet: ${FLEET_KINDS.join(', ')}`,
        oneOf([...new Set<string>([...ANALYSIS_KINDS, ...FLEET_KINDS])]),
      )
      .option(
        '--interval <width>',
        'throughput, completion-rates, weights: 10m / 1h (of _timestamp) or a number of x units',
      )
      .option('--by <key>', 'leaderboard: uid or completion', oneOf(['uid', 'completion'] as const))
      .option(
        '--metric <field>',
        'leaderboard, completion-rates: per-uid metric (default rewards); weights: set_weights or neuron_weights',
      )
      .option(
        '--sort <stat>',
        'leaderboard: mean, max or count (default mean)',
        oneOf(['mean', 'max', 'count'] as const),
      )
      .option('--top <n>', 'rows to keep (0 = all); the default depends on the analysis', nonNegativeInteger)
      .option('--match <regex>', 'completion-rates: follow completions matching this RE2 expression')
      .option(
        '--completions <n>',
        'similarity: how many of the most frequent completions link uids (default 50)',
        positiveInteger,
      )
      .option('--task <names>', 'only these tasks (task_name / name), comma-separated')
      .option('--x-range <a:b>', 'only events with x in [a, b] (either side may be left open)')
      .option('--json', 'JSON to stdout')
      .option('--csv', 'CSV to stdout')
      .option('--plot <file>', 'also render a chart (extension or --format picks png, svg, pdf)')
      .option('--format <list>', 'chart formats for --plot: png, svg, pdf (comma list ok)', parseFormats)
      .option('--dpi <n>', 'PNG resolution', positiveInteger, 300)
      .option(
        '--clickhouse <url>',
        'analyse runs pushed to this ClickHouse fleet instead of local logs (see push)',
      )
      .option('--database <name>', 'with --clickhouse: the database of the runlens tables (default: runlens)')
      .option('--cluster <name>', 'with --clickhouse: the cluster whose shards the URLs are')
      .option('--run <name>', 'with --clickhouse: one run (the same analysis as on its logs)')
      .option('--runs <names>', 'with --clickhouse: several runs, comma-separated (fleet analyses)')
      .option('--all', 'with --clickhouse: every run of the fleet'),
  ).action(async (path: string | undefined, options: AnalyzeCliOptions) => {
    if (options.json && options.csv) throw new UserError('choose one of --json and --csv');
    const analysisOptions: AnalysisOptions = {
      interval: options.interval,
      by: options.by,
      metric: options.metric,
      sort: options.sort,
      top: options.top,
      match: options.match,
      completions: options.completions,
      task: options.task === undefined ? undefined : parseNameList(options.task),
      xRange: options.xRange === undefined ? undefined : parseXRange(options.xRange),
    };
    if (options.clickhouse !== undefined) return analyzeFleetRuns(path, options, analysisOptions);
    if (options.run !== undefined || options.runs !== undefined || options.all)
      throw new UserError('--run, --runs and --all name runs of a fleet: give --clickhouse URL too');
    const progress = progressReporter();
    const run = await Run.open(path, { ...openRunOptions(options), onProgress: progress.onProgress });
    progress.done();
    try {
      requireRows(run);
      const result = await analyzeRun(run, options.kind, analysisOptions);
      const files = run.location.files.length;
      if (options.json)
        process.stdout.write(
          `${JSON.stringify(resultJson(result, { run: run.location.root, profile: run.profile, events: run.ingest.rows, files }), null, 2)}\n`,
        );
      else if (options.csv) process.stdout.write(formatCsv(result));
      else process.stdout.write(formatTable(result));
      process.stderr.write(problemSummaryText(run.ingest, options.verbose));
      if (!result.rows.length) {
        process.stderr.write(
          `runlens: ${options.kind}: no rows — nothing in this run matched (${run.ingest.rows} events read)\n`,
        );
        return;
      }
      await plotResult(result, options);
    } finally {
      run.close();
    }
  });
};

async function plotResult(result: AnalysisResult, options: AnalyzeCliOptions): Promise<void> {
  if (options.plot === undefined || !result.chart) return;
  const { outBase, formats } = plotTarget(options.plot, options.format);
  const written = await renderChart(result.chart, {
    outBase,
    formats,
    dpi: options.dpi,
    title: result.title,
  });
  for (const file of written) process.stderr.write(`wrote ${file}\n`);
}

/** `analyze --clickhouse URL --run NAME | --runs A,B | --all`: the analysis computed on the fleet. */
async function analyzeFleetRuns(
  path: string | undefined,
  options: AnalyzeCliOptions,
  analysisOptions: AnalysisOptions,
): Promise<void> {
  if (path !== undefined)
    throw new UserError(`give either a path (${path}) or --clickhouse, not both`, {
      hint: 'push the logs first (runlens push PATH --clickhouse URL), then analyse them there',
    });
  const chosen = [options.run !== undefined, options.runs !== undefined, Boolean(options.all)].filter(
    Boolean,
  );
  if (chosen.length !== 1)
    throw new UserError('with --clickhouse, name the runs: --run NAME, --runs A,B or --all', {
      hint: 'runlens runs --clickhouse URL lists them',
    });
  const fleet = new Fleet(
    parseFleetTarget(options.clickhouse!, { database: options.database, cluster: options.cluster }),
  );
  try {
    const names = options.all
      ? 'all'
      : options.run !== undefined
        ? [options.run]
        : parseNameList(options.runs!);
    const runs = await FleetRun.open(fleet, names);
    const single = options.run !== undefined;
    const result = single
      ? await analyzeRun(runs, options.kind, analysisOptions)
      : await analyzeFleet(runs, options.kind, analysisOptions);
    const meta = {
      run: runs.names.join(','),
      profile: runs.profile,
      events: runs.ingest.rows,
      files: runs.runs.reduce((sum, r) => sum + r.files, 0),
    };
    if (options.json) process.stdout.write(`${JSON.stringify(resultJson(result, meta), null, 2)}\n`);
    else if (options.csv) process.stdout.write(formatCsv(result));
    else process.stdout.write(formatTable(result));
    if (!result.rows.length) {
      process.stderr.write(`runlens: ${options.kind}: no rows — nothing in ${meta.run} matched\n`);
      return;
    }
    await plotResult(result, options);
  } finally {
    await fleet.close();
  }
}

/** `--plot out/rates.svg` → base `out/rates`, format svg (unless --format says otherwise). */
export function plotTarget(
  plot: string,
  formats: ChartFormat[] | undefined,
): { outBase: string; formats: ChartFormat[] } {
  const ext = extname(plot).slice(1).toLowerCase();
  const known = (CHART_FORMATS as readonly string[]).includes(ext);
  const outBase = known ? plot.slice(0, -ext.length - 1) : plot;
  return { outBase, formats: formats ?? (known ? [ext as ChartFormat] : ['png']) };
}
