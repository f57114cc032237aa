// Builds the Plotly bundle the offline report inlines (run by `npm run build`): Plotly's core with
// only the traces the report draws (scatter, which the core has, scatter3d and heatmap), from the
// plotly.js sources. 1.7 MB instead of the full 4.8 MB bundle: the browser evaluates it in about a
// third of the time (BENCHMARKS.md, "The report's start"). The same plotly.js and esbuild (the
// lock file) give the same bytes, so a report stays byte-identical for the same run and seed.
import { build } from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
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

// gl-shader (inside plotly.js's stackgl bundle) makes its error type's prototype with `new Error`
// while the bundle loads. Capturing that stack makes V8 re-parse every function on it — the
// megabyte-long bundle and stackgl wrappers — for source positions, on the main thread: most of
// the bundle's evaluation time. A prototype made without constructing an Error is the same type.
const GL_ERROR = 'GLError.prototype = new Error\n';
const glErrorPrototype = {
  name: 'gl-error-prototype',
  setup(build) {
    build.onLoad({ filter: /[\\/]plotly\.js[\\/]stackgl_modules[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (source.split(GL_ERROR).length !== 2)
        throw new Error(`${args.path}: expected "${GL_ERROR.trim()}" once (plotly.js changed?)`);
      return {
        contents: source.replace(GL_ERROR, 'GLError.prototype = Object.create(Error.prototype)\n'),
        loader: 'js',
      };
    });
  },
};

mkdirSync(dirname(REPORT_PLOTLY), { recursive: true });
await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: 'plotly-report.js' },
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'Plotly',
  // Browserify-era modules of plotly.js refer to `global`.
  define: { global: 'window' },
  // V8's compile hint: compile every function of the bundle eagerly, which for a script loaded
  // from a URL happens off the main thread while it streams; lazily, each function the first
  // Plotly call runs would be compiled on the main thread.
  banner: { js: '//# allFunctionsCalledOnLoad' },
  legalComments: 'eof',
  plugins: [glErrorPrototype],
  outfile: REPORT_PLOTLY,
  logLevel: 'warning',
});
