// Benchmark inputs: `runlens simulate <profile>` into bench/data/<profile>-<size>/, cached between
// runs. A marker file is written only after simulate succeeded; a directory without it (an
// interrupted run) or made with other simulate options is generated again.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureChild } from './measure-child.js';
import { CLI, DATA_DIR, REPO_DIR } from './paths.js';
const MARKER = '.bench-complete.json';

/**
 * The directory holding `simulate <profile> --size <size> <extraArgs…>`, generated unless cached.
 * Resolves with { dir, cached, marker } (marker: what simulate printed and how long it took).
 */
export async function ensureData(profile, size, extraArgs = []) {
  const dir = join(DATA_DIR, `${profile}-${size}`);
  const markerPath = join(dir, MARKER);
  const args = ['simulate', profile, '--out', dir, '--size', size, ...extraArgs];
  if (existsSync(markerPath)) {
    const marker = JSON.parse(readFileSync(markerPath, 'utf8'));
    if (JSON.stringify(marker.args) === JSON.stringify(args.slice(1))) return { dir, cached: true, marker };
    console.log(`  ${dir} was made with other options; generating it again`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(DATA_DIR, { recursive: true });
  console.log(`  generating ${profile} ${size}: runlens ${args.join(' ')}`);
  const result = await measureChild(process.execPath, [CLI, ...args], { cwd: REPO_DIR });
  if (result.exitCode !== 0) {
    throw new Error(`runlens simulate failed (exit ${result.exitCode}):\n${result.stderrTail}`);
  }
  const marker = {
    args: args.slice(1),
    seconds: result.seconds,
    output: result.stdoutTail.trim(),
    date: new Date().toISOString(),
  };
  writeFileSync(markerPath, `${JSON.stringify(marker, null, 2)}\n`);
  console.log(`  ${marker.output} (${result.seconds.toFixed(1)} s)`);
  return { dir, cached: false, marker };
}
