import { InvalidArgumentError, type Command } from 'commander';
import {
  simulate,
  simulateProfiles,
  type SimulateOptions,
  type SimulateProgress,
} from '../simulate/index.js';
import { formatBytes } from '../format-bytes.js';
import type { RegisterCommand } from './commands.js';

interface SimulateCliOptions {
  out: string;
  size: string;
  seed: number;
  uids?: number;
  files?: 'completions' | 'history' | 'both';
  variant?: string;
  recordsPerFile?: number;
  envs?: number;
  flatFiles?: number;
  episodeLength?: number;
  csv?: boolean;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer.');
  return n;
}

export const registerSimulate: RegisterCommand = (program: Command) => {
  program
    .command('simulate')
    .description('write realistic synthetic logs (streamed, deterministic per seed) for tests and benchmarks')
    .argument('<profile>', `what to simulate: ${simulateProfiles.join(', ')}`)
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .option(
      '--size <size>',
      'total size to write, e.g. 500KB, 100MB, 1.5GB (decimal; KiB/MiB/GiB binary)',
      '100MB',
    )
    .option('--seed <n>', 'random seed; same seed and options give identical files', integer, 1)
    .option(
      '--uids <n>',
      'filetao: miners (default 256); openvalidators: network size (default 1024)',
      integer,
    )
    .option('--files <which>', 'openvalidators: completions, history or both (default both)')
    .option('--variant <name>', 'rl: experiment variant (default v4)')
    .option('--records-per-file <n>', 'rl: records per stats file (default 65536)', integer)
    .option('--envs <n>', 'rl: parallel environments (default 32)', integer)
    .option('--flat-files <n>', 'rl: leading files in the old flat format (default 1)', integer)
    .option(
      '--episode-length <n>',
      'rl: steps per episode (default: whole files, about 8+ episodes per run)',
      integer,
    )
    .option('--csv', 'generic: also write metrics.csv')
    .action(async (profile: string, options: SimulateCliOptions) => {
      const progress = progressLine();
      const simulateOptions: SimulateOptions = {
        out: options.out,
        size: options.size,
        seed: options.seed,
        files: options.files,
        variant: options.variant,
        recordsPerFile: options.recordsPerFile,
        envs: options.envs,
        flatFiles: options.flatFiles,
        episodeLength: options.episodeLength,
        csv: options.csv,
        onProgress: progress.update,
      };
      if (profile === 'openvalidators') simulateOptions.neurons = options.uids;
      else simulateOptions.uids = options.uids;
      const started = performance.now();
      try {
        const result = await simulate(profile, simulateOptions);
        progress.done();
        const seconds = (performance.now() - started) / 1000;
        const dataFiles = result.files.length;
        process.stdout.write(
          `simulated ${result.profile}: ${dataFiles} file${dataFiles === 1 ? '' : 's'}, ` +
            `${formatBytes(result.bytes)} (${result.bytes.toLocaleString('en-US')} bytes), ` +
            `${result.records.toLocaleString('en-US')} records in ${seconds.toFixed(1)} s → ${result.out}\n`,
        );
      } finally {
        progress.done();
      }
    });
};

/** A one-line progress display on stderr, only when stderr is a terminal. */
function progressLine(stream: NodeJS.WriteStream = process.stderr): {
  update?: (p: SimulateProgress) => void;
  done(): void;
} {
  if (!stream.isTTY) return { done() {} };
  const start = performance.now();
  let drawn = false;
  return {
    update(p) {
      const seconds = (performance.now() - start) / 1000;
      const rate = seconds > 0 ? p.bytes / seconds : 0;
      const percent = Math.min(100, (100 * p.bytes) / p.targetBytes);
      const line =
        `simulate ${p.profile} · ${formatBytes(p.bytes)}/${formatBytes(p.targetBytes)} (${percent.toFixed(0)}%)` +
        ` · ${p.files} file${p.files === 1 ? '' : 's'} · ${p.records.toLocaleString('en-US')} records · ${formatBytes(rate)}/s`;
      stream.write(`\r\x1b[K${line.slice(0, (stream.columns ?? 120) - 1)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
