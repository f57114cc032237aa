import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { expandHome } from '../formats/discover.js';
import { UserError } from '../errors.js';
import type { ChartFormat } from '../render/index.js';
import { addPlotOptions, plotRun, type PlotCliOptions } from './plot.js';
import type { RegisterCommand } from './commands.js';

export const DEFAULT_FILETAO_EVENTS =
  '~/.bittensor/miners/default/validator/netuid21/core_storage_validator/events.json';

export const registerPlotEvents: RegisterCommand = (program: Command) => {
  addPlotOptions(
    program
      .command('plot-events')
      .description('plots of a FileTAO validator events.json')
      .option('--filepath <file>', 'events.json', DEFAULT_FILETAO_EVENTS)
      .option('--out <dir>', 'output directory (default: ./plots)')
      .option('--strict', 'treat any corrupt record as fatal')
      .option('--verbose', 'more detail'),
  ).action(async (options: PlotCliOptions & { filepath: string; format: ChartFormat[] }) => {
    const path = expandHome(options.filepath);
    if (!existsSync(path))
      throw new UserError(`events file not found: ${path}`, {
        hint: 'pass --filepath <events.json> (the validator writes it under ~/.bittensor/…/core_storage_validator/)',
      });
    await plotRun(path, options, options.out ?? 'plots');
  });
};
