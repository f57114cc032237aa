// node bench/report-start.js REPORT.html [--runs 3] [--width 1600 --height 1000]
//
// How fast the offline report becomes usable in headless Chromium (the flags the browser tests
// use: WebGL through SwiftShader): time from navigation to the first 3-D map on screen (the page's
// performance mark after its first paint; reports without marks: when a poll first sees its WebGL
// canvas), to every figure in the first screen drawn, and the
// main thread's long tasks (> 50 ms) until then — the longest one is what a user feels as a
// frozen page. Targets (#27): first 3-D map ≤ 3 s, no task over 200 ms.
/* global PerformanceObserver */
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/report-start.js REPORT.html [--runs 3]');
  process.exit(2);
}
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg('--runs', 3);
const viewport = { width: arg('--width', 1600), height: arg('--height', 1000) };
// The browser tests' flags (test/helpers/chromium-flags.json).
const FLAGS = JSON.parse(
  readFileSync(new URL('../test/helpers/chromium-flags.json', import.meta.url), 'utf8'),
);

console.log(
  `report ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB), viewport ${viewport.width}×${viewport.height}`,
);
for (let run = 1; run <= runs; run++) {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'runlens-report-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push([entry.startTime, entry.duration]);
    }).observe({ type: 'longtask', buffered: true });
  });
  const started = Date.now();
  await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: 'commit' });
  // The first 3-D map drawn: a WebGL canvas inside a figure of the 3-D section. The page marks
  // each figure when it is first on screen (performance mark `runlens:drawn:ID`, after a paint);
  // the poll itself only runs when the main thread is free, so it sees it later.
  await page.waitForFunction(
    () => {
      const figure = document.querySelector('#maps-3d [data-figure]');
      return Boolean(figure && figure.querySelector('.gl-container canvas') && figure._fullLayout);
    },
    undefined,
    { timeout: 120_000, polling: 20 },
  );
  const seen = Date.now() - started;
  const marked = await page.evaluate(() => {
    const ids = [...document.querySelectorAll('#maps-3d [data-figure]')].map((el) => el.dataset.figure);
    const marks = performance
      .getEntriesByType('mark')
      .filter((m) => ids.some((id) => m.name === `runlens:drawn:${id}`));
    return marks.length ? Math.min(...marks.map((m) => m.startTime)) : null;
  });
  const first3d = marked ?? seen;
  const screen = await page.evaluate(async () => {
    const visible = [...document.querySelectorAll('[data-figure]')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.top < window.innerHeight && r.bottom > 0;
    });
    await Promise.all(visible.map((el) => window.runlensReport.rendered(el.dataset.figure)));
    return { figures: visible.length, at: performance.now() };
  });
  await page.waitForTimeout(500);
  const tasks = await page.evaluate(() => window.__longTasks);
  const until = screen.at;
  const before = tasks.filter(([start]) => start < until);
  const longest = Math.max(0, ...before.map(([, d]) => d));
  console.log(
    `  run ${run}: first 3-D map ${(first3d / 1000).toFixed(2)} s${marked === null ? ' (no mark: seen by the poll)' : ` (marked; the poll saw it at ${(seen / 1000).toFixed(2)} s)`} · first screen (${screen.figures} figures) ${(until / 1000).toFixed(2)} s · ` +
      `${before.length} long tasks, longest ${Math.round(longest)} ms, total ${Math.round(before.reduce((s, [, d]) => s + d, 0))} ms` +
      ` · [${before.map(([s, d]) => `${Math.round(s)}+${Math.round(d)}`).join(' ')}]`,
  );
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
