import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Run } from '../src/engine/run.js';
import { writeReport } from '../src/report/write-report.js';
import { simulate } from '../src/simulate/index.js';
import { launchChromium, skipWithoutChromium } from './helpers/chromium.js';
import { readPixels } from './helpers/images.js';
import { tempDir } from './helpers/temp.js';

/**
 * The report's start (#27): the first screen's 3-D maps are still previews drawn by the page
 * itself — no WebGL scene, no Plotly evaluated, until they are drawn — and touching a map makes
 * it Plotly's interactive one. How long it all takes is measured by bench/report-start.js, not here.
 */
const SCREENSHOTS = process.env.RUNLENS_SCREENSHOT_DIR ?? join(os.tmpdir(), 'runlens-report-screenshots');
const MAPS = ['cloud-rewards', 'cloud-completion-times'];
const work = tempDir('runlens-report-start-');
const html = join(work, 'report.html');

beforeAll(async () => {
  // 10 MB of FileTAO events: ~150 k uid rows, so the maps hold the default 50 000 sampled points.
  const dir = join(work, 'run');
  await simulate('filetao', { out: dir, size: '10MB', seed: 11 });
  const run = await Run.open(dir);
  try {
    const written = await writeReport(run, html);
    expect(written.model.pointClouds?.sampling).toMatch(/^50,000 of /);
  } finally {
    run.close();
  }
}, 120_000);

describe.skipIf(skipWithoutChromium)('report start in Chromium', () => {
  let context: BrowserContext;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    context = await launchChromium({ viewport: { width: 1400, height: 900 } });
    await context.route('**', (route) =>
      route.request().url().startsWith('file:') ? route.continue() : route.abort(),
    );
    // Every WebGL context asked for and every script the page adds to its head (Plotly), with
    // the time it happened.
    await context.addInitScript(() => {
      const w = window as any;
      w.__webgl = [] as number[];
      w.__scripts = [] as number[];
      const getContext = HTMLCanvasElement.prototype.getContext as (...args: unknown[]) => unknown;
      (HTMLCanvasElement.prototype as any).getContext = function (
        this: HTMLCanvasElement,
        ...args: unknown[]
      ) {
        if (/webgl/.test(String(args[0]))) w.__webgl.push(performance.now());
        return getContext.apply(this, args);
      };
      new MutationObserver((records) => {
        for (const record of records)
          for (const node of Array.from(record.addedNodes))
            if (node instanceof HTMLScriptElement && node.parentNode === document.head)
              w.__scripts.push(performance.now());
      }).observe(document, { childList: true, subtree: true });
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
  });

  async function open(): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(pathToFileURL(html).href);
    return page;
  }

  const markTime = (page: Page, name: string) =>
    page.evaluate((mark) => performance.getEntriesByName(mark)[0]?.startTime ?? null, name);

  /**
   * Share of a picture's pixels that are clearly coloured (markers: axes, grid and text are grey),
   * or only of those in warm colours (the orange and red of the second and third task).
   */
  async function colouredShare(page: Page, selector: string, warm = false): Promise<number> {
    const pixels = readPixels(await page.locator(selector).screenshot());
    let coloured = 0;
    for (let y = 0; y < pixels.height; y += 2)
      for (let x = 0; x < pixels.width; x += 2) {
        const [r, g, b] = pixels.at(x, y);
        if (warm ? r - b > 60 : Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      }
    return coloured / (Math.ceil(pixels.width / 2) * Math.ceil(pixels.height / 2));
  }

  const caption = (page: Page, id: string) => page.locator(`[data-count-for="${id}"]`).textContent();
  const pointsOf = (page: Page, id: string, task?: string) =>
    page.evaluate(
      ([figure, name]) =>
        (JSON.parse(document.getElementById('runlens-data')!.textContent!).figures[figure!].data as any[])
          .filter((t) => name === undefined || t.name === name)
          .reduce((n, t) => n + t.x.length, 0),
      [id, task],
    );

  it('draws the first screen’s 3-D maps as previews: no WebGL scene and no Plotly until they are on screen', async () => {
    const page = await open();
    try {
      for (const id of MAPS)
        await expect.poll(() => markTime(page, `runlens:drawn:${id}`), { timeout: 30_000 }).not.toBeNull();
      const drawn = Math.max(...(await Promise.all(MAPS.map((id) => markTime(page, `runlens:drawn:${id}`)))));
      // Plotly comes after the first screen (added as a blob: script), for what needs it next.
      await expect
        .poll(() => page.evaluate(() => Boolean((window as any).Plotly)), { timeout: 30_000 })
        .toBe(true);
      const { webgl, scripts } = await page.evaluate(() => ({
        webgl: (window as any).__webgl as number[],
        scripts: (window as any).__scripts as number[],
      }));
      expect(webgl).toEqual([]);
      expect(scripts.length).toBeGreaterThan(0);
      expect(Math.min(...scripts)).toBeGreaterThan(drawn);
      expect(await page.locator('#maps-3d .gl-container').count()).toBe(0);
      for (const id of MAPS) {
        expect(await page.locator(`[data-figure="${id}"] canvas.scene-preview`).count()).toBe(1);
        expect(await colouredShare(page, `[data-figure="${id}"] canvas.scene-preview`)).toBeGreaterThan(0.02);
      }
      await page.locator('#maps-3d').screenshot({ path: join(SCREENSHOTS, 'start-3d-previews.png') });
      expect(await caption(page, MAPS[0])).toBe('50,000 sampled points with a finite reward');
    } finally {
      await page.close();
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('printing draws the previews still to draw whole, before the page is printed', async () => {
    const page = await context.newPage();
    try {
      // Far down the page, so the maps are not drawn; beforeprint is handled in one task.
      await page.goto(`${pathToFileURL(html).href}#metrics`);
      const drawn = await page.evaluate((ids) => {
        window.dispatchEvent(new Event('beforeprint'));
        return ids.map((id) => {
          const canvas = document.querySelector<HTMLCanvasElement>(
            `[data-figure="${id}"] canvas.scene-preview`,
          );
          return canvas ? canvas.width > 0 : false;
        });
      }, MAPS);
      expect(drawn).toEqual([true, true]);
      expect(await colouredShare(page, `[data-figure="${MAPS[1]}"] canvas.scene-preview`)).toBeGreaterThan(
        0.02,
      );
    } finally {
      await page.close();
    }
  });

  it('a click makes a preview the interactive map: WebGL scene, all points, the same hover text', async () => {
    const page = await open();
    try {
      const map = page.locator(`[data-figure="${MAPS[0]}"]`);
      await expect.poll(() => markTime(page, `runlens:drawn:${MAPS[0]}`), { timeout: 30_000 }).not.toBeNull();
      await map.scrollIntoViewIfNeeded();
      await map.locator('.scene-hint').click();
      await expect
        .poll(() => markTime(page, `runlens:interactive:${MAPS[0]}`), { timeout: 60_000 })
        .not.toBeNull();
      // Plotly's scene replaces the preview and holds every sampled point.
      expect(await map.locator('.gl-container canvas').count()).toBe(1);
      expect(await map.locator('canvas.scene-preview, .scene-hint').count()).toBe(0);
      const plotted = await map.evaluate((el: any) => (el.data as any[]).reduce((n, t) => n + t.x.length, 0));
      expect(plotted).toBe(50_000);
      expect(await page.evaluate(() => (window as any).__webgl.length)).toBeGreaterThan(0);
      // The other map stays a preview until it is touched.
      expect(await page.locator(`[data-figure="${MAPS[1]}"] canvas.scene-preview`).count()).toBe(1);
      // Hover over the dense middle of the cloud names x, uid, value and task.
      const box = (await map.locator('.gl-container canvas').boundingBox())!;
      const hovertext = map.locator('.hovertext');
      for (let k = 0; k < 40 && !(await hovertext.count()); k++) {
        await page.mouse.move(
          box.x + box.width * (0.35 + (k % 8) * 0.04),
          box.y + box.height * (0.45 + Math.floor(k / 8) * 0.04),
        );
        await page.waitForTimeout(150);
      }
      expect(await hovertext.first().textContent()).toMatch(
        /^block [\d,]+uid \d+reward [-−]?[\d.]+(e[-−+]?\d+)?task \w+$/,
      );
      await page.locator('#maps-3d').screenshot({ path: join(SCREENSHOTS, 'start-3d-interactive.png') });
      expect(
        await page.evaluate(() =>
          Boolean(performance.getEntriesByName('runlens:interactive:cloud-completion-times').length),
        ),
      ).toBe(false);
    } finally {
      await page.close();
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('switching task updates the caption’s count and the preview, and the interactive map keeps the task', async () => {
    const page = await open();
    try {
      const [id] = MAPS;
      const selector = `[data-figure="${id}"] canvas.scene-preview`;
      await expect.poll(() => markTime(page, `runlens:drawn:${id}`), { timeout: 30_000 }).not.toBeNull();
      await page.locator('#maps-3d').scrollIntoViewIfNeeded();
      const all = await pointsOf(page, id);
      const tasks = await page.$$eval('#task-selector button[data-group]', (buttons) =>
        buttons.map((b) => (b as HTMLButtonElement).dataset.group!).filter((g) => g !== '__all__'),
      );
      expect(tasks.length).toBeGreaterThanOrEqual(3);
      expect(await colouredShare(page, selector, true)).toBeGreaterThan(0.05);
      // The most frequent task, drawn in the first colour (blue).
      const task = tasks[0];
      const shown = await pointsOf(page, id, task);
      await page.locator(`#task-selector button[data-group="${task}"]`).click();
      expect(await caption(page, id)).toBe(
        `${shown.toLocaleString('en-US')} sampled points with a finite reward (${task})`,
      );
      // The preview is drawn again with that task's points alone: no orange or red left.
      await expect.poll(() => colouredShare(page, selector, true)).toBeLessThan(0.002);
      expect(await colouredShare(page, selector)).toBeGreaterThan(0.02);
      expect(await page.locator('#maps-3d .gl-container').count()).toBe(0);
      await page.locator('#maps-3d').screenshot({ path: join(SCREENSHOTS, `start-3d-preview-${task}.png`) });
      // Resting the pointer on the preview makes it interactive, with the selected task only.
      const map = page.locator(`[data-figure="${id}"]`);
      const box = (await map.boundingBox())!;
      for (let k = 0; k < 8; k++) {
        await page.mouse.move(box.x + box.width / 2 + k * 3, box.y + box.height / 2);
        await page.waitForTimeout(80);
      }
      await expect
        .poll(() => markTime(page, `runlens:interactive:${id}`), { timeout: 60_000 })
        .not.toBeNull();
      const visible = () =>
        map.evaluate((el: any) => (el.data as any[]).filter((t) => t.visible !== false).map((t) => t.name));
      expect(await visible()).toEqual([task]);
      await page.locator('#task-selector button[data-group="__all__"]').click();
      await expect
        .poll(visible)
        .toEqual(await map.evaluate((el: any) => (el.data as any[]).map((t) => t.name)));
      expect(await caption(page, id)).toBe(
        `${all.toLocaleString('en-US')} sampled points with a finite reward`,
      );
      // Switching again restyles the interactive map and recounts.
      const other = tasks[1];
      await page.locator(`#task-selector button[data-group="${other}"]`).click();
      await expect.poll(visible).toEqual([other]);
      expect(await caption(page, id)).toBe(
        `${(await pointsOf(page, id, other)).toLocaleString('en-US')} sampled points with a finite reward (${other})`,
      );
    } finally {
      await page.close();
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
