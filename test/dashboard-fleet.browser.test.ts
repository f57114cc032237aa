import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisResult } from '../src/analysis/analysis-result.js';
import { analyzeFleet } from '../src/analysis/fleet-analyses.js';
import { serveDirectory } from '../src/cli/serve.js';
import { Run } from '../src/engine/run.js';
import { Fleet, parseFleetTarget } from '../src/fleet/clickhouse.js';
import { FleetRun } from '../src/fleet/fleet-run.js';
import { pushRun } from '../src/fleet/push.js';
import type { FleetAnalysisResponse } from '../src/server/fleet-api-types.js';
import { FLEET_VIEW_OPTIONS } from '../src/server/fleet-source.js';
import type { RunningServer } from '../src/server/serve.js';
import { simulate } from '../src/simulate/index.js';
import { launchChromium, skipWithoutChromium } from './helpers/chromium.js';
import { CLUSTER, startCluster, type ClickHouseCluster, freePort } from './helpers/clickhouse.js';
import { writeValidatorLog } from './helpers/dashboard-runs.js';
import { ensureFrontEnd } from './helpers/front-end.js';
import { clickEveryModebarButton } from './helpers/modebar.js';
import { tempDir } from './helpers/temp.js';

/**
 * The dashboard's fleet page (`serve --clickhouse`) in a real Chromium, against two real
 * clickhouse-server shards on loopback holding two FileTAO runs and one OpenValidators run.
 */
const SHOTS = process.env.RUNLENS_SCREENSHOTS ?? path.join(os.tmpdir(), 'runlens-dashboard-screenshots');

const RUNS = [
  { name: 'ft-a', profile: 'filetao', options: { size: '300KB', seed: 3 } },
  { name: 'ft-b', profile: 'filetao', options: { size: '300KB', seed: 4 } },
  {
    name: 'ov-a',
    profile: 'openvalidators',
    options: { size: '300KB', seed: 5, neurons: 30, sampleSize: 10 },
  },
] as const;

/** The leaderboard table's first rows as the page shows them (numbers from their data-value). */
async function tableRows(page: Page, kind: string, count: number) {
  return page.locator(`[data-role="${kind}-table"] tbody tr`).evaluateAll(
    (rows, n) =>
      rows.slice(0, n).map((row) =>
        Object.fromEntries(
          Array.from(row.querySelectorAll('td')).map((td, i) => {
            const header = row.closest('table')!.querySelectorAll('th')[i].textContent!;
            const value = td.getAttribute('data-value');
            return [header, value === null ? td.textContent : Number(value)];
          }),
        ),
      ),
    count,
  );
}

/** The same first rows of analyzeFleet's answer, in the table's columns. */
function expectedRows(result: AnalysisResult, count: number) {
  return result.rows.slice(0, count).map((r) => ({
    uid: r.uid,
    runs: r.runs,
    calls: r.calls,
    mean: r.mean,
    spread: r.spread,
    lowest: r.lowest,
    highest: r.highest,
  }));
}

/** What Plotly drew in a view: its traces, and for a heatmap its columns and rows. */
async function plotted(page: Page, kind: string) {
  return page.locator(`[data-fleet="${kind}"] .js-plotly-plot`).evaluate((el) => {
    const data = (el as unknown as { data: { x: unknown[]; y: unknown[]; name?: string }[] }).data;
    return {
      traces: data.length,
      x: data[0]?.x.length ?? 0,
      y: data[0]?.y.length ?? 0,
      names: data.map((d) => d.name),
    };
  });
}

describe.skipIf(skipWithoutChromium)('fleet dashboard in Chromium', () => {
  let cluster: ClickHouseCluster;
  let fleet: Fleet;
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const [, started] = await Promise.all([ensureFrontEnd(), startCluster(2)]);
    cluster = started;
    fleet = new Fleet(parseFleetTarget(cluster.url, { cluster: CLUSTER }));
    const dir = tempDir('runlens-dashboard-fleet-');
    for (const r of RUNS) {
      const out = path.join(dir, r.name);
      await simulate(r.profile, { out, ...r.options });
      const run = await Run.open(out, { cache: false });
      try {
        await pushRun(fleet, run, { name: r.name });
      } finally {
        run.close();
      }
    }
    fs.mkdirSync(SHOTS, { recursive: true });
    // The CLI's own entry: no path, only the fleet options.
    server = await serveDirectory(undefined, {
      port: 0,
      host: '127.0.0.1',
      clickhouse: cluster.url,
      cluster: CLUSTER,
    });
    context = await launchChromium({ viewport: { width: 1600, height: 1000 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await fleet?.close();
    await cluster?.stop();
  });

  it("shows the fleet's runs on the home page when only --clickhouse is given", async () => {
    await page.goto(server.url);
    await page.waitForSelector('[data-role="fleet-runs"] tr[data-run="ov-a"]');
    const ids = await page
      .locator('[data-role="fleet-runs"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')));
    expect(ids).toEqual(['ft-a', 'ft-b', 'ov-a']);
    const profiles = await page.locator('[data-role="fleet-runs"] .badge').allTextContents();
    expect(profiles).toEqual(['filetao', 'filetao', 'openvalidators']);
    await expect(page.locator('#crumbs').textContent()).resolves.toBe('Fleet');
    await expect(page.locator('.topbar-link').count()).resolves.toBe(0);
  });

  it("draws the three views of every run: the leaderboard equals analyzeFleet's, one column or line per run", async () => {
    await page.waitForSelector('[data-fleet="rewards"][data-runs="3"]:not(.loading) .main-svg', {
      timeout: 60_000,
    });
    await page.waitForSelector('[data-fleet="leaderboard"][data-runs="3"]:not(.loading) .main-svg');
    await page.waitForSelector('[data-fleet="success"][data-runs="3"]:not(.loading) .main-svg');
    await page.screenshot({ path: path.join(SHOTS, 'fleet.png') });
    await page.screenshot({ path: path.join(SHOTS, 'fleet-full.png'), fullPage: true });
    const expected = await analyzeFleet(
      await FleetRun.open(fleet, 'all'),
      'leaderboard',
      FLEET_VIEW_OPTIONS.leaderboard,
    );
    expect(await tableRows(page, 'leaderboard', 10)).toEqual(expectedRows(expected, 10));
    expect(await page.locator('[data-role="leaderboard-table"] tbody tr').count()).toBe(expected.rows.length);
    const heatmap = await plotted(page, 'leaderboard');
    expect(heatmap).toMatchObject({ traces: 1, x: 3, y: Math.min(expected.rows.length, 60) });
    expect(await plotted(page, 'success')).toMatchObject({ traces: 1, y: 3 });
    expect(await plotted(page, 'rewards')).toMatchObject({ traces: 3, names: ['ft-a', 'ft-b', 'ov-a'] });
    // Drawn, not blank: the heatmap's cells are an image of many colours, the curves are long paths.
    await expect(
      page
        .locator('[data-fleet="leaderboard"] .main-svg .hm, [data-fleet="leaderboard"] .main-svg image')
        .count(),
    ).resolves.toBeGreaterThan(0);
    // The OpenValidators run is of other blocks than the FileTAO runs: on bins shared by all
    // three, each run is a point or two, drawn as markers, and the card says why.
    await expect(
      page.locator('[data-fleet="rewards"] .scatterlayer .point').count(),
    ).resolves.toBeGreaterThanOrEqual(3);
    await expect(page.locator('[data-role="sparse-curves"]').textContent()).resolves.toMatch(
      /^ft-a \(\d bins?\), ft-b \(\d bins?\), ov-a \(\d bins?\): the bins span/,
    );
  });

  it('keeps the run selection in the URL: the views follow it, and a reload shows it again', async () => {
    await page.locator('tr[data-run="ov-a"] input[type="checkbox"]').uncheck();
    await expect.poll(() => new URL(page.url()).hash).toBe('#/?runs=ft-a%2Cft-b');
    await page.waitForSelector('[data-fleet="rewards"][data-runs="2"]:not(.loading)', { timeout: 60_000 });
    await page.waitForSelector('[data-fleet="leaderboard"][data-runs="2"]:not(.loading)');
    const expected = await analyzeFleet(
      await FleetRun.open(fleet, ['ft-a', 'ft-b']),
      'leaderboard',
      FLEET_VIEW_OPTIONS.leaderboard,
    );
    const check = async () => {
      expect(await tableRows(page, 'leaderboard', 10)).toEqual(expectedRows(expected, 10));
      expect(await plotted(page, 'leaderboard')).toMatchObject({ x: 2 });
      expect(await plotted(page, 'rewards')).toMatchObject({ traces: 2, names: ['ft-a', 'ft-b'] });
      // Two runs of the same blocks: long curves on the shared bins.
      const longest = await page
        .locator('[data-fleet="rewards"] .scatterlayer path.js-line')
        .evaluateAll((paths) => Math.max(...paths.map((p) => (p.getAttribute('d') ?? '').length)));
      expect(longest).toBeGreaterThan(500);
      await expect(page.locator('[data-role="sparse-curves"]').isVisible()).resolves.toBe(false);
    };
    await check();
    await page.screenshot({ path: path.join(SHOTS, 'fleet-two-runs.png'), fullPage: true });
    // The curves: smoothed by default, the exact per-bin means when asked (kept in the URL too).
    const answer = (await (
      await page.request.get(`${server.url}api/fleet/analysis?kind=rewards&runs=ft-a,ft-b`)
    ).json()) as FleetAnalysisResponse;
    const firstCurve = () =>
      page
        .locator('[data-fleet="rewards"] .js-plotly-plot')
        .evaluate((el) => (el as unknown as { data: { y: unknown[] }[] }).data[0].y);
    expect(await firstCurve()).toEqual(answer.curves!.series[0].smooth);
    await page.locator('[data-role="smoothed"]').uncheck();
    await expect.poll(() => new URL(page.url()).hash).toBe('#/?runs=ft-a%2Cft-b&ema=0');
    await expect.poll(firstCurve).toEqual(answer.curves!.series[0].mean);
    await page.reload();
    await page.waitForSelector('[data-fleet="rewards"][data-runs="2"]:not(.loading) .main-svg', {
      timeout: 60_000,
    });
    await page.waitForSelector('[data-fleet="leaderboard"][data-runs="2"]:not(.loading) .main-svg');
    expect(new URL(page.url()).hash).toBe('#/?runs=ft-a%2Cft-b&ema=0');
    await expect(page.locator('tr[data-run="ov-a"] input[type="checkbox"]').isChecked()).resolves.toBe(false);
    await expect(page.locator('[data-role="smoothed"]').isChecked()).resolves.toBe(false);
    expect(await firstCurve()).toEqual(answer.curves!.series[0].mean);
    await expect(page.locator('[data-role="all-runs"]').isChecked()).resolves.toBe(false);
    await check();
    // Every run again: the query goes, the views are of all three.
    await page.locator('[data-role="all-runs"]').check();
    await expect.poll(() => new URL(page.url()).hash).toBe('#/?ema=0');
    await page.waitForSelector('[data-fleet="rewards"][data-runs="3"]:not(.loading)', { timeout: 60_000 });
    await page.locator('[data-role="smoothed"]').check();
    await expect.poll(() => new URL(page.url()).hash).toBe('#/');
  });

  it("sends nothing elsewhere: the browser talks only to the page's origin, no cloud buttons, CSP as for every page", async () => {
    const origin = new URL(server.url).origin;
    const outside: string[] = [];
    const onRequest = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) outside.push(request.url());
    };
    context.on('request', onRequest);
    try {
      await page.goto(`${server.url}#/fleet`);
      await page.waitForSelector('[data-fleet="rewards"][data-runs="3"]:not(.loading) .main-svg', {
        timeout: 60_000,
      });
      const titles = await clickEveryModebarButton(page, page.locator('[data-fleet] .js-plotly-plot'));
      expect(titles.length).toBeGreaterThan(5);
      expect(titles.filter((t) => /cloud|share|studio|plotly/i.test(t))).toEqual([]);
    } finally {
      context.off('request', onRequest);
    }
    expect(outside).toEqual([]);
    const response = await page.request.get(`${server.url}api/fleet/runs`);
    expect(response.headers()['content-security-policy']).toMatch(/^default-src 'self';.*connect-src 'self'/);
    // The API names nodes by address only.
    const info = await (await page.request.get(`${server.url}api/fleet`)).json();
    expect(info).toEqual({
      nodes: cluster.nodes.map((n) => n.url),
      database: 'runlens',
      cluster: CLUSTER,
      localRuns: false,
    });
    expect(errors).toEqual([]);
  });

  it('answers a wrong request with a clear error: an unknown run, an unknown kind', async () => {
    const unknown = await page.request.get(`${server.url}api/fleet/analysis?kind=leaderboard&runs=ft-a,nope`);
    expect(unknown.status()).toBe(404);
    const body = await unknown.json();
    expect(body.error.message).toBe('no run "nope" in the fleet');
    expect(body.error.valid).toEqual(['ft-a', 'ft-b', 'ov-a']);
    const kind = await page.request.get(`${server.url}api/fleet/analysis?kind=weights`);
    expect(kind.status()).toBe(400);
    expect((await kind.json()).error.valid).toEqual(['leaderboard', 'success', 'rewards']);
  });

  it('serves local runs as before beside the fleet: the header links to the fleet page', async () => {
    const root = path.join(tempDir('runlens-dashboard-fleet-local-'), 'runs');
    writeValidatorLog(path.join(root, 'validator-a', 'events.json'), 200);
    const both = await serveDirectory(root, {
      port: 0,
      host: '127.0.0.1',
      clickhouse: cluster.url,
      cluster: CLUSTER,
    });
    const tab = await context.newPage();
    try {
      await tab.goto(both.url);
      await tab.waitForSelector('tr[data-run="validator-a"]');
      await tab.click('a.topbar-link:text-is("Fleet")');
      await tab.waitForSelector('[data-role="fleet-runs"] tr[data-run="ov-a"]');
      expect(new URL(tab.url()).hash).toBe('#/fleet');
      await expect(tab.locator('#crumbs').textContent()).resolves.toBe('Runs/Fleet');
    } finally {
      await tab.close();
      await both.close();
    }
  });

  it('says so on the page when ClickHouse cannot be reached, instead of waiting', async () => {
    const port = await freePort();
    const down = await serveDirectory(undefined, {
      port: 0,
      host: '127.0.0.1',
      clickhouse: `http://127.0.0.1:${port}`,
    });
    const tab = await context.newPage();
    try {
      const started = Date.now();
      await tab.goto(down.url);
      const problem = tab.locator('[data-role="fleet-error"]');
      await problem.waitFor({ state: 'visible', timeout: 15_000 });
      expect(Date.now() - started).toBeLessThan(15_000);
      await expect(problem.textContent()).resolves.toContain(
        `ClickHouse at http://127.0.0.1:${port} is unreachable`,
      );
      await expect(problem.textContent()).resolves.toContain('check the --clickhouse URL');
      await expect(tab.locator('[data-fleet]').first().isVisible()).resolves.toBe(false);
      await expect(tab.locator('[data-role="fleet-runs"]').isVisible()).resolves.toBe(false);
      await tab.screenshot({ path: path.join(SHOTS, 'fleet-unreachable.png') });
      const api = await tab.request.get(`${down.url}api/fleet/runs`);
      expect(api.status()).toBe(502);
    } finally {
      await tab.close();
      await down.close();
    }
  });
});
