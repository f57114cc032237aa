// Where a runlens command spends its main-thread time: runs it under `node --cpu-prof` and sums
// self time per function, per source file and per package.
//   node bench/profile.js [--top N] [--keep DIR] -- inspect bench/data/filetao-100MB/events.json
// Native work shows up on the JS function that called it (e.g. a DuckDB appender method), and time
// the main thread spends waiting (for DuckDB's own threads, or for I/O) shows up as "(idle)".
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { measureChild } from './measure-child.js';
import { CLI, REPO_DIR } from './paths.js';

function parseArgs(argv) {
  const split = argv.indexOf('--');
  const own = split >= 0 ? argv.slice(0, split) : [];
  const command = split >= 0 ? argv.slice(split + 1) : argv;
  const options = { top: 15, keep: undefined, command };
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--top') options.top = Number(own[++i]);
    else if (own[i] === '--keep') options.keep = own[++i];
    else throw new Error(`unknown option ${own[i]}`);
  }
  if (command.length === 0)
    throw new Error('usage: node bench/profile.js [--top N] [--keep DIR] -- <runlens args…>');
  return options;
}

/** Where a frame's code lives: a runlens file, a package, a Node internal, or V8 itself. */
function placeOf(url) {
  if (!url) return { file: '(V8 / native)', owner: '(V8 / native)' };
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return { file: relative(REPO_DIR, path), owner: pkg[1] };
  if (path.startsWith('node:')) return { file: path, owner: 'node internals' };
  return { file: relative(REPO_DIR, path), owner: 'runlens' };
}

/**
 * Coarse stages of a runlens command, by where the code lives (first match wins). A rough map of
 * today's layout: update it when the engine moves.
 */
const STAGES = [
  [
    'JSON parsing (JSON.parse in parseJsonRecord, readers)',
    /dist\/formats\/(json-record|read-json|read-csv)/,
  ],
  ['projection scanner (dist/scan)', /dist\/scan\//],
  ['record normalising and type counting', /dist\/(formats\/normalize|engine\/(field-stats|ingest))\.js/],
  [
    'appending rows into DuckDB (table-writer, appender, vectors)',
    /dist\/engine\/table-writer|@duckdb\/node-api\/lib\/(DuckDBAppender|DuckDBDataChunk|vectors\/)/,
  ],
  ['reading DuckDB results, other DuckDB API', /@duckdb\/node-api/],
  ['main thread idle (waiting for DuckDB queries, workers or I/O)', /^\(idle\)$/],
  ['garbage collector', /^\(garbage collector\)$/],
  [
    'charts and rendering (vega, resvg, pdfkit, fonts)',
    /dist\/(render|charts|report)\/|node_modules\/(vega|d3|@resvg|pdfkit|fontkit|svg-to-pdfkit|fflate|tiny-inflate|fast-png|linebreak|restructure|unicode|brotli|dfa|@noble|iobuffer|plotly)/,
  ],
  ['module loading (startup)', /^node:internal\/(modules|deps\/cjs-module-lexer)/],
];

function stageOf(fileOrName) {
  return STAGES.find(([, pattern]) => pattern.test(fileOrName))?.[0] ?? 'other';
}

/** Self time in ms per function, file and owner, summed over every profile (one per thread). */
function summarise(profiles) {
  const byFunction = new Map();
  const byFile = new Map();
  const byOwner = new Map();
  const byStage = new Map();
  let total = 0;
  const add = (map, key, ms) => map.set(key, (map.get(key) ?? 0) + ms);
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const frame = nodes.get(id).callFrame;
      const place = placeOf(frame.url);
      const name = frame.functionName || '(anonymous)';
      const where = frame.url ? ` ${place.file}:${frame.lineNumber + 1}` : '';
      add(byFunction, `${name}${where}`, ms);
      const file = frame.url ? place.file : name.startsWith('(') ? name : place.file;
      add(byFile, file, ms);
      add(byStage, stageOf(file), ms);
      add(byOwner, frame.url ? place.owner : name.startsWith('(') ? name : place.owner, ms);
      total += ms;
    });
  }
  return { total, byFunction, byFile, byOwner, byStage };
}

function printTop(title, map, total, top) {
  console.log(`\n${title}`);
  const sorted = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, ms] of sorted) {
    console.log(
      `  ${(ms / 1000).toFixed(2).padStart(8)} s ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${key}`,
    );
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const dir = options.keep ?? mkdtempSync(join(tmpdir(), 'runlens-profile-'));
  const args = ['--cpu-prof', '--cpu-prof-dir', dir, CLI, ...options.command];
  console.log(`node ${args.map((arg) => arg.replace(`${REPO_DIR}/`, '')).join(' ')}`);
  const result = await measureChild(process.execPath, args, { cwd: REPO_DIR });
  console.log(
    `exit ${result.exitCode}, ${result.seconds.toFixed(1)} s wall, ${result.cpuSeconds.toFixed(1)} s CPU, ` +
      `peak RSS ${Math.round(result.peakRssBytes / 1e6)} MB`,
  );
  if (result.exitCode !== 0) console.log(result.stderrTail);
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  const profiles = files.map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')));
  const summary = summarise(profiles);
  console.log(`${files.length} profile(s), ${(summary.total / 1000).toFixed(1)} s sampled`);
  printTop('self time by stage (rough)', summary.byStage, summary.total, options.top);
  printTop('self time by owner', summary.byOwner, summary.total, options.top);
  printTop('self time by file', summary.byFile, summary.total, options.top);
  printTop('self time by function', summary.byFunction, summary.total, options.top);
  if (!options.keep) rmSync(dir, { recursive: true, force: true });
}

await main();
