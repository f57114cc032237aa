import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Run indexes made by the tests go to a cache of their own (removed by test/global-setup.ts), never
 * to the user's ~/.cache/runlens.
 */
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-test-cache-'));
process.env.RUNLENS_CACHE_DIR = cacheDir;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    globalSetup: ['test/global-setup.ts'],
    env: { TZ: 'UTC', RUNLENS_CACHE_DIR: cacheDir },
  },
});
