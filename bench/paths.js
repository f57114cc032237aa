// Where the benchmark's files live.
import { join, resolve } from 'node:path';

export const BENCH_DIR = new URL('.', import.meta.url).pathname;
export const REPO_DIR = resolve(BENCH_DIR, '..');
export const DATA_DIR = join(BENCH_DIR, 'data');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const CLI = join(REPO_DIR, 'bin', 'runlens.js');
