import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { Run } from '../src/engine/run.js';
import { buildReport } from '../src/report/write-report.js';
import { REPORT_CSP } from '../src/report/page-html.js';
import { uidMatrixFigure } from '../src/report/uid-matrix-figure.js';
import { simulate } from '../src/simulate/index.js';
import { readPixels, type Pixels } from './helpers/images.js';
import { launchChromium, skipWithoutChromium } from './helpers/chromium.js';
import { clickEveryModebarButton } from './helpers/modebar.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/** Screenshots are kept after the run, to be looked at. */
const SCREENSHOTS = process.env.RUNLENS_SCREENSHOT_DIR ?? join(os.tmpdir(), 'runlens-report-screenshots');
const work = tempDir('runlens-report-');
const validatorDir = join(work, 'validator');
const validatorHtml = join(work, 'validator.html');
const rlDir = join(work, 'rl');
const rlHtml = join(work, 'rl.html');
const BAD_LINE = '{"task_name": "Store", "block": oops}\n';
const TRUNCATED = '{"task_name": "Challenge", "block": 24';

/** Fails with the matched text and its surroundings (not the whole page) when `pattern` occurs. */
function expectAbsent(text: string, pattern: RegExp) {
  const m = pattern.exec(text);
  expect(m && text.slice(Math.max(0, m.index - 80), m.index + 80)).toBeNull();
}

/** The page without the contents of its script elements (the Plotly bundle's strings name URLs it never loads). */
function markup(html: string): string {
  return html.replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/gi, '$1$2');
}

/** Runs the CLI in-process; returns exit code and what it printed. */
async function runlens(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => (out.push(String(chunk)), true));
  const stderr = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => (err.push(String(chunk)), true));
  try {
    const code = await main(['node', 'runlens', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

beforeAll(async () => {
  await simulate('filetao', { out: validatorDir, size: '3MB', seed: 7 });
  await simulate('rl', { out: rlDir, size: '3MB', seed: 7 });
  // A corrupt line with good lines around it, and a writer that died mid-line.
  const events = join(validatorDir, 'events.json');
  const lines = readFileSync(events, 'utf8').split('\n');
  writeFileSync(events, [...lines.slice(0, 100), BAD_LINE.trimEnd(), ...lines.slice(100)].join('\n'));
  appendFileSync(events, TRUNCATED);
}, 60_000);

describe('runlens report (CLI)', () => {
  it('writes one self-contained file and says what it holds', async () => {
    const r = await runlens(
      'report',
      validatorDir,
      '-o',
      validatorHtml,
      '--seed',
      '3',
      '--max-points',
      '8000',
    );
    // The fixture holds a corrupt line and a cut-off last line on purpose: both are named.
    expect(r.stderr).toMatch(
      /^2 bad records skipped \((1 corrupt, 1 truncated|1 truncated, 1 corrupt)\); every good row was read\n/,
    );
    expect(r.stderr).toMatch(/events\.json:\d+: not valid JSON/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*validator\.html \(\d+(\.\d)? MB\) in [\d.]+ s/);
    expect(r.stdout).toMatch(/3-D sample 8,000 of [\d,]+ rows, [\d.]+ %/);
    expect(r.stdout).toMatch(/2 bad lines/);
    const html = readFileSync(validatorHtml, 'utf8');
    const bytes = statSync(validatorHtml).size;
    console.log(`report of a 3 MB FileTAO log (8,000 points): ${(bytes / 1e6).toFixed(2)} MB`);
    expect(bytes).toBeLessThan(15e6);
    expect(html).toContain(`content="${REPORT_CSP}"`);
    const page = markup(html);
    expectAbsent(page, /<(link|img|iframe|object|embed)\b/i);
    expectAbsent(page, /\b(src|href|action)\s*=\s*["']?(?!#)[a-z]*:?\/\//i);
    expectAbsent(page, /@import|url\(/i);
    expect(page.match(/<script\b/gi)).toHaveLength(3);
    // The only "</script" are the three closing tags.
    expect(html.match(/<\/script/gi)).toHaveLength(3);
  });

  it('RL run: reward components and position maps', async () => {
    const r = await runlens('report', rlDir, '-o', rlHtml);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reward components · \d+ position maps/);
    const shared = join(work, 'rl-shared.html');
    const mixed = await runlens(
      'report',
      '--variant',
      'v4',
      '--experiments-dir',
      join(FORMATS, 'rl-experiments'),
      '-o',
      shared,
    );
    expect(mixed.stderr).toBe('');
    expect(mixed.code).toBe(0);
    expect(readFileSync(shared, 'utf8')).toContain('id="training"');
    const html = readFileSync(rlHtml, 'utf8');
    expect(html).toContain('id="training"');
    expect(html).toContain('id="map-selector"');
    expect(html).not.toContain('id="maps-3d"');
  });

  it('user errors: one clear message, no stack', async () => {
    for (const [args, pattern] of [
      [
        ['report', validatorDir, '--max-points', '0'],
        /--max-points must be a whole number from 1 to 200,000, got "0"/,
      ],
      [['report', validatorDir, '--seed', 'x'], /--seed must be a whole number/],
      [['report', join(work, 'missing.json')], /not found|does not exist|no such/i],
    ] as const) {
      const r = await runlens(...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('score heatmap', () => {
  it('keeps each value to the 4 significant digits its hover shows: 1.3e-6 beside 0.5 is not 0', () => {
    const figure = uidMatrixFigure(
      {
        uids: [1, 2],
        spec: { x0: 0, width: 1, count: 3 },
        values: Float64Array.from([0.5, 1.3e-6, NaN, 0.25, 0.123456, 0]),
      },
      { xLabel: 'block', valueLabel: 'score', colorscale: 'Viridis' },
    );
    const z = figure.data[0].z as number[][];
    expect(z[0].slice(0, 2)).toEqual([0.5, 1.3e-6]);
    expect(z[0][2]).toBeNaN();
    expect(z[1]).toEqual([0.25, 0.1235, 0]);
    expect(String(figure.data[0].hovertemplate)).toContain('%{z:.4g}');
  });
});

describe('report model', () => {
  it('same run and seed → same bytes; another seed → another sample', async () => {
    const run = await Run.open(join(FORMATS, 'filetao', 'events.json'));
    try {
      const a = await buildReport(run, { seed: 1 });
      const b = await buildReport(run, { seed: 1 });
      expect(a.html).toBe(b.html);
      console.log(`report of the 5-event FileTAO sample: ${(Buffer.byteLength(a.html) / 1e6).toFixed(2)} MB`);
      expect(a.model.pointClouds?.sampling).toMatch(/^\d+ of \d+ rows, 100 %$/);
      const small = await buildReport(run, { seed: 2, maxPoints: 10 });
      expect(small.model.pointClouds?.sampling).toMatch(/^10 of \d+ rows, \d+(\.\d+)? %$/);
    } finally {
      run.close();
    }
  });
});

describe.skipIf(skipWithoutChromium)('report in Chromium, offline', () => {
  let context: BrowserContext;
  const attempted: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    context = await launchChromium({ viewport: { width: 1400, height: 900 } });
    await context.route('**', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      attempted.push(url);
      return route.abort();
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
  });

  async function open(file: string): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) attempted.push(request.url());
    });
    await page.goto(pathToFileURL(file).href);
    await page.evaluate(() => (window as any).runlensReport.renderAll());
    return page;
  }

  /** A 3-D map is a still preview until touched: a click on its hint makes it Plotly's scene. */
  async function makeInteractive(page: Page, figure: string): Promise<void> {
    await page.locator(`[data-figure="${figure}"] .scene-hint`).click();
    await expect
      .poll(
        () => page.evaluate((id) => performance.getEntriesByName(`runlens:interactive:${id}`).length, figure),
        {
          timeout: 60_000,
        },
      )
      .toBe(1);
  }

  /** Pixels of the WebGL canvas of a 3-D figure, from a screenshot of its region. */
  async function scenePixels(page: Page, figure: string): Promise<Pixels> {
    const canvas = page.locator(`[data-figure="${figure}"] .gl-container canvas`).first();
    await expect.poll(() => canvas.count()).toBe(1);
    return readPixels(await canvas.screenshot());
  }

  /** Pixels whose colour is clearly not grey: the markers (axes, grid and text are grey). */
  function colouredShare(pixels: Pixels): number {
    let coloured = 0;
    for (let y = 0; y < pixels.height; y += 2)
      for (let x = 0; x < pixels.width; x += 2) {
        const [r, g, b] = pixels.at(x, y);
        if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      }
    return coloured / (Math.ceil(pixels.width / 2) * Math.ceil(pixels.height / 2));
  }

  function visibleTraces(page: Page, figure: string): Promise<string[]> {
    return page.evaluate(
      (id) =>
        ((document.querySelector(`[data-figure="${id}"]`) as any).data as any[])
          .filter((t) => t.visible !== false)
          .map((t) => t.name),
      figure,
    );
  }

  it('validator report: 3-D maps drawn, task switch, tables, smoothing — no errors, no network', async () => {
    const page = await open(validatorHtml);
    const run = await Run.open(validatorDir);
    const summary = await run.summary();
    const files = run.ingest.files;
    const uids = (await run.session.one<{ n: number }>(
      'SELECT CAST(count(DISTINCT uid) AS INTEGER) AS n FROM uid_rows WHERE uid >= 0',
    ))!.n;
    run.close();

    await page.locator('#maps-3d').scrollIntoViewIfNeeded();
    await makeInteractive(page, 'cloud-rewards');
    await makeInteractive(page, 'cloud-completion-times');
    await page.mouse.move(0, 0);
    await page.waitForTimeout(500);
    const before = await scenePixels(page, 'cloud-rewards');
    expect(colouredShare(before)).toBeGreaterThan(0.01);
    await page.screenshot({ path: join(SCREENSHOTS, 'validator-top.png') });
    await page.locator('#maps-3d').screenshot({ path: join(SCREENSHOTS, 'validator-3d-all.png') });

    // Hover names x, uid, value and task; on the heatmap it shows up under the mouse.
    const hover = await page.evaluate(() =>
      ((document.querySelector('[data-figure="cloud-rewards"]') as any).data as any[]).map(
        (t) => t.hovertemplate,
      ),
    );
    expect(hover[0]).toMatch(/^block %\{x\}<br>uid %\{y\}<br>reward %\{z:.4g\}<br>task \w+/);
    const heatmap = page.locator('[data-figure="heatmap-scores"] .nsewdrag').first();
    await heatmap.scrollIntoViewIfNeeded();
    await heatmap.hover();
    await expect
      .poll(() => page.locator('[data-figure="heatmap-scores"] .hovertext').textContent())
      .toMatch(/block ≈ [\d,]+uid \d+score -?[\d.]+/);

    const tasks = await visibleTraces(page, 'cloud-rewards');
    expect(tasks.length).toBeGreaterThanOrEqual(3);
    const task = tasks[1];
    const caption = page.locator('[data-count-for="cloud-rewards"]');
    const pointsOf = (which: string | undefined) =>
      page.evaluate(
        (name) =>
          ((document.querySelector('[data-figure="cloud-rewards"]') as any).data as any[])
            .filter((t) => name === undefined || t.name === name)
            .reduce((n, t) => n + t.x.length, 0),
        which,
      );
    const all = await pointsOf(undefined);
    expect(await caption.textContent()).toMatch(new RegExp(`^${all.toLocaleString('en-US')} sampled points`));
    await page.locator(`#task-selector button[data-group="${task}"]`).click();
    await expect.poll(() => visibleTraces(page, 'cloud-rewards')).toEqual([task]);
    // The caption counts what the selection shows.
    const shown = await pointsOf(task);
    expect(shown).toBeLessThan(all);
    expect(await caption.textContent()).toBe(
      `${shown.toLocaleString('en-US')} sampled points with a finite reward (${task})`,
    );
    await expect.poll(() => visibleTraces(page, 'cloud-completion-times')).toEqual([task]);
    await page.waitForTimeout(500);
    const after = await scenePixels(page, 'cloud-rewards');
    expect(colouredShare(after)).toBeGreaterThan(0.002);
    expect(colouredShare(after)).toBeLessThan(colouredShare(before));
    await page.locator('#maps-3d').screenshot({ path: join(SCREENSHOTS, `validator-3d-${task}.png`) });
    await page.locator('#task-selector button[data-group="__all__"]').click();
    await expect.poll(() => visibleTraces(page, 'cloud-rewards')).toEqual(tasks);
    expect(await caption.textContent()).toBe(
      `${all.toLocaleString('en-US')} sampled points with a finite reward`,
    );

    // Summary: every file with its rows, the totals, the bad lines.
    const fileRows = await page.$$eval('#files-table tbody tr', (rows) =>
      rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent)),
    );
    expect(fileRows.map((r) => [r[0], r[2]])).toEqual(
      files.map((f) => [f.name, f.rows.toLocaleString('en-US')]),
    );
    expect(fileRows[0][4]).toMatch(/1 corrupt, 1 truncated|1 truncated, 1 corrupt/);
    const stats = Object.fromEntries(
      await page.$$eval('dl.stats div', (divs) =>
        divs.map((d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent]),
      ),
    );
    expect(stats['events (rows)']).toBe(summary.rows.toLocaleString('en-US'));
    expect(stats['uid rows']).toBe(summary.uidRows.toLocaleString('en-US'));
    expect(stats['bad lines']).toBe('2');
    expect(stats['truncated last lines']).toBe('1');
    expect(stats.profile).toBe('filetao');

    // Leaderboard: one row per uid; sorting by a column reorders it.
    expect(await page.locator('#leaderboard-table tbody tr').count()).toBe(uids);
    const uidColumn = () =>
      page.$$eval('#leaderboard-table tbody tr td:nth-child(2)', (tds) =>
        tds.map((td) => Number(td.textContent)),
      );
    await page.locator('#leaderboard-table th', { hasText: /^uid$/ }).click();
    const descending = await uidColumn();
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
    await page.locator('#leaderboard-table th', { hasText: /^uid$/ }).click();
    const ascending = await uidColumn();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));

    // Smoothing: 0 gives the exact per-bin means; a weight gives the debiased EMA of them.
    const smoothed = () =>
      page.evaluate(() => {
        const data = (document.querySelector('[data-figure="metric-0"]') as any).data as any[];
        return { raw: data[4].y as number[], smooth: data[5].y as number[] };
      });
    await page.locator('#smoothing').fill('0');
    await expect
      .poll(async () => {
        const s = await smoothed();
        return s.smooth.every((v, i) => v === s.raw[i]);
      })
      .toBe(true);
    await page.locator('#smoothing').fill('0.9');
    const { raw, smooth } = await smoothed();
    let last = 0;
    const expected = raw.map((y, i) => ((last = last * 0.9 + 0.1 * y), last / (1 - 0.9 ** (i + 1))));
    expect(smooth.every((v, i) => Math.abs(v - expected[i]) < 1e-9 * (1 + Math.abs(expected[i])))).toBe(true);
    expect(await page.locator('#smoothing-value').textContent()).toBe('EMA 0.90');

    // The sticky navigation bar would be drawn over stitched element screenshots.
    await page.evaluate(() =>
      (document.querySelector('nav.toc') as HTMLElement).style.setProperty('position', 'static'),
    );
    for (const id of ['summary', 'leaderboard', 'heatmaps', 'metrics'])
      await page.locator(`#${id}`).screenshot({ path: join(SCREENSHOTS, `validator-${id}.png`) });
    await page.close();
    expect(problems).toEqual([]);
    expect(attempted).toEqual([]);
  }, 120_000);

  it('figures scrolled into view are drawn, one after another, without renderAll', async () => {
    const page = await context.newPage();
    try {
      await page.goto(pathToFileURL(validatorHtml).href);
      const marked = (id: string) =>
        page.evaluate((figure) => performance.getEntriesByName(`runlens:drawn:${figure}`).length, id);
      // Each figure marks when it is first on screen (bench/report-start.js reads the marks); the
      // 3-D maps as previews, without Plotly.
      await page.locator('#maps-3d').scrollIntoViewIfNeeded();
      await expect.poll(() => marked('cloud-rewards'), { timeout: 30_000 }).toBe(1);
      await expect.poll(() => marked('cloud-completion-times'), { timeout: 30_000 }).toBe(1);
      // Then Plotly runs from a blob: URL of its inline source (compiled off the main thread) and
      // draws the 2-D figures scrolled into view.
      await page.locator('[data-figure="metric-0"]').scrollIntoViewIfNeeded();
      await expect.poll(() => marked('metric-0'), { timeout: 30_000 }).toBe(1);
      expect(
        await page.evaluate(() =>
          Boolean((document.querySelector('[data-figure="metric-0"]') as any)._fullLayout),
        ),
      ).toBe(true);
      expect(
        await page.evaluate(() => Array.from(document.scripts).some((s) => s.src.startsWith('blob:'))),
      ).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('still draws where a blob: script may not run: Plotly runs from its inline source', async () => {
    const strict = join(tempDir('runlens-report-strict-'), 'strict.html');
    const html = readFileSync(validatorHtml, 'utf8');
    expect(html).toContain("script-src 'unsafe-inline' blob:;");
    writeFileSync(strict, html.replace("script-src 'unsafe-inline' blob:;", "script-src 'unsafe-inline';"));
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    try {
      await page.goto(pathToFileURL(strict).href);
      await page.evaluate(() => (window as any).runlensReport.renderAll());
      await makeInteractive(page, 'cloud-rewards');
      for (const id of ['cloud-rewards', 'heatmap-scores'])
        expect(
          await page.evaluate(
            (figure) => Boolean((document.querySelector(`[data-figure="${figure}"]`) as any)?._fullLayout),
            id,
          ),
        ).toBe(true);
      // The refusal is the browser's CSP message about the blob: script, nothing else.
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((m) => /Content Security Policy|blob:/.test(m))).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('no control sends the data anywhere: every modebar button clicked, no request, no popup', async () => {
    const popups: string[] = [];
    const onPage = (popup: Page) => popups.push(popup.url());
    const before = attempted.length;
    const page = await open(validatorHtml);
    context.on('page', onPage);
    try {
      await makeInteractive(page, 'cloud-rewards');
      await makeInteractive(page, 'cloud-completion-times');
      const titles = await clickEveryModebarButton(page, page.locator('.js-plotly-plot'));
      expect(titles.length).toBeGreaterThan(10);
      expect(titles.filter((t) => /cloud|share|studio|plotly/i.test(t))).toEqual([]);
      await page.waitForTimeout(500);
      expect(popups).toEqual([]);
    } finally {
      context.off('page', onPage);
      await page.close();
    }
    expect(attempted.slice(before)).toEqual([]);
  });

  it('RL report: map selector shows one map at a time', async () => {
    const page = await open(rlHtml);
    const maps = await page.$$eval('#map-selector option', (options) =>
      options.map((o) => (o as HTMLOptionElement).value),
    );
    expect(maps.length).toBeGreaterThan(1);
    expect(await visibleTraces(page, 'positions')).toEqual([maps[0]]);
    await page.locator('#map-selector').selectOption(maps[1]);
    await expect.poll(() => visibleTraces(page, 'positions')).toEqual([maps[1]]);
    await page.locator('#training').screenshot({ path: join(SCREENSHOTS, 'rl-training.png') });
    await page.close();
    expect(problems).toEqual([]);
    expect(attempted).toEqual([]);
  }, 60_000);
});
