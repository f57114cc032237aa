// npm run bench:dashboard -- [--size 1GB] [--dir DIR] [--chunk-mb 256] [--memory DIR]
//
// Time to first chart in `runlens serve`, through the dashboard's own API (in-process, no port),
// asking what the run page asks: the summary until it answers (of what is indexed so far while a
// large log is read in parts), the first charts on the screen each time a part is added, then every
// chart once the whole run is read.
//   cold:  a fresh run-index cache, the log read from scratch;
//   warm:  the server restarted on the same cache (the index is up to date: nothing is read).
// Each phase runs in a process of its own; after the cold phase the server stays up 12 s, as a
// user looking at the charts would keep it (the idle server measures the run's field catalogue
// into the index then, which the restart reads for free).
// Targets (FileTAO 1 GB, 2 cores): cold first chart <= 12 s and all charts <= 20 s; warm first
// chart <= 2 s. Peak RSS is the kernel's high-water mark of the phase's process.
//
// --dir DIR serves DIR (one run) instead of the simulated FileTAO log of --size.
// --chunk-mb N reads large logs in parts of N MB (default: the engine's, 256 MB).
// --memory DIR serves every run under DIR (cold, then warm) and opens them one after another,
// asking every chart of each: peak RSS with every run opened (target < 1 GB); --max-open N.
// --cache-dir DIR keeps the run-index cache there (its cold phase is cold only the first time).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureData } from './data.js';
import { loadAverage } from './machine.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const size = arg('--size', '1GB');
const chunkMb = arg('--chunk-mb');
const memoryDir = arg('--memory');
const keptCache = arg('--cache-dir');

const { createApp } = await import('../dist/server/index.js');
const BENCH = fileURLToPath(import.meta.url);

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
const mb = (bytes) => `${Math.round(bytes / 1e6)} MB`;
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function get(app, target) {
  const response = await app.fetch(new Request(`http://localhost${target}`), {});
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

/**
 * A chart's answer as the server sends it: the text, and what the bench needs of it. Not parsed
 * whole: the browser does that, and a heatmap of 1 024 uids parsed here would count in the
 * server's RSS.
 */
async function getChart(app, target) {
  const response = await app.fetch(new Request(`http://localhost${target}`), {});
  const text = await response.text();
  return {
    status: response.status,
    body:
      response.status === 200 ? { partial: /"partial":true/.test(text.slice(0, 300)) } : text.slice(0, 500),
  };
}

/** The request the run page makes for a chart (about 600 px of plot width). */
function chartTarget(run, chart) {
  const q = `run=${encodeURIComponent(run)}`;
  switch (chart.kind) {
    case 'line':
      return `/api/bins?${q}&metric=${encodeURIComponent(chart.metric)}&table=${chart.table}&bins=600`;
    case 'scatter':
    case 'scatter3d':
      return `/api/sample?${q}&metric=${encodeURIComponent(chart.metric)}&size=10000`;
    case 'heatmap':
      return `/api/heatmap?${q}&kind=${chart.heatmap}&bins=600`;
    case 'positions':
      return `/api/positions?${q}`;
  }
}

/** Asks `chart` until it answers (a closed run answers 202 while it reopens). */
async function chartAnswer(app, run, chart) {
  for (;;) {
    const answer = await getChart(app, chartTarget(run, chart));
    if (answer.status !== 202) return answer;
    await sleep(100);
  }
}

/**
 * One look at a run, as the page does it: returns the timeline (ms from `started`) of the first
 * summary, the first chart, each partial answer, the complete summary and all charts.
 */
async function look(app, run, started, { onScreen = 2, log = true } = {}) {
  const t = { partials: [] };
  const q = `run=${encodeURIComponent(run)}`;
  let seenVersion = -1;
  for (;;) {
    const summary = await get(app, `/api/summary?${q}`);
    if (summary.status === 200) {
      const s = summary.body;
      const seenAt = Date.now() - started;
      t.summary ??= seenAt;
      if (s.version !== seenVersion) {
        seenVersion = s.version;
        // The charts on the screen, as the page asks for them.
        for (const chart of s.charts.slice(0, onScreen)) {
          const answer = await chartAnswer(app, run, chart);
          if (answer.status !== 200)
            throw new Error(`${chart.id}: ${answer.status} ${JSON.stringify(answer.body)}`);
          t.first ??= { ms: Date.now() - started, chart: chart.id, partial: answer.body.partial };
        }
        if (s.partial) {
          const p = s.partial;
          t.partials.push({ ms: Date.now() - started, ...p });
          if (log)
            console.log(
              `    ${seconds(Date.now() - started).padStart(8)}  partial: ${p.rows.toLocaleString('en-US')} of ~${p.estimatedRows.toLocaleString('en-US')} events, ${Math.floor((100 * p.bytesRead) / p.bytesTotal)} % of the bytes read`,
            );
        }
      }
      if (!s.partial) {
        t.complete = seenAt;
        t.summaryBody = s;
        break;
      }
    } else if (summary.status !== 202)
      throw new Error(`summary: ${summary.status} ${JSON.stringify(summary.body)}`);
    await sleep(100);
  }
  t.charts = [];
  for (const chart of t.summaryBody.charts) {
    const before = Date.now();
    const answer = await chartAnswer(app, run, chart);
    t.charts.push({ id: chart.id, status: answer.status, ms: Date.now() - before });
    if (answer.status !== 200)
      console.log(`    ${chart.id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  t.all = Date.now() - started;
  return t;
}

function report(name, t, targets) {
  const s = t.summaryBody;
  console.log(
    `  ${name}: first summary ${seconds(t.summary)}, first chart (${t.first.chart}${t.first.partial ? ', partial' : ''}) ${seconds(t.first.ms)}, complete ${seconds(t.complete)}, all ${t.charts.length} charts ${seconds(t.all)}`,
  );
  console.log(
    `    run: ${s.rows.toLocaleString('en-US')} events, ${s.uidRows.toLocaleString('en-US')} uid rows, opened in ${seconds(s.indexMs)} reading ${mb(s.bytesRead ?? 0)} of the logs`,
  );
  for (const c of t.charts)
    console.log(`      ${c.id.padEnd(44)} ${String(c.status).padEnd(4)} ${String(c.ms).padStart(6)} ms`);
  for (const [label, ms, target] of targets)
    console.log(
      `    ${label.padEnd(24)} ${seconds(ms).padStart(8)}  target <= ${target} s: ${ms <= target * 1000 ? 'MET' : 'MISSED'}`,
    );
}

/** Peak RSS of this process so far (the kernel's high-water mark: spikes between samples count too). */
function peakRss() {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : peak;
}

/** Every run under --memory DIR, one after another, every chart of each. */
async function memoryPhase(phase, cache) {
  const maxOpenRuns = arg('--max-open') && Number(arg('--max-open'));
  const app = createApp({ root: memoryDir, cache, log: () => {}, ...(maxOpenRuns ? { maxOpenRuns } : {}) });
  const runs = (await get(app, '/api/runs')).body.runs;
  const started = Date.now();
  for (const run of runs) {
    const t = await look(app, run.id, Date.now(), { log: false });
    console.log(
      `  ${phase} ${run.id}: complete ${seconds(t.complete)}, ${t.charts.length} charts ${seconds(t.all)}; RSS now ${mb(process.memoryUsage.rss())}, peak ${mb(peakRss())}; open: ${app.registry.openRuns().join(', ')}`,
    );
  }
  console.log(
    `  ${phase}: ${runs.length} runs in ${seconds(Date.now() - started)}, peak RSS ${mb(peakRss())} (target < 1 GB)`,
  );
  await app.close();
}

/** One look at the run of --dir (or the simulated log): cold or warm. */
async function runPhase(phase, cache) {
  const dir = arg('--dir') ?? (await ensureData('filetao', size)).dir;
  if (phase === 'cold') console.log(`dashboard on ${dir}${arg('--dir') ? '' : ` (${size} FileTAO)`}`);
  const started = Date.now();
  const app = createApp({
    root: dir,
    cache,
    log: () => {},
    ...(chunkMb ? { chunkBytes: Number(chunkMb) * 2 ** 20 } : {}),
  });
  const run = (await get(app, '/api/runs')).body.runs[0].id;
  console.log(`  ${phase} (${phase === 'cold' ? 'a fresh cache' : 'a restart on the same cache'}):`);
  const t = await look(app, run, started);
  const targets =
    phase === 'cold'
      ? [
          ['first chart', t.first.ms, 12],
          ['all charts', t.all, 20],
        ]
      : [['first chart', t.first.ms, 2]];
  report(phase, t, targets);
  console.log(`    peak RSS ${mb(peakRss())}`);
  // A user looks at the charts a moment: the idle server measures the run's field catalogue into
  // the index (after 1 s idle), which the restart then reads for free.
  if (phase === 'cold') await sleep(12_000);
  await app.close();
}

const phase = arg('--phase');
if (phase) {
  // One phase in a process of its own, so its RSS is its own.
  await (memoryDir ? memoryPhase : runPhase)(phase, arg('--cache-dir'));
  process.exit(0);
}
console.log(`load average ${loadAverage().join(' ')}; ${os.availableParallelism()} cores`);
// --cache-dir DIR: a cache kept between runs (its "cold" phase is cold only the first time).
const cache = keptCache
  ? path.resolve(keptCache)
  : mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-cache-'));
try {
  if (!memoryDir && !arg('--dir')) await ensureData('filetao', size);
  for (const next of ['cold', 'warm']) {
    const args = process.argv
      .slice(2)
      .filter((a, i, all) => a !== '--cache-dir' && all[i - 1] !== '--cache-dir');
    const child = spawnSync(process.execPath, [BENCH, ...args, '--phase', next, '--cache-dir', cache], {
      stdio: 'inherit',
    });
    if (child.status !== 0) throw new Error(`the ${next} phase failed (exit ${child.status})`);
  }
} finally {
  clearInterval(sampler);
  if (!keptCache) rmSync(cache, { recursive: true, force: true });
}
process.exit(0);
