// Loaded with `node --import` into a CLI process: on exit, prints to stderr how many of DuckDB's
// modules the process loaded (DuckDB's packages are CommonJS, so they show in require's cache).
import { createRequire } from 'node:module';

process.on('exit', () => {
  const cache = createRequire(import.meta.url).cache;
  const loaded = Object.keys(cache).filter((key) => key.includes('@duckdb')).length;
  process.stderr.write(`duckdb modules loaded: ${loaded}\n`);
});
