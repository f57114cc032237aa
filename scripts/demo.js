// Simulates a FileTAO validator run (~20 MB) and an RL training run (~30 MB) into ./demo-output/
// with the built CLI, renders their plots and prints where they are. Run: npm run demo
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
const validator = join(out, 'filetao');
const training = join(out, 'rl');
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
console.log(
  `\ndemo plots:\n  validator: ${join(out, 'filetao-plots')} (index.json lists them)\n  training:  ${join(out, 'rl-plots')}`,
);
