// The three workloads: how each is simulated, where its input files are, and the runlens command
// lines measured on it.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * simulateArgs: extra `runlens simulate` options. RL: every stats file in the nested indent=2 layout
 * (no old flat file), so the yardstick's SQL reads one schema.
 */
export const WORKLOADS = {
  filetao: {
    profile: 'filetao',
    simulateArgs: [],
    describe: 'FileTAO events.json (JSON lines, per-uid vectors)',
    locate: (dir) => single(join(dir, 'events.json')),
  },
  rl: {
    profile: 'rl',
    simulateArgs: ['--flat-files', '0'],
    describe: 'RL json_logs/stats_*.json (JSON arrays, nested, indent=2)',
    locate: (dir) => {
      const variantDir = join(dir, 'experiments', 'v4');
      const runs = readdirSync(variantDir).sort();
      const runDir = join(variantDir, runs[runs.length - 1]);
      const logDir = join(runDir, 'json_logs');
      const files = readdirSync(logDir)
        .filter((name) => name.endsWith('.json'))
        .map((name) => join(logDir, name));
      return { path: runDir, files, bytes: totalBytes(files), experimentsDir: join(dir, 'experiments') };
    },
  },
  openvalidators: {
    profile: 'openvalidators',
    simulateArgs: ['--files', 'history'],
    describe: 'OpenValidators history.jsonl (wide rows, NaN in reward vectors)',
    locate: (dir) => single(join(dir, 'history.jsonl')),
  },
};

function single(file) {
  return { path: file, files: [file], bytes: statSync(file).size };
}

function totalBytes(files) {
  return files.reduce((sum, file) => sum + statSync(file).size, 0);
}

/**
 * The runlens command lines for a workload's input; each writes into outDir/<command name>/. `cli` tells which
 * commands the built CLI has and their help text. Returns [{ name, args }] for the commands that
 * exist and [{ name, skipped }] for those that do not.
 */
export function commandLines(workloadName, input, outDir, cli) {
  const wanted = [
    { name: 'inspect', args: ['inspect', input.path] },
    { name: 'plot', args: ['plot', input.path, '--out', join(outDir, 'plot'), '--format', 'png'] },
    { name: 'report', args: ['report', input.path, '-o', join(outDir, 'report', 'report.html')] },
    { name: 'export', args: exportArgs(input.path, outDir, cli) },
  ];
  if (workloadName !== 'rl')
    wanted.push({ name: 'analyze', args: ['analyze', input.path, '--kind', 'leaderboard', '--json'] });
  if (workloadName === 'rl') {
    wanted.push({
      name: 'visualize-training',
      args: [
        'visualize-training',
        '--variant',
        'v4',
        '--experiments-dir',
        input.experimentsDir,
        '--output-dir',
        join(outDir, 'visualize-training'),
        '--format',
        'png',
      ],
    });
  }
  return wanted.map((command) =>
    cli.has(command.name)
      ? command
      : { name: command.name, skipped: `the built CLI has no "${command.name}" command` },
  );
}

/** `export --format parquet`, with whichever output option the command's help names. */
function exportArgs(path, outDir, cli) {
  const help = cli.help('export');
  const args = ['export', path, '--format', 'parquet'];
  if (/--out\b/.test(help)) return [...args, '--out', join(outDir, 'export')];
  if (/--output\b/.test(help)) return [...args, '--output', join(outDir, 'export', 'export.parquet')];
  return args;
}
