// npm run bench:dashboard -- [--size 1GB] [--dir DIR] [--chunk-mb 256] [--memory DIR]
//
// Time to first chart in `runlens serve`, through the dashboard's own API (in-process, no port),
// asking what the run page asks: the summary until it answers (of what is indexed so far while a
// large log is read in parts), the first charts on the screen each time a part is added, then every
// chart once the whole run is read.
//   cold:  a fresh run-index cache, the log read from scratch;
//   warm:  the server restarted on the same cache (the index is up to date: nothing is read).
// Targets (FileTAO 1 GB, 2 cores): cold first chart <= 12 s and all charts <= 20 s; warm first
// chart <= 2 s. Peak RSS is sampled every 50 ms.
//
// --dir DIR serves DIR (one run) instead of the simulated FileTAO log of --size.
// --memory DIR serves every run under DIR on one cache (cold, then warm) and opens them one after
// another, asking every chart of each: peak RSS with every run opened (target < 1 GB).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
const mb = (bytes) => `${Math.round(bytes / 1e6)} MB`;
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function get(app, target) {
  const response = await app.fetch(new Request(`http://localhost${target}`), {});
  return { status: response.status, body: await response.json().catch(() => undefined) };
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
    const answer = await get(app, chartTarget(run, chart));
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
    if (answer.status !== 200) console.log(`    ${chart.id}: ${answer.status} ${JSON.stringify(answer.body)}`);
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

console.log(`load average ${loadAverage().join(' ')}; ${os.availableParallelism()} cores`);
// --cache-dir DIR: a cache kept between runs (its "cold" phase is cold only the first time).
const cache = keptCache ? path.resolve(keptCache) : mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-cache-'));
try {
  if (memoryDir) {
    for (const phase of ['cold', 'warm']) {
      peak = 0;
      const app = createApp({ root: memoryDir, cache, log: () => {} });
      const runs = (await get(app, '/api/runs')).body.runs;
      const started = Date.now();
      for (const run of runs) {
        const t = await look(app, run.id, Date.now(), { log: false });
        console.log(
          `  ${phase} ${run.id}: complete ${seconds(t.complete)}, ${t.charts.length} charts ${seconds(t.all)}; RSS now ${mb(process.memoryUsage.rss())}, peak ${mb(peak)}; open: ${app.registry.openRuns().join(', ')}`,
        );
      }
      console.log(
        `  ${phase}: ${runs.length} runs in ${seconds(Date.now() - started)}, peak RSS ${mb(peak)} (target < 1 GB)`,
      );
      await app.close();
    }
  } else {
    const dir = arg('--dir') ?? (await ensureData('filetao', size)).dir;
    console.log(`dashboard on ${dir}${arg('--dir') ? '' : ` (${size} FileTAO)`}`);
    const options = {
      root: dir,
      cache,
      log: () => {},
      ...(chunkMb ? { chunkBytes: Number(chunkMb) * 2 ** 20 } : {}),
    };
    for (const phase of ['cold', 'warm']) {
      peak = 0;
      const started = Date.now();
      const app = createApp(options);
      const run = (await get(app, '/api/runs')).body.runs[0].id;
      console.log(`  ${phase} (${phase === 'cold' ? 'a fresh cache' : 'restarted on the same cache'}):`);
      const t = await look(app, run, started);
      report(
        phase,
        t,
        phase === 'cold'
          ? [
              ['first chart', t.first.ms, 12],
              ['all charts', t.all, 20],
            ]
          : [['first chart', t.first.ms, 2]],
      );
      console.log(`    peak RSS ${mb(peak)}`);
      await app.close();
    }
  }
} finally {
  clearInterval(sampler);
  if (!keptCache) rmSync(cache, { recursive: true, force: true });
}
process.exit(0);
