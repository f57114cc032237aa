#!/usr/bin/env node
process.env.TZ = process.env.TZ || 'UTC';
// Batch commands run again in a child with fewer malloc arenas (see src/cli/relaunch.ts).
const { shouldRelaunch, relaunch } = await import('../dist/cli/relaunch.js');
if (shouldRelaunch(process.argv, process.env)) {
  process.exitCode = await relaunch(process.argv, process.env);
} else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv);
}
