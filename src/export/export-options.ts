import { extname } from 'node:path';
import type { XRange } from '../analysis/filters.js';
import type { OpenRunOptions } from '../engine/run.js';
import { UserError } from '../errors.js';

export const EXPORT_FORMATS = ['jsonl', 'csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What one exported row is: an event (per-uid vectors as lists), an (event, uid) pair, or a preset. */
export type ExportMode = 'events' | 'uid-rows' | 'mining' | 'openai';

export interface ExportOptions {
  output: string;
  format?: ExportFormat;
  /** One row per (event, uid) instead of per event. */
  explode?: boolean;
  /** A DuckDB SQL expression over the normalised columns. */
  where?: string;
  task?: string[];
  uids?: number[];
  xRange?: XRange;
  minReward?: number;
  /** Output columns to keep, in this order (events / per-uid rows). */
  columns?: string[];
  dedupe?: boolean;
  /** prompt → its highest-reward completion. */
  mining?: boolean;
  /** With --mining: add the chosen completion's reward (from `rewards`) and uid. */
  withScores?: boolean;
  /** Chat fine-tuning JSONL: {"messages": [user prompt, assistant completion]} (best completion per prompt). */
  openai?: boolean;
  /** File of phrases (one per line); completions containing one (case-insensitive) are removed. */
  blacklist?: string;
  /** Add only rows not exported before (manifest beside the output). */
  incremental?: boolean;
  /** Options for opening each run (strict, x, progress, cache). */
  run?: OpenRunOptions;
}

const EXTENSIONS: Record<string, ExportFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

/** The format from `--format` or the output's extension. */
export function exportFormat(output: string, format?: string): ExportFormat {
  if (format !== undefined) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(format))
      throw new UserError(`unknown export format "${format}"`, {
        hint: `choose ${EXPORT_FORMATS.join(', ')}`,
      });
    return format as ExportFormat;
  }
  const byExtension = EXTENSIONS[extname(output).toLowerCase()];
  if (byExtension === undefined)
    throw new UserError(`cannot tell the format of "${output}" from its extension`, {
      hint: 'name it .jsonl, .csv or .parquet, or pass --format jsonl|csv|parquet',
    });
  return byExtension;
}

export function exportMode(options: ExportOptions): ExportMode {
  return options.openai ? 'openai' : options.mining ? 'mining' : options.explode ? 'uid-rows' : 'events';
}

/** Rejects combinations that cannot mean anything, before any run is read. */
export function checkExportOptions(options: ExportOptions, format: ExportFormat): void {
  const fail = (message: string, hint: string) => {
    throw new UserError(message, { hint });
  };
  if (options.mining && options.openai) fail('--mining and --openai are two different presets', 'choose one');
  if (options.openai && format !== 'jsonl')
    fail(`--openai writes chat-format JSONL, not ${format}`, 'name the output .jsonl (or --format jsonl)');
  if (options.withScores && !options.mining) fail('--with-scores only applies to --mining', 'add --mining');
  if ((options.mining || options.openai) && options.explode)
    fail('--explode does not apply to --mining / --openai', 'they already pick one completion per prompt');
  if ((options.mining || options.openai) && options.columns)
    fail('--columns does not apply to --mining / --openai', 'their columns are fixed');
  if (options.incremental && (options.dedupe || options.mining || options.openai))
    fail(
      '--incremental cannot be combined with --dedupe, --mining or --openai',
      'those compare every row with every other, so appending new rows alone could repeat or contradict earlier ones; export afresh instead',
    );
}
