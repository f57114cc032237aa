// Simulates a FileTAO validator run (~20 MB) and an RL training run (~30 MB) into ./demo-output/
// with the built CLI, renders their plots and the validator's offline report, and prints where
// they are and the one command that opens the live dashboard on both runs. Run: npm run demo
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'runlens.js');
const out = join(root, 'demo-output');

function runlens(...args) {
  console.log(`$ runlens ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) {
    console.error(`demo: "runlens ${args[0]}" failed (exit ${result.status})`);
    process.exit(result.status ?? 1);
  }
}

if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('demo: dist/ is missing — run "npm run build" first (npm run demo does it)');
  process.exit(1);
}
// The runs under runs/ (what the dashboard serves), plots and the report beside it.
const runs = join(out, 'runs');
const validator = join(runs, 'filetao');
const training = join(runs, 'rl');
runlens('simulate', 'filetao', '--out', validator, '--size', '20MB', '--seed', '1');
runlens(
  'simulate',
  'rl',
  '--out',
  training,
  '--size',
  '30MB',
  '--seed',
  '1',
  '--records-per-file',
  '2048',
  '--envs',
  '8',
);
runlens('plot', join(validator, 'events.json'), '--out', join(out, 'filetao-plots'), '--format', 'png,svg');
runlens(
  'visualize-training',
  '--variant',
  'v4',
  '--experiments-dir',
  join(training, 'experiments'),
  '--output-dir',
  join(out, 'rl-plots'),
  '--format',
  'png,pdf',
);
const mapLayout = join(root, 'data', 'pokemon-red-map_data.json');
if (existsSync(mapLayout))
  runlens(
    'visualize-training',
    '--variant',
    'v4',
    '--experiments-dir',
    join(training, 'experiments'),
    '--output-dir',
    join(out, 'rl-plots-world'),
    '--map-layout',
    mapLayout,
  );
const report = join(out, 'filetao-report.html');
runlens('report', join(validator, 'events.json'), '--output', report);
const dashboard = `node ${relative(process.cwd(), cli)} serve ${relative(process.cwd(), runs)}`;
console.log(
  [
    '',
    'demo:',
    `  validator plots:  ${join(out, 'filetao-plots')} (index.json lists them)`,
    `  training plots:   ${join(out, 'rl-plots')}`,
    `  offline report:   ${report} (open it in a browser; it needs no network)`,
    '',
    'live dashboard on both demo runs:',
    `  ${dashboard}`,
  ].join('\n'),
);
