// node bench/report-start.js REPORT.html [--runs 3] [--width 1600 --height 1000]
//
// How fast the offline report becomes usable in headless Chromium (the flags the browser tests
// use: WebGL through SwiftShader): time from navigation to the first 3-D map on screen (the page's
// performance mark after its first paint; reports without marks: when a poll first sees its WebGL
// canvas), to every figure in the first screen drawn, and the main thread's long tasks (> 50 ms):
// until the first screen is drawn, and over the whole start — until every figure the page draws
// by itself (those within its look-ahead margin) is drawn and Plotly is loaded, plus a quiet
// second. The longest one is what a user feels as a frozen page. Targets (#27): first 3-D map
// ≤ 3 s, no task over 200 ms. Then the long tasks of scrolling on to the heatmaps and, where the
// 3-D map is a preview, of making it interactive (a click on its hint until Plotly's scene is drawn).
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
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const summary = (tasks) =>
  `${tasks.length} long tasks, longest ${Math.round(Math.max(0, ...tasks.map(([, d]) => d)))} ms`;

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
  // The first 3-D map drawn: its mark (`runlens:drawn:ID`, set after a paint), or in a report
  // without marks a WebGL canvas inside a figure of the 3-D section. The poll itself only runs
  // when the main thread is free, so it sees the map later than the mark.
  await page.waitForFunction(
    () => {
      const figure = document.querySelector('#maps-3d [data-figure]');
      if (!figure) return false;
      const marked = performance.getEntriesByName(`runlens:drawn:${figure.dataset.figure}`).length > 0;
      return marked || Boolean(figure.querySelector('.gl-container canvas') && figure._fullLayout);
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
  // The whole start: every figure the page began drawing by itself is drawn and Plotly is there.
  const start = await page.evaluate(async () => {
    const began = () =>
      [...document.querySelectorAll('[data-figure]')]
        .map((el) => window.runlensReport.rendered(el.dataset.figure))
        .filter(Boolean);
    await Promise.all(began());
    while (!window.Plotly) await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all(began());
    return { figures: began().length, at: performance.now() };
  });
  await page.waitForTimeout(1000);
  const tasks = await page.evaluate(() => window.__longTasks);
  const beforeScreen = tasks.filter(([s]) => s < screen.at);
  const inStart = tasks.filter(([s]) => s < start.at + 1000);
  console.log(
    `  run ${run}: first 3-D map ${seconds(first3d)}${marked === null ? ' (no mark: seen by the poll)' : ` (marked; the poll saw it at ${seconds(seen)})`}` +
      ` · first screen (${screen.figures} figures) ${seconds(screen.at)}: ${summary(beforeScreen)}` +
      ` · whole start (${start.figures} figures, Plotly loaded) ${seconds(start.at)}: ${summary(inStart)}` +
      ` · [${inStart.map(([s, d]) => `${Math.round(s)}+${Math.round(d)}`).join(' ')}]`,
  );
  // Scrolling on to the heatmaps (beyond the look-ahead margin of the first screen): the tasks of
  // drawing them and the figures near them.
  if (await page.locator('#heatmaps [data-figure]').count()) {
    const scrolled = await page.evaluate(() => performance.now());
    await page.locator('#heatmaps').scrollIntoViewIfNeeded();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#heatmaps [data-figure]')].every(
          (el) =>
            performance.getEntriesByName(`runlens:drawn:${el.dataset.figure}`).length > 0 || el._fullLayout,
        ),
      undefined,
      { timeout: 120_000, polling: 50 },
    );
    await page.waitForTimeout(1000);
    const during = (await page.evaluate(() => window.__longTasks)).filter(([s]) => s >= scrolled);
    console.log(
      `         scroll to the heatmaps: ${summary(during)} · [${during.map(([s, d]) => `${Math.round(s - scrolled)}+${Math.round(d)}`).join(' ')}]`,
    );
    await page.locator('#maps-3d').scrollIntoViewIfNeeded();
  }
  // Making the first 3-D map interactive, where it is a preview.
  const hint = page.locator('#maps-3d [data-figure] .scene-hint').first();
  if (await hint.count()) {
    const id = await hint.evaluate((el) => el.closest('[data-figure]').dataset.figure);
    const clicked = await page.evaluate(() => performance.now());
    await hint.click();
    await page.waitForFunction(
      (figure) => performance.getEntriesByName(`runlens:interactive:${figure}`).length > 0,
      id,
      { timeout: 120_000 },
    );
    const ready = await page.evaluate((figure) => {
      return performance.getEntriesByName(`runlens:interactive:${figure}`)[0].startTime;
    }, id);
    await page.waitForTimeout(1000);
    const after = (await page.evaluate(() => window.__longTasks)).filter(([s]) => s >= clicked);
    console.log(
      `         click → interactive ${id}: ${seconds(ready - clicked)}, then ${summary(after)} · [${after.map(([s, d]) => `${Math.round(s - clicked)}+${Math.round(d)}`).join(' ')}]`,
    );
  }
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
