import type { Command } from 'commander';
import { requireRows, Run } from '../engine/run.js';
import { problemSummaryText } from './summary.js';
import { UserError } from '../errors.js';
import { formatRows } from '../report/numbers.js';
import { writeReport, type WrittenReport } from '../report/write-report.js';
import { factsOf } from '../report/run-facts.js';
import { Fleet, parseFleetTarget } from '../fleet/clickhouse.js';
import { FleetRun } from '../fleet/fleet-run.js';
import type { RegisterCommand } from './commands.js';
import { formatBytes } from '../format-bytes.js';
import { progressReporter } from './progress.js';
import { addRunOptions, openRunOptions, type RunCliOptions } from './run-options.js';

interface ReportCliOptions extends RunCliOptions {
  output: string;
  seed: number;
  maxPoints: number;
  clickhouse?: string;
  database?: string;
  cluster?: string;
  run?: string;
}

/** 3-D points above this make the page heavy (≈ 30 bytes each) and slow to rotate. */
const MAX_POINTS_LIMIT = 200_000;

function integerOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UserError(
        `${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got "${value}"`,
      );
    return n;
  };
}

export const registerReport: RegisterCommand = (program: Command) => {
  addRunOptions(
    program
      .command('report')
      .description('one self-contained offline HTML report: 3-D maps, heatmaps, zoomable lines, summary')
      .argument('[path]', 'log file or run directory')
      .option('-o, --output <file>', 'HTML file to write', 'report.html')
      .option(
        '--seed <n>',
        'seed of the reservoir sample behind the 3-D maps',
        integerOption('--seed', 0, 2 ** 31 - 1),
        0,
      )
      .option(
        '--max-points <n>',
        `sampled points in the 3-D maps, in total (at most ${MAX_POINTS_LIMIT.toLocaleString('en-US')})`,
        integerOption('--max-points', 1, MAX_POINTS_LIMIT),
        50_000,
      )
      .option(
        '--clickhouse <url>',
        'report on a run pushed to this ClickHouse fleet (with --run) instead of local logs',
      )
      .option('--database <name>', 'with --clickhouse: the database of the runlens tables (default: runlens)')
      .option('--cluster <name>', 'with --clickhouse: the cluster whose shards the URLs are')
      .option('--run <name>', 'with --clickhouse: the run to report on'),
  ).action(async (path: string | undefined, options: ReportCliOptions) => {
    if (options.clickhouse !== undefined) return reportFleetRun(path, options);
    if (options.run !== undefined)
      throw new UserError('--run names a run of a fleet: give --clickhouse URL too');
    const started = performance.now();
    const progress = progressReporter();
    const run = await Run.open(path, { ...openRunOptions(options), onProgress: progress.onProgress });
    progress.done();
    try {
      requireRows(run);
      const report = await writeReport(run, options.output, {
        seed: options.seed,
        maxPoints: options.maxPoints,
      });
      process.stdout.write(reportLine(report, started));
      process.stderr.write(problemSummaryText(run.ingest, options.verbose));
    } finally {
      run.close();
    }
  });
};

/** `report --clickhouse URL --run NAME`: the same report, its aggregates computed on the fleet. */
async function reportFleetRun(path: string | undefined, options: ReportCliOptions): Promise<void> {
  if (path !== undefined) throw new UserError(`give either a path (${path}) or --clickhouse, not both`);
  if (options.run === undefined)
    throw new UserError('report --clickhouse needs --run NAME', {
      hint: 'runlens runs --clickhouse URL lists them',
    });
  const started = performance.now();
  const fleet = new Fleet(
    parseFleetTarget(options.clickhouse!, { database: options.database, cluster: options.cluster }),
  );
  try {
    const run = await FleetRun.open(fleet, [options.run]);
    const facts = factsOf({
      name: options.run,
      root: `${fleet.query.address} · database ${fleet.target.database}`,
      summary: await run.summary(),
      files: await run.fileReports(),
    });
    const report = await writeReport(
      run,
      options.output,
      { seed: options.seed, maxPoints: options.maxPoints },
      facts,
    );
    process.stdout.write(reportLine(report, started));
  } finally {
    await fleet.close();
  }
}

function reportLine(report: WrittenReport, started: number): string {
  const m = report.model;
  const parts = [
    `${formatRows(m.facts.summary.rows)} events in ${m.facts.summary.files} file${m.facts.summary.files === 1 ? '' : 's'}`,
    m.pointClouds ? `3-D sample ${m.pointClouds.sampling}` : undefined,
    `${m.metrics.length} metric chart${m.metrics.length === 1 ? '' : 's'}`,
    m.heatmaps.length ? `${m.heatmaps.length} heatmap${m.heatmaps.length === 1 ? '' : 's'}` : undefined,
    m.rewards ? 'reward components' : undefined,
    m.positions
      ? `${m.positions.maps.length} position map${m.positions.maps.length === 1 ? '' : 's'}`
      : undefined,
    m.facts.summary.problems ? `${m.facts.summary.problems} bad lines` : undefined,
  ].filter(Boolean);
  return `wrote ${report.path} (${formatBytes(report.bytes)}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n  ${parts.join(' · ')}\n`;
}
