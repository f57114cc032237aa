import type { Command } from 'commander';
import type { OpenRunOptions } from '../engine/run.js';

/** Options every command that reads a run shares. */
export function addRunOptions(command: Command): Command {
  return command
    .option('--variant <name>', 'use the newest experiments/<name>/<YYYYMMDD_HHMMSS>/ run')
    .option('--experiments-dir <dir>', 'where variants live (default: ./experiments)')
    .option('--x <field>', 'x axis field (default: detected; "ordinal" for row order)')
    .option('--strict', 'treat any corrupt record as fatal')
    .option('--cache-dir <dir>', 'where run indexes are kept (default: $XDG_CACHE_HOME/runlens)')
    .option('--no-cache', 'read the run into a temporary index, neither using nor keeping a cached one')
    .option('--verbose', 'more detail');
}

export interface RunCliOptions {
  variant?: string;
  experimentsDir?: string;
  x?: string;
  strict?: boolean;
  verbose?: boolean;
  cacheDir?: string;
  /** false with --no-cache (commander's negation). */
  cache?: boolean;
}

export function openRunOptions(options: RunCliOptions): OpenRunOptions {
  return {
    variant: options.variant,
    experimentsDir: options.experimentsDir,
    x: options.x,
    strict: options.strict,
    cache: options.cache === false ? false : options.cacheDir,
  };
}
