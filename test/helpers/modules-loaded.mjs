// Loaded with `node --import` into a CLI process: on exit, prints to stderr how many of resvg's
// and of DuckDB's modules the process loaded (both packages are CommonJS, so they show in
// require's cache; resvg stands for the renderers, which load it with Vega and pdfkit).
import { createRequire } from 'node:module';

process.on('exit', () => {
  const cache = Object.keys(createRequire(import.meta.url).cache);
  const count = (name) => cache.filter((key) => key.includes(name)).length;
  process.stderr.write(`resvg modules loaded: ${count('@resvg')}\n`);
  process.stderr.write(`duckdb modules loaded: ${count('@duckdb')}\n`);
});
