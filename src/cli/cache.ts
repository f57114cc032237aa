import type { Command } from 'commander';
import { cacheLimit, cacheRoot, clearCache, listCache, type CachedRun } from '../engine/run-cache.js';
import { formatBytes } from '../format-bytes.js';
import type { RegisterCommand } from './commands.js';

interface CacheCliOptions {
  cacheDir?: string;
  json?: boolean;
}

/** `runlens cache list|clear`: the run indexes kept between commands. */
export const registerCache: RegisterCommand = (program: Command) => {
  const cache = program
    .command('cache')
    .description(
      'list or clear the run indexes kept between commands (bounded: least recently used go first)',
    );
  cache
    .command('list')
    .description('every cached run index: the run, its size, when it was last used')
    .option('--cache-dir <dir>', 'the cache (default: $RUNLENS_CACHE_DIR or $XDG_CACHE_HOME/runlens)')
    .option('--json', 'machine-readable output')
    .action((options: CacheCliOptions) => {
      const root = cacheRoot(options.cacheDir);
      const runs = listCache(root);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ root, limit: cacheLimit(), runs }, null, 2)}\n`);
        return;
      }
      process.stdout.write(formatCacheList(root, runs, cacheLimit()));
    });
  cache
    .command('clear')
    .description('remove cached run indexes: all, or those of the runs (paths) or keys given')
    .argument('[runs...]', 'run paths or cache keys (default: every run)')
    .option('--cache-dir <dir>', 'the cache (default: $RUNLENS_CACHE_DIR or $XDG_CACHE_HOME/runlens)')
    .action((runs: string[], options: CacheCliOptions) => {
      const root = cacheRoot(options.cacheDir);
      const removed = clearCache(root, runs);
      const bytes = removed.reduce((sum, r) => sum + r.bytes, 0);
      process.stdout.write(
        `removed ${removed.length} run index${removed.length === 1 ? '' : 'es'} (${formatBytes(bytes)}) from ${root}\n`,
      );
      if (runs.length && removed.length === 0)
        process.stderr.write('runlens: no cached index matched; `runlens cache list` shows them\n');
    });
};

export function formatCacheList(root: string, runs: readonly CachedRun[], limit: number): string {
  const total = runs.reduce((sum, r) => sum + r.bytes, 0);
  const lines = [
    `cache ${root}: ${runs.length} run${runs.length === 1 ? '' : 's'}, ${formatBytes(total)} of ${formatBytes(limit)}`,
  ];
  for (const r of runs)
    lines.push(
      `  ${r.key}  ${formatBytes(r.bytes).padStart(8)}  ${new Date(r.lastUsed).toISOString().slice(0, 19).replace('T', ' ')}  ${r.run}${r.pid ? `  (in use by pid ${r.pid})` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
