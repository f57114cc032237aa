// The machine and software a benchmark ran on, and how loaded the machine was.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { REPO_DIR } from './paths.js';

function cpuModel() {
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return match ? match[1].trim() : (os.cpus()[0]?.model ?? 'unknown');
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: REPO_DIR, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** os.loadavg() rounded: [1 min, 5 min, 15 min]. */
export function loadAverage() {
  return os.loadavg().map((value) => Math.round(value * 100) / 100);
}

export function machineInfo(duckdbVersion) {
  const dirty = git(['status', '--porcelain', '--', 'src']);
  return {
    nproc: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    ramGB: Math.round((os.totalmem() / 1e9) * 10) / 10,
    cpu: cpuModel(),
    node: process.version,
    duckdb: duckdbVersion,
    runlensCommit: git(['rev-parse', '--short', 'HEAD']),
    uncommittedSrcFiles: dirty ? dirty.split('\n').length : 0,
  };
}
