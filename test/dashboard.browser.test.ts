import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../src/format-bytes.js';
import { startServer, type RunningServer } from '../src/server/serve.js';
import { simulate } from '../src/simulate/index.js';
import { validatorLine, writeMetricsLog, writeValidatorLog } from './helpers/dashboard-runs.js';
import { readPixels } from './helpers/images.js';
import { launchChromium, skipWithoutChromium } from './helpers/chromium.js';
import { ensureFrontEnd } from './helpers/front-end.js';
import { clickEveryModebarButton } from './helpers/modebar.js';
import { tempDir } from './helpers/temp.js';

/** Screenshots to look at (not compared): $RUNLENS_SCREENSHOTS or a temp directory. */
const SHOTS = process.env.RUNLENS_SCREENSHOTS ?? path.join(os.tmpdir(), 'runlens-dashboard-screenshots');

/** Distinct colours in a screenshot of an element: a drawn chart has many, a blank one a few. */
async function distinctColours(page: Page, selector: string): Promise<number> {
  const pixels = readPixels(await page.locator(selector).screenshot());
  const colours = new Set<string>();
  for (let y = 0; y < pixels.height; y += 2)
    for (let x = 0; x < pixels.width; x += 2) colours.add(pixels.at(x, y).slice(0, 3).join(','));
  return colours.size;
}

describe.skipIf(skipWithoutChromium)('dashboard in Chromium', () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let root: string;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureFrontEnd();
    root = path.join(tempDir('runlens-dashboard-'), 'runs');
    writeValidatorLog(path.join(root, 'validator-a', 'events.json'), 600);
    writeValidatorLog(path.join(root, 'validator-b', 'events.json'), 400, { start: 1100 });
    writeMetricsLog(path.join(root, 'training', 'metrics.jsonl'), 200);
    fs.mkdirSync(SHOTS, { recursive: true });
    server = await startServer({ root, port: 0, host: '127.0.0.1', log: (m) => errors.push(m) });
    context = await launchChromium({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
  });

  it('lists the runs', async () => {
    await page.goto(server.url);
    await page.waitForSelector('tr[data-run="validator-b"]');
    const ids = await page
      .locator('tr[data-run]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')));
    expect(ids).toEqual(['training', 'validator-a', 'validator-b']);
    await expect(page.locator('tr[data-run="validator-a"] .badge').textContent()).resolves.toBe('filetao');
    // Sizes in the units inspect and the report use (decimal), not a second convention.
    const size = fs.statSync(path.join(root, 'validator-a', 'events.json')).size;
    expect(formatBytes(size)).not.toBe(formatBytes(Math.round((size * 1000) / 1024)));
    const cells = await page.locator('tr[data-run="validator-a"] td').allTextContents();
    expect(cells).toContain(formatBytes(size));
    await page.screenshot({ path: path.join(SHOTS, 'runs.png') });
  });

  it('opens a run and draws its charts (lines, scatter, heatmaps, 3-D)', async () => {
    await page.click('a.run-link:text-is("validator-a")');
    await page.waitForSelector('[data-chart="scatter:rewards"]');
    // Charts draw when they come near the screen.
    const line = '[data-chart="line:events:step_length"]';
    await page.locator(line).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${line}[data-rows="600"] .main-svg`, { timeout: 30_000 });
    const path0 = await page
      .locator(`${line} .scatterlayer path.js-line`)
      .evaluateAll((paths) => Math.max(...paths.map((p) => (p.getAttribute('d') ?? '').length)));
    expect(path0).toBeGreaterThan(500);
    expect(await distinctColours(page, `${line} .plot`)).toBeGreaterThan(20);
    await page.waitForSelector(
      '[data-chart="heatmap:scores"] .main-svg .hm, [data-chart="heatmap:scores"] .main-svg image',
    );
    expect(await distinctColours(page, '[data-chart="heatmap:scores"] .plot')).toBeGreaterThan(50);
    await page.waitForSelector('[data-chart="scatter:rewards"][data-rows] canvas');
    expect(await distinctColours(page, '[data-chart="scatter:rewards"] .plot')).toBeGreaterThan(50);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForSelector('[data-chart="heatmap:scores"] .main-svg');
    await page.screenshot({ path: path.join(SHOTS, 'run.png') });
    const cloud = '[data-chart="scatter3d:rewards"]';
    await page.locator(cloud).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${cloud}[data-rows] .gl-container canvas`, { timeout: 30_000 });
    await page.waitForTimeout(500);
    expect(await distinctColours(page, `${cloud} .plot`)).toBeGreaterThan(50);
    await page.locator(cloud).screenshot({ path: path.join(SHOTS, 'run-3d.png') });
  });

  it('shows appended lines within 2 s', async () => {
    const line = '[data-chart="line:events:step_length"]';
    await page.waitForSelector('#live.live-live');
    await page.locator(line).evaluate((el) => el.scrollIntoView({ block: 'center' }));
    const before = await page.locator(`${line} .scatterlayer path.js-line`).first().getAttribute('d');
    const log = path.join(root, 'validator-a', 'events.json');
    let text = '';
    for (let block = 1600; block < 1650; block++) text += validatorLine(block, 1620);
    const started = Date.now();
    fs.appendFileSync(log, text);
    await page.waitForSelector(`${line}[data-rows="650"]`, { timeout: 2_000 });
    const elapsed = Date.now() - started;
    console.info(`appended lines drawn ${elapsed} ms after the write`);
    expect(elapsed).toBeLessThan(2_000);
    const after = await page.locator(`${line} .scatterlayer path.js-line`).first().getAttribute('d');
    expect(after).not.toBe(before);
    await expect(page.locator('.facts').getAttribute('data-rows')).resolves.toBe('650');
    await page.locator(line).screenshot({ path: path.join(SHOTS, 'line-after-append.png') });
  });

  it('downloads a chart as PNG rendered by the server', async () => {
    const link = page.locator('[data-chart="line:events:step_length"] .downloads a', { hasText: 'PNG' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const file = path.join(SHOTS, 'download-step_length.png');
    await download.saveAs(file);
    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(readPixels(bytes).width).toBeGreaterThan(500);
  });

  it('compares two runs on one metric', async () => {
    await page.goto(server.url);
    await page.check('tr[data-run="validator-a"] input[type=checkbox]');
    await page.check('tr[data-run="validator-b"] input[type=checkbox]');
    await page.click('button:has-text("Compare 2 runs")');
    await page.waitForSelector('[data-chart="compare"][data-runs="2"] .main-svg', { timeout: 30_000 });
    const lines = await page.locator('[data-chart="compare"] .scatterlayer .trace').count();
    expect(lines).toBeGreaterThanOrEqual(2);
    expect(await distinctColours(page, '[data-chart="compare"] .plot')).toBeGreaterThan(20);
    await page.screenshot({ path: path.join(SHOTS, 'compare.png') });
    expect(errors).toEqual([]);
  });
  it('draws charts below the fold in the background and keeps them live', async () => {
    await page.goto(`${server.url}#/run/validator-a`);
    await page.waitForSelector('[data-chart]');
    const cards = page.locator('[data-chart]');
    const last = cards.last();
    const viewport = page.viewportSize()!;
    expect((await last.boundingBox())!.y).toBeGreaterThan(viewport.height);
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-chart]').length > 0 &&
        document.querySelectorAll('[data-chart].loading').length === 0,
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    expect(await last.locator('.main-svg').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'run-full-page.png'), fullPage: true });
    // Live below the fold too: an append reaches the last chart without scrolling to it.
    const version = Number(await last.getAttribute('data-version'));
    fs.appendFileSync(
      path.join(root, 'validator-a', 'events.json'),
      validatorLine(1600) + validatorLine(1601),
    );
    await expect
      .poll(async () => Number(await last.getAttribute('data-version')), { timeout: 15_000 })
      .toBeGreaterThan(version);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
  });

  it("no control sends the data anywhere: every modebar button clicked, no request or popup leaves the page's origin", async () => {
    const origin = new URL(server.url).origin;
    const outside: string[] = [];
    const popups: string[] = [];
    const onRequest = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) outside.push(request.url());
    };
    const onPage = (popup: Page) => popups.push(popup.url());
    context.on('request', onRequest);
    context.on('page', onPage);
    try {
      await page.goto(`${server.url}#/run/validator-a`);
      await page.waitForSelector('[data-chart="line:events:step_length"] .main-svg', { timeout: 60_000 });
      await page.waitForTimeout(1000);
      const titles = await clickEveryModebarButton(page, page.locator('[data-chart] .js-plotly-plot'));
      expect(titles.length).toBeGreaterThan(10);
      expect(titles.filter((t) => /cloud|share|studio|plotly/i.test(t))).toEqual([]);
      await page.waitForTimeout(500);
    } finally {
      context.off('request', onRequest);
      context.off('page', onPage);
    }
    expect(outside).toEqual([]);
    expect(popups).toEqual([]);
  });

  it('draws a constant series flat, on a readable axis with distinct tick labels, and says "constant"', async () => {
    await page.goto(`${server.url}#/run/training`);
    for (const [metric, value] of [
      ['health', '1.0'],
      ['lr', '0.05'],
    ]) {
      const card = page.locator(`[data-chart="line:events:${metric}"]`);
      await card.scrollIntoViewIfNeeded();
      await card.locator('.main-svg').first().waitFor({ timeout: 60_000 });
      await expect
        .poll(() => card.locator('.card-note').textContent())
        .toMatch(new RegExp(`^constant ${value} · `));
      const ticks = await card.locator('.ytick text').allTextContents();
      expect(ticks.length).toBeGreaterThan(2);
      expect(new Set(ticks).size).toBe(ticks.length);
      // The line is flat: every point of the mean trace is at the same height.
      const ys = await card.evaluate((el) => {
        const plot = el.querySelector('.js-plotly-plot') as unknown as {
          data: { y: number[]; mode?: string }[];
        };
        return plot.data.flatMap((t) => t.y.filter((v) => typeof v === 'number'));
      });
      expect(new Set(ys).size).toBe(1);
    }
    await page.screenshot({ path: path.join(SHOTS, 'constant-series.png'), fullPage: true });
  });

  it('compare says when runs share no metric and names a run that cannot be opened; an unknown run is not "reconnecting"', async () => {
    await page.goto(`${server.url}#/compare?runs=validator-a,training,nope`);
    const notice = page.locator('[data-role="shared"]');
    await notice.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await notice.textContent()).toMatch(
      /share no metric \(their profiles differ: (filetao, generic|generic, filetao)\)/,
    );
    const failed = page.locator('table.runs .error-text');
    await failed.waitFor({ timeout: 10_000 });
    expect(await failed.textContent()).toMatch(/nope/);
    await page.screenshot({ path: path.join(SHOTS, 'compare-nothing-shared.png') });

    await page.goto(`${server.url}#/run/nope`);
    await page.locator('.progress.failed').waitFor({ timeout: 10_000 });
    await page.waitForTimeout(1500);
    expect(await page.locator('#live').isVisible()).toBe(false);
    expect(await page.locator('body').textContent()).not.toContain('reconnecting');
    // The 404s these pages asked for are expected; nothing else may have gone wrong.
    errors.splice(0, errors.length, ...errors.filter((e) => !/404|nope/.test(e)));
    expect(errors).toEqual([]);
  });

  it('keeps the view in the URL (smoothing, zoom, filter, split, log) and downloads what is shown, data as CSV', async () => {
    await page.goto(`${server.url}#/run/validator-a`);
    const card = page.locator('[data-chart="line:events:step_length"]');
    await card.locator('.main-svg').first().waitFor({ timeout: 60_000 });
    await page.selectOption('select[aria-label="smoothing"]', 'mean');
    await page.fill('input[aria-label="filter charts"]', 'step');
    await page.check('input[aria-label="log scale"]');
    // Zoom as a user does: drag across the middle of the plot.
    const box = (await card.locator('.nsewdrag').first().boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => card.locator('.card-note').textContent()).toContain('zoomed');
    const url = new URL(page.url());
    const query = new URLSearchParams(url.hash.split('?')[1]);
    expect(query.get('smoothing')).toBe('mean');
    expect(query.get('filter')).toBe('step');
    expect(query.get('log')).toBe('1');
    const zoom = query.getAll('zoom');
    expect(zoom).toHaveLength(1);
    const [, from, to] = /^line:events:step_length@([\d.]+),([\d.]+)$/.exec(zoom[0])!.map(Number);
    expect(from).toBeGreaterThan(1000);
    expect(to).toBeLessThan(1600);

    // A reload (or the link) shows the same view.
    await page.reload();
    await card.locator('.main-svg').first().waitFor({ timeout: 60_000 });
    expect(await page.locator('select[aria-label="smoothing"]').inputValue()).toBe('mean');
    expect(await page.locator('input[aria-label="filter charts"]').inputValue()).toBe('step');
    expect(await page.locator('input[aria-label="log scale"]').isChecked()).toBe(true);
    await expect.poll(() => card.locator('.card-note').textContent()).toContain('zoomed');
    expect(await card.locator('.card-note').textContent()).toContain('log y');
    expect(await page.locator('[data-chart="heatmap:scores"]').isHidden()).toBe(true);
    const yType = await card.evaluate(
      (el) =>
        (el.querySelector('.js-plotly-plot') as unknown as { layout: { yaxis: { type: string } } }).layout
          .yaxis.type,
    );
    expect(yType).toBe('log');

    // The PNG/SVG/PDF links carry the view; the server draws it.
    const svgHref = await card.locator('.downloads a', { hasText: 'SVG' }).getAttribute('href');
    const svgQuery = new URLSearchParams(svgHref!.split('?')[1]);
    expect(Object.fromEntries(svgQuery)).toMatchObject({
      xmin: String(from),
      xmax: String(to),
      smoothing: 'mean',
      log: '1',
    });
    const svg = await (await page.request.get(new URL(svgHref!, server.url).href)).text();
    expect(svg).toContain('running mean over');
    expect(svg).toMatch(/ · x [\d,.]+ … [\d,.]+/);

    // CSV of the plotted bins: what the chart drew, bin by bin.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.locator('.downloads a', { hasText: 'CSV' }).click(),
    ]);
    const csv = fs
      .readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe('group,block,count,mean,min,max,smoothed');
    const drawn = await card.evaluate((el) => {
      const plot = el.querySelector('.js-plotly-plot') as unknown as {
        data: { y: (number | null)[]; name?: string; customdata?: unknown }[];
      };
      return plot.data.find((t) => t.customdata)!.y;
    });
    expect(csv.length - 1).toBe(drawn.length);
    expect(csv.slice(1).map((line) => Number(line.split(',')[3]))).toEqual(drawn.map((v) => Number(v)));
    const blocks = csv.slice(1).map((line) => Number(line.split(',')[1]));
    expect(Math.min(...blocks)).toBeGreaterThanOrEqual(from);
    expect(Math.max(...blocks)).toBeLessThanOrEqual(to);
  });

  it('shows charts of what is indexed so far, marked partial, then of the whole run', async () => {
    const base = tempDir('runlens-dashboard-partial-');
    await simulate('filetao', { out: path.join(base, 'big'), size: '16MB', uids: 64, seed: 9 });
    // Parts of 512 KB: a few dozen, so the page sees partial answers before the last part is read.
    const partialServer = await startServer({
      root: base,
      port: 0,
      cache: tempDir('runlens-dashboard-partial-cache-'),
      chunkBytes: 512 * 1024,
      log: (m) => errors.push(m),
    });
    try {
      await page.goto(`${partialServer.url}#/run/big`);
      const line = '[data-chart="line:events:step_length"]';
      await page.waitForSelector('.progress.partial:not([hidden])', { timeout: 30_000 });
      await expect(page.locator('.progress.partial .progress-label').textContent()).resolves.toMatch(
        /^Partial: [\d,]+ of ~[\d,]+ events, \d+ % of the bytes read$/,
      );
      await page.waitForSelector('.card[data-partial="true"] .partial-tag:not([hidden])', {
        timeout: 30_000,
      });
      await expect(page.locator('.facts').getAttribute('data-partial')).resolves.toBe('true');
      await page.screenshot({ path: path.join(SHOTS, 'run-partial.png') });
      // All of it read: the banner goes, every drawn chart is drawn again from the whole run.
      await page.waitForSelector('.facts[data-partial="false"]', { timeout: 60_000 });
      await expect(page.locator('.progress').isHidden()).resolves.toBe(true);
      await page.locator(line).scrollIntoViewIfNeeded();
      await page.waitForSelector(`${line}[data-partial="false"] .main-svg`, { timeout: 30_000 });
      await page.waitForFunction(() => !document.querySelector('.card[data-partial="true"]'), undefined, {
        timeout: 30_000,
      });
      await expect(page.locator('.partial-tag:not([hidden])').count()).resolves.toBe(0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(SHOTS, 'run-complete.png') });
      expect(errors).toEqual([]);
    } finally {
      await partialServer.close();
    }
  });
});
