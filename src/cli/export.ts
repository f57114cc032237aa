import path from 'node:path';
import type { Command } from 'commander';
import { parseNameList, parseUidList, parseXRange } from '../analysis/filters.js';
import { formatCount } from '../charts/caption.js';
import { UserError } from '../errors.js';
import { exportRuns, type ExportReport } from '../export/export-runs.js';
import { discoverRun } from '../formats/discover.js';
import { problemSummaryText } from './summary.js';
import type { ExportOptions } from '../export/export-options.js';
import type { RegisterCommand } from './commands.js';
import { progressReporter } from './progress.js';

interface ExportCliOptions {
  output: string;
  format?: string;
  explode?: boolean;
  where?: string;
  task?: string;
  uids?: string;
  xRange?: string;
  minReward?: string;
  columns?: string;
  dedupe?: boolean;
  mining?: boolean;
  withScores?: boolean;
  openai?: boolean;
  blacklist?: string;
  incremental?: boolean;
  json?: boolean;
  x?: string;
  strict?: boolean;
  verbose?: boolean;
  variant?: string;
  experimentsDir?: string;
  cacheDir?: string;
  cache?: boolean;
}

export const registerExport: RegisterCommand = (program: Command) => {
  program
    .command('export')
    .description('write a dataset (JSONL, CSV, Parquet) from one or more runs, filtered, streamed')
    .argument('[paths...]', 'log files or run directories (several → a run_id column)')
    .option(
      '--variant <names>',
      'also the newest experiments/<name>/<YYYYMMDD_HHMMSS>/ run of each variant (comma-separated)',
    )
    .option('--experiments-dir <dir>', 'where variants live (default: ./experiments)')
    .requiredOption(
      '-o, --output <file>',
      'output file; the extension picks the format (.jsonl, .csv, .parquet)',
    )
    .option('--format <format>', 'jsonl, csv or parquet (overrides the extension)')
    .option('--explode', 'one row per (event, uid) instead of one per event')
    .option('--where <sql>', 'keep rows where this DuckDB SQL expression holds (over the normalised columns)')
    .option('--task <names>', 'only these tasks (task_name / name), comma-separated')
    .option('--uids <list>', 'only these uids, e.g. 1,2,3')
    .option('--x-range <a:b>', 'only events with x in [a, b] (either side may be left open)')
    .option('--min-reward <r>', 'only (event, uid) rows with a finite reward ≥ r')
    .option('--columns <list>', 'keep only these output columns, in this order')
    .option('--dedupe', 'drop rows equal in every exported column (the first is kept; run_id not compared)')
    .option('--mining', 'mining dataset: each prompt with its highest-reward completion')
    .option('--with-scores', "with --mining: add the chosen completion's reward and uid")
    .option('--openai', 'chat fine-tuning JSONL: {"messages": [user prompt, assistant best completion]}')
    .option(
      '--blacklist <file>',
      'drop completions containing any phrase of this file (one per line, case-insensitive)',
    )
    .option('--incremental', 'add only rows not exported before (manifest: <output>.manifest.json)')
    .option('--json', 'print the export report as JSON')
    .option('--x <field>', 'x axis field for --x-range (default: detected)')
    .option('--strict', 'treat any corrupt record as fatal')
    .option('--cache-dir <dir>', 'where run indexes are kept (default: $XDG_CACHE_HOME/runlens)')
    .option('--no-cache', 'read the runs into temporary indexes, neither using nor keeping cached ones')
    .option('--verbose', 'more detail')
    .action(async (given: string[], options: ExportCliOptions) => {
      // A variant's run is exported as the directory it resolves to (its run_id with several runs).
      const variants = options.variant === undefined ? [] : parseNameList(options.variant);
      const paths = [
        ...given,
        ...variants.map(
          (variant) =>
            path.relative(
              process.cwd(),
              discoverRun(undefined, { variant, experimentsDir: options.experimentsDir }).root,
            ) || '.',
        ),
      ];
      const progress = progressReporter();
      const exportOptions: ExportOptions = {
        output: options.output,
        format: options.format as ExportOptions['format'],
        explode: options.explode,
        where: options.where,
        task: options.task === undefined ? undefined : parseNameList(options.task),
        uids: options.uids === undefined ? undefined : parseUidList(options.uids),
        xRange: options.xRange === undefined ? undefined : parseXRange(options.xRange),
        minReward: options.minReward === undefined ? undefined : parseReward(options.minReward),
        columns: options.columns === undefined ? undefined : parseNameList(options.columns),
        dedupe: options.dedupe,
        mining: options.mining,
        withScores: options.withScores,
        openai: options.openai,
        blacklist: options.blacklist,
        incremental: options.incremental,
        run: {
          x: options.x,
          strict: options.strict,
          onProgress: progress.onProgress,
          cache: options.cache === false ? false : options.cacheDir,
        },
      };
      const report = await exportRuns(paths, exportOptions, (p) => {
        progress.done();
        if (process.stderr.isTTY)
          process.stderr.write(
            `\r\x1b[Kexport: ${p.run < p.runs ? `run ${p.run + 1}/${p.runs}` : 'writing'} · ${Math.round(p.fraction * 100)} %`,
          );
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      progress.done();
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      for (const run of report.runs) {
        const text = problemSummaryText(
          { problemCount: run.problemCount, problems: run.problems, files: run.fileProblems },
          options.verbose,
        );
        if (text) process.stderr.write(report.runs.length > 1 ? `${run.id}: ${text}` : text);
      }
      if (report.rows === 0)
        process.stderr.write(
          report.incremental && report.incremental.previousRows > 0
            ? 'runlens: export: no new rows since the last export\n'
            : 'runlens: export: no rows matched — the output holds no rows (check the filters)\n',
        );
    });
};

function parseReward(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UserError(`--min-reward "${text}" is not a number`, { hint: 'e.g. --min-reward 0.5' });
  return value;
}

const MODE_LABEL = {
  events: 'per event',
  'uid-rows': 'per (event, uid)',
  mining: 'mining: prompt → best completion',
  openai: 'OpenAI chat format',
};

/** The human summary: rows, runs, where it went, what the blacklist removed, the incremental state. */
export function formatReport(report: ExportReport): string {
  const files = report.runs.reduce((sum, r) => sum + r.files, 0);
  const out = [
    `exported ${formatCount(report.rows)} rows (${MODE_LABEL[report.mode]}) from ${report.runs.length} run${report.runs.length === 1 ? '' : 's'}, ` +
      `${files} file${files === 1 ? '' : 's'} → ${report.written.join(', ') || report.output} (${report.format}, ${report.columns.length} columns) in ${report.seconds.toFixed(1)} s`,
  ];
  if (report.blacklist) {
    out.push(`blacklist: ${formatCount(report.blacklist.removed)} completions removed`);
    const width = Math.max(...report.blacklist.phrases.map((p) => JSON.stringify(p.phrase).length));
    for (const p of report.blacklist.phrases)
      out.push(
        `  ${JSON.stringify(p.phrase).padEnd(width)}  ${formatCount(p.removed)} removed (${formatCount(p.matched)} contain it)`,
      );
  }
  if (report.incremental) {
    const i = report.incremental;
    out.push(
      `incremental: ${formatCount(report.rows)} new rows, ${formatCount(i.totalRows)} in total (manifest ${i.manifest})`,
    );
    for (const note of i.notes) out.push(`  ${note}`);
  }
  return `${out.join('\n')}\n`;
}
