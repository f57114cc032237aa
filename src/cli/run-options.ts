import type { Command } from 'commander';
import type { OpenRunOptions } from '../engine/run.js';

/** Options every command that reads a run shares. */
export function addRunOptions(command: Command): Command {
  return command
    .option('--variant <name>', 'use the newest experiments/<name>/<YYYYMMDD_HHMMSS>/ run')
    .option('--experiments-dir <dir>', 'where variants live (default: ./experiments)')
    .option('--x <field>', 'x axis field (default: detected; "ordinal" for row order)')
    .option('--strict', 'treat any corrupt record as fatal')
    .option('--verbose', 'more detail');
}

export interface RunCliOptions {
  variant?: string;
  experimentsDir?: string;
  x?: string;
  strict?: boolean;
  verbose?: boolean;
}

export function openRunOptions(options: RunCliOptions): OpenRunOptions {
  return {
    variant: options.variant,
    experimentsDir: options.experimentsDir,
    x: options.x,
    strict: options.strict,
    onParallelNote: options.verbose ? writeParallelNote : undefined,
  };
}

/** With --verbose: how a parallel index went when it did not simply merge its parts. */
export function writeParallelNote(note: string): void {
  process.stderr.write(`runlens: indexing: ${note}\n`);
}
