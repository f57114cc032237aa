import fs from 'node:fs';

/** Removes the tests' run-index cache (vitest.config.ts sets RUNLENS_CACHE_DIR) after the run. */
export default function setup(): () => void {
  const dir = process.env.RUNLENS_CACHE_DIR;
  return () => {
    if (dir && dir.includes('runlens-test-cache-')) fs.rmSync(dir, { recursive: true, force: true });
  };
}
