import type { Command } from 'commander';
import { requireRows, Run } from '../engine/run.js';
import { problemSummaryText } from './summary.js';
import { UserError } from '../errors.js';
import { formatRows } from '../report/numbers.js';
import { writeReport } from '../report/write-report.js';
import type { RegisterCommand } from './commands.js';
import { formatBytes } from '../format-bytes.js';
import { progressReporter } from './progress.js';
import { addRunOptions, openRunOptions, type RunCliOptions } from './run-options.js';

interface ReportCliOptions extends RunCliOptions {
  output: string;
  seed: number;
  maxPoints: number;
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
      ),
  ).action(async (path: string | undefined, options: ReportCliOptions) => {
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
      process.stdout.write(
        `wrote ${report.path} (${formatBytes(report.bytes)}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n  ${parts.join(' · ')}\n`,
      );
      process.stderr.write(problemSummaryText(run.ingest, options.verbose));
    } finally {
      run.close();
    }
  });
};
