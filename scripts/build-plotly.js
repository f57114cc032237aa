// Builds the Plotly bundle the offline report inlines (run by `npm run build`): Plotly's core with
// only the traces the report draws (scatter, which the core has, scatter3d and heatmap), from the
// plotly.js sources. 1.7 MB instead of the full 4.8 MB bundle: the browser evaluates it in about a
// third of the time (BENCHMARKS.md, "The report's start"). The same plotly.js and esbuild (the
// lock file) give the same bytes, so a report stays byte-identical for the same run and seed.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Read by src/report/write-report.ts (plotlySource) at this path.
const REPORT_PLOTLY = join(root, 'dist', 'plotly-report.min.js');

const entry = `
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/scatter3d'), require('plotly.js/lib/heatmap')]);
module.exports = Plotly;
`;

mkdirSync(dirname(REPORT_PLOTLY), { recursive: true });
await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: 'plotly-report.js' },
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'Plotly',
  // Browserify-era modules of plotly.js refer to `global`.
  define: { global: 'window' },
  legalComments: 'eof',
  outfile: REPORT_PLOTLY,
  logLevel: 'warning',
});
