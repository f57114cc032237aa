// npm run bench:dashboard -- [--size 2GB]
// Time to first chart in `runlens serve`: a simulated FileTAO run is indexed through the dashboard's
// own API (in-process, no port), then every chart query of the run page is timed in the order the
// page asks for them (cheapest first). Issue target: first chart < 2 s after indexing, on 2 GB.
import { ensureData } from './data.js';
import { loadAverage } from './machine.js';

const sizeArg = process.argv.indexOf('--size');
const size = sizeArg > 0 ? process.argv[sizeArg + 1] : '2GB';

const { createApp } = await import('../dist/server/index.js');
const { dir } = await ensureData('filetao', size);
console.log(`dashboard on ${dir} (${size} FileTAO); load average ${loadAverage().join(' ')}`);
const app = createApp({ root: dir, log: () => {} });
const get = async (target) => {
  const response = await app.fetch(new Request(`http://localhost${target}`), {});
  return { status: response.status, body: await response.json() };
};

const runs = await get('/api/runs');
const id = (runs.body.runs ?? runs.body)[0].id;
const run = `run=${encodeURIComponent(id)}`;
let started = Date.now();
for (;;) {
  const summary = await get(`/api/summary?${run}`);
  if (summary.status === 200) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
console.log(`indexed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const queries = [
  ['line: step_length (per event)', `/api/bins?${run}&metric=step_length&bins=1200`],
  ['heatmap: weights', `/api/heatmap?${run}&kind=weights`],
  ['line: rewards (per uid)', `/api/bins?${run}&metric=rewards&table=uid_events&bins=1200`],
  ['scatter: rewards (reservoir)', `/api/sample?${run}&metric=rewards`],
  ['heatmap: moving-averaged scores', `/api/heatmap?${run}&kind=scores`],
];
const results = [];
for (const [name, target] of queries) {
  started = Date.now();
  const { status } = await get(target);
  results.push({ name, status, ms: Date.now() - started });
}
for (const r of results)
  console.log(`  ${r.name.padEnd(34)} ${String(r.status).padEnd(4)} ${String(r.ms).padStart(6)} ms`);
const first = results[0];
console.log(
  `first chart's data ${first.ms} ms after indexing: ${first.ms < 2000 ? 'MET' : 'MISSED'} (target < 2 s; the page then draws it)`,
);
process.exit(0);
