import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { positionChart, rewardChart, type RewardChart } from '../analysis/plot-training.js';
import { formatCount } from '../charts/caption.js';
import { SMOOTHING_METHODS, type SmoothingMethod } from '../charts/smoothing.js';
import { requireRows, Run } from '../engine/run.js';
import { UserError } from '../errors.js';
import { renderChart, type ChartFormat, type VegaLiteSpec } from '../render/index.js';
import { parseFormats, positiveInteger } from './option-parsers.js';
import { progressReporter } from './progress.js';
import type { RegisterCommand } from './commands.js';

interface VisualizeTrainingOptions {
  variant?: string;
  experimentsDir?: string;
  outputDir?: string;
  format: ChartFormat[];
  smoothWindow?: number;
  smooth: SmoothingMethod;
  dpi: number;
  mapLayout?: string;
  x?: string;
  strict?: boolean;
  verbose?: boolean;
  cacheDir?: string;
  cache?: boolean;
}

function smoothingMethod(value: string): SmoothingMethod {
  if (!(SMOOTHING_METHODS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${SMOOTHING_METHODS.join(', ')}.`);
  return value as SmoothingMethod;
}

export const registerVisualizeTraining: RegisterCommand = (program: Command) => {
  program
    .command('visualize-training')
    .description('reward components and position heatmap of the newest run of an RL experiment variant')
    .requiredOption('--variant <name>', 'experiment variant: experiments/<name>/<YYYYMMDD_HHMMSS>/')
    .option('--experiments-dir <dir>', 'where variants live (default: ./experiments)')
    .option('--output-dir <dir>', 'where plots go (default: <run>/plots)')
    .option('--format <list>', 'png, svg, pdf (comma list ok)', parseFormats, ['png'] as ChartFormat[])
    .option(
      '--smooth-window <n>',
      'smoothing window in bins (default adapts to the number of points)',
      positiveInteger,
    )
    .option('--smooth <method>', `smoothing: ${SMOOTHING_METHODS.join(', ')}`, smoothingMethod, 'ema')
    .option('--dpi <n>', 'PNG resolution', positiveInteger, 300)
    .option('--map-layout <file>', 'region table (pokemon-red-map_data.json) for one global position grid')
    .option('--x <field>', 'x axis field (default: total_steps when present)')
    .option('--strict', 'treat any corrupt record as fatal')
    .option('--cache-dir <dir>', 'where run indexes are kept (default: $XDG_CACHE_HOME/runlens)')
    .option('--no-cache', 'read the run into a temporary index, neither using nor keeping a cached one')
    .option('--verbose', 'more detail')
    .action(async (options: VisualizeTrainingOptions) => {
      const progress = progressReporter();
      const run = await Run.open(undefined, {
        variant: options.variant,
        experimentsDir: options.experimentsDir,
        x: options.x,
        strict: options.strict,
        onProgress: progress.onProgress,
        cache: options.cache === false ? false : options.cacheDir,
      });
      progress.done();
      try {
        requireRows(run);
        await writeTrainingCharts(await fullTrainingCharts(run, options), options);
      } finally {
        run.close();
      }
    });
};

interface TrainingCharts {
  root: string;
  runName: string | undefined;
  entries: number;
  files: number;
  xLabel: string;
  rewards: RewardChart;
  positions: { spec: VegaLiteSpec; unknownMaps: number[] } | undefined;
}

async function fullTrainingCharts(run: Run, options: VisualizeTrainingOptions): Promise<TrainingCharts> {
  const where = run.location.root;
  if (run.ingest.rows === 0)
    throw new UserError(`run ${where} holds no records (${run.location.files.length} files read)`, {
      hint: 'check that the run has written json_logs/stats_*.json files',
    });
  if (run.x.column === 'step')
    throw new UserError(`run ${where}: no training-step field (total_steps) to plot rewards over`, {
      hint: 'the per-episode "step" resets every episode; pass --x <field> with a global step field',
    });
  const rewards = await rewardChart(run, {
    smoothing: { method: options.smooth, window: options.smoothWindow },
  });
  if (!rewards)
    throw new UserError(`run ${where} has no reward fields (rewards.total / rewards.components.*)`, {
      hint: 'old flat-format logs carry no rewards; only runs with the nested format can be plotted',
    });
  return {
    root: where,
    runName: run.location.runName,
    entries: run.ingest.rows,
    files: run.location.files.length,
    xLabel: run.x.label,
    rewards,
    positions: await positionChart(run, { mapLayout: options.mapLayout }),
  };
}

async function writeTrainingCharts(charts: TrainingCharts, options: VisualizeTrainingOptions): Promise<void> {
  const { rewards, positions } = charts;
  const outDir = options.outputDir ?? join(charts.root, 'plots');
  const stamp = charts.runName ?? 'run';
  const base = join(outDir, `${options.variant}_${stamp}`);
  const render = { formats: options.format, dpi: options.dpi };
  const written = await renderChart(rewards.spec, {
    ...render,
    outBase: `${base}_rewards`,
    title: 'Rewards',
  });
  if (positions)
    written.push(
      ...(await renderChart(positions.spec, { ...render, outBase: `${base}_heatmap`, title: 'Positions' })),
    );
  const out = process.stdout;
  out.write(`processed ${formatCount(charts.entries)} entries from ${charts.files} files\n`);
  out.write(
    `rewards: ${formatCount(rewards.rows)} entries in ${rewards.files} files, ${charts.xLabel} ${formatCount(rewards.xMin)} … ${formatCount(rewards.xMax)}\n`,
  );
  if (!positions) out.write('no position fields: heatmap skipped\n');
  if (positions?.unknownMaps.length)
    out.write(`unknown map ids (not drawn): ${positions.unknownMaps.join(', ')}\n`);
  for (const path of written) out.write(`wrote ${path}\n`);
}
