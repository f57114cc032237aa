import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  HEATMAP_LEVELS,
  rasterHeatmap,
  rasterHeatmapSpec,
  readPngPhys,
  renderChart,
  renderPdf,
  renderPng,
  renderSvg,
  schemeColor,
  setPngDpi,
  type HeatmapMatrix,
  type VegaLiteSpec,
} from '../src/render/index.js';
import { renderPngAsync } from '../src/render/png.js';
import { wrapText } from '../src/render/svg.js';
import { dejaVuTextWidth } from '../src/render/text-metrics.js';
import { DEFAULT_WIDTH } from '../src/render/theme.js';
import { countDarkPixels, hasTool, inflatedPdfStreams, readPixels, svgImageBox } from './helpers/images.js';
import { expectSvgSnapshot } from './helpers/snapshot.js';

/** Tests run the TypeScript sources, where no compiled PNG worker sits beside them: the built module has one. */
const builtPng = (await import(
  new URL('../dist/render/png.js', import.meta.url).href
)) as typeof import('../src/render/png.js');

const workDir = mkdtempSync(join(tmpdir(), 'runlens-render-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function lineChart(options: { title?: string; series?: number } = {}): VegaLiteSpec {
  const series = options.series ?? 2;
  const values = Array.from({ length: 40 }, (_, i) => ({
    step: i * 25,
    reward: Math.round((Math.sin(i / 5) * 3 - 0.5) * 1000) / 1000,
    run: `run-${i % series}`,
  }));
  return {
    ...(options.title === undefined ? {} : { title: options.title }),
    data: { values },
    mark: { type: 'line', clip: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'Training step' },
      y: { field: 'reward', type: 'quantitative', title: 'Reward' },
      ...(series > 1 ? { color: { field: 'run', type: 'nominal', title: 'Run' } } : {}),
    },
  } as VegaLiteSpec;
}

/** rows × cols checkerboard of 1 and 100 (log scale → the two ends of the scheme). */
function checkerboard(rows: number, cols: number): HeatmapMatrix {
  const values = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = (r + c) % 2 ? 1 : 100;
  return { values, rows, cols };
}

function checkerboardSpec(): VegaLiteSpec {
  return rasterHeatmapSpec(checkerboard(6, 8), {
    xDomain: [0, 8],
    yDomain: [0, 6],
    log: true,
    scheme: 'viridis',
    title: 'Checkerboard',
    xTitle: 'Block',
    yTitle: 'UID',
    colorTitle: 'Score',
  });
}

describe('renderSvg', () => {
  it('is deterministic, whatever was rendered before (stable clip and gradient ids)', async () => {
    const first = await renderSvg(lineChart({ title: 'Reward' }));
    await renderSvg(checkerboardSpec());
    const again = await renderSvg(lineChart({ title: 'Reward' }));
    expect(again).toBe(first);
    expect(first).toContain('clip-path="url(#clip1)"');
  });

  it('uses DejaVu Sans for every text and the 7 × 4.5 in figure size', async () => {
    const svg = await renderSvg(lineChart({ title: 'Reward' }));
    const families = new Set([...svg.matchAll(/font-family="([^"]*)"/g)].map((m) => m[1]));
    expect([...families]).toEqual(['DejaVu Sans']);
    expect(svg).toMatch(/^<svg [^>]*width="504" height="324" viewBox="0 0 504 324"/);
  });

  it('shows times in UTC whatever the process time zone was', async () => {
    process.env.TZ = 'America/New_York';
    const svg = await renderSvg({
      data: { values: [{ t: '2024-03-01T00:00:00Z' }, { t: '2024-03-01T06:00:00Z' }] },
      mark: 'tick',
      encoding: { x: { field: 't', type: 'temporal', title: null } },
    } as VegaLiteSpec);
    expect(process.env.TZ).toBe('UTC');
    expect(/<text[^>]*>([^<]*)<\/text>/.exec(svg)?.[1]).toBe('March'); // midnight 1 March UTC
  });

  it('matches the approved line chart and heatmap snapshots', async () => {
    await expectSvgSnapshot('line-chart', await renderSvg(lineChart({ title: 'Reward by training step' })));
    await expectSvgSnapshot('raster-heatmap', await renderSvg(checkerboardSpec()));
  });
});

describe('titles fit the figure', () => {
  it('a caption wider than a fixed-size figure wraps (at " · ", then spaces) instead of being cut off', async () => {
    const caption =
      '1,234,567 events · 3 files · weights set by the validator: each column the last of its bins over 200 weight vectors';
    const room = DEFAULT_WIDTH - 16;
    expect(dejaVuTextWidth({ fontSize: 10.5 }, caption)).toBeGreaterThan(room);
    const lines = wrapText(caption, room, 10.5) as string[];
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(dejaVuTextWidth({ fontSize: 10.5 }, line)).toBeLessThanOrEqual(room);
    // Every word kept, in order (a line break replaces a " · " or a space).
    const words = (text: string) => text.split(/\s+/).filter((w) => w !== '·');
    expect(words(lines.join(' '))).toEqual(words(caption));
    const svg = await renderSvg({
      title: { text: 'Weights', subtitle: caption },
      data: { values: [{ x: 1, y: 2 }] },
      mark: 'point',
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    });
    const texts = [...svg.matchAll(/>([^<>]+)<\/(?:text|tspan)>/g)].map((m) => m[1]);
    for (const line of lines) expect(texts).toContain(line.replace(/&/g, '&amp;'));
    expect(texts).not.toContain(caption);
  });
});

describe('renderPng', () => {
  it('renders 7 × 4.5 in at 300 DPI to exactly 2100 × 1350 px, declares the DPI, same bytes every time', async () => {
    const svg = await renderSvg(lineChart());
    const png = renderPng(svg);
    expect(renderPng(svg).equals(png)).toBe(true);
    const pixels = readPixels(png); // checks every chunk's CRC
    expect([pixels.width, pixels.height]).toEqual([2100, 1350]);
    expect(readPngPhys(png)).toEqual({ x: 11811, y: 11811, unit: 1 });
    const small = renderPng(svg, { dpi: 144 });
    expect([readPixels(small).width, readPixels(small).height]).toEqual([1008, 648]);
    expect(readPngPhys(small)?.x).toBe(5669);
  });

  it('draws text: the title band is dark with a title and has no dark pixel without', async () => {
    const titleBand = { x: 0, y: 0, width: 1400, height: 110 };
    const withTitle = readPixels(renderPng(await renderSvg(lineChart({ title: 'Reward', series: 1 }))));
    const without = readPixels(renderPng(await renderSvg(lineChart({ series: 1 }))));
    expect(countDarkPixels(withTitle, titleBand, 60)).toBeGreaterThan(500);
    expect(countDarkPixels(without, titleBand, 60)).toBe(0);
  });

  it('setPngDpi replaces an existing pHYs chunk instead of adding a second one', async () => {
    const png = setPngDpi(renderPng(await renderSvg(lineChart()), { dpi: 72 }), 600);
    expect(png.toString('latin1').split('pHYs').length - 1).toBe(1);
    expect(readPngPhys(png)).toEqual({ x: 23622, y: 23622, unit: 1 });
    readPixels(png);
  });
});

describe('renderPngAsync', () => {
  it('renders on the PNG worker threads the same bytes as renderPng, each answer to its own chart', async () => {
    expect(builtPng.pngRendersOnWorkers()).toBe(true);
    const svgs = await Promise.all([
      renderSvg(lineChart()),
      renderSvg(lineChart({ title: 'Reward', series: 1 })),
      renderSvg(checkerboardSpec()),
      renderSvg(lineChart({ series: 3 })),
    ]);
    const asked = svgs.flatMap((svg) => [
      { svg, dpi: 300 },
      { svg, dpi: 96 },
    ]);
    const pngs = await Promise.all(asked.map(({ svg, dpi }) => builtPng.renderPngAsync(svg, { dpi })));
    asked.forEach(({ svg, dpi }, i) => expect(pngs[i].equals(renderPng(svg, { dpi }))).toBe(true));
    expect(new Set(pngs.map((p) => p.toString('base64'))).size).toBe(asked.length);
  });

  it('fails a render the worker cannot do with its reason, and renders the next one', async () => {
    await expect(builtPng.renderPngAsync('<svg this is not')).rejects.toThrow(/PNG rendering failed: .+/);
    const svg = await renderSvg(lineChart());
    expect((await builtPng.renderPngAsync(svg)).equals(renderPng(svg))).toBe(true);
  });

  it('without the worker (the sources) gives the same bytes too', async () => {
    const svg = await renderSvg(checkerboardSpec());
    expect((await renderPngAsync(svg, { dpi: 150 })).equals(renderPng(svg, { dpi: 150 }))).toBe(true);
  });

  it('lets the process exit once its renders are done', () => {
    const script = `const { renderPngAsync } = await import(${JSON.stringify(new URL('../dist/render/png.js', import.meta.url).href)});
      const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
      const png = await renderPngAsync(svg, { dpi: 72 });
      console.log(png.length > 0 ? 'rendered' : 'empty');`;
    const file = join(workDir, 'render-then-exit.mjs');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, [file], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.signal).toBeNull(); // not killed by the timeout: nothing held the process open
    expect(run.stdout.trim()).toBe('rendered');
  });
});

describe('renderPdf', () => {
  const negativeAxis = {
    data: { values: [-3, -2, -1, 0, 1].map((v, i) => ({ x: i, y: v })) },
    mark: 'line',
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  } as VegaLiteSpec;

  it('is deterministic, page-sized to the SVG, with DejaVu embedded', async () => {
    const svg = await renderSvg(negativeAxis);
    const pdf = await renderPdf(svg);
    expect((await renderPdf(svg)).equals(pdf)).toBe(true);
    const text = pdf.toString('latin1');
    expect(text).toContain('/MediaBox [0 0 504 324]');
    expect(text).toMatch(/\/FontName \/[A-Z]{6}\+DejaVuSans/);
    expect(text).not.toContain('Helvetica');
  });

  it('keeps the minus sign (U+2212) of negative axis labels', async () => {
    const pdf = await renderPdf(await renderSvg(negativeAxis));
    // The embedded font's ToUnicode map must know U+2212; Helvetica would have dropped it.
    expect(inflatedPdfStreams(pdf)).toMatch(/<2212>/i);
    if (hasTool('pdftotext')) {
      const result = spawnSync('pdftotext', ['-', '-'], { input: pdf });
      expect(result.stdout.toString('utf8')).toContain('\u22122');
    }
  });

  // CI installs poppler-utils: there a missing pdftoppm fails instead of skipping.
  it.skipIf(!hasTool('pdftoppm') && !process.env.CI)(
    'converts with pdftoppm to a non-blank page',
    async () => {
      const pdfPath = join(workDir, 'chart.pdf');
      writeFileSync(pdfPath, await renderPdf(await renderSvg(lineChart({ title: 'Reward' }))));
      const result = spawnSync('pdftoppm', [
        '-png',
        '-r',
        '50',
        '-singlefile',
        pdfPath,
        join(workDir, 'page'),
      ]);
      expect(result.status).toBe(0);
      const page = readPixels(readFileSync(join(workDir, 'page.png')));
      expect([page.width, page.height]).toEqual([350, 225]);
      const whole = { x: 0, y: 0, width: 350, height: 225 };
      expect(countDarkPixels(page, whole, 250)).toBeGreaterThan(2000); // lines, grid, text
      expect(countDarkPixels(page, whole, 100)).toBeGreaterThan(50); // text
    },
  );
});

describe('raster heatmaps', () => {
  it('encodes one pixel per cell with exact scheme colours and transparent no-data cells', () => {
    const values = new Float64Array([0, 0.5, 1, Number.NaN, 0.25, 1]);
    const raster = rasterHeatmap({ values, rows: 2, cols: 3 }, { scheme: 'magma' });
    const pixels = readPixels(raster.png);
    expect([pixels.width, pixels.height]).toEqual([3, 2]);
    expect(raster.domain).toEqual([0, 1]);
    expect(raster.dataUrl.startsWith('data:image/png;base64,')).toBe(true);
    expect(pixels.at(0, 0)).toEqual([...schemeColor('magma', 0), 255]);
    expect(pixels.at(1, 0)).toEqual([...schemeColor('magma', 0.5), 255]);
    expect(pixels.at(2, 0)).toEqual([...schemeColor('magma', 1), 255]);
    expect(pixels.at(0, 1)[3]).toBe(0);
    expect(pixels.at(1, 1)).toEqual([...schemeColor('magma', 0.25), 255]);
  });

  it('quantises to HEATMAP_LEVELS evenly spaced scheme colours', () => {
    const values = new Float64Array([0, 0.3, 1]);
    const pixels = readPixels(rasterHeatmap({ values, rows: 1, cols: 3 }).png);
    const level = Math.round(0.3 * (HEATMAP_LEVELS - 1)) / (HEATMAP_LEVELS - 1);
    expect(pixels.at(1, 0)).toEqual([...schemeColor('viridis', level)]);
  });

  it('log scale: values ≤ 0 are no data, the domain spans the positive values; row 0 can go to the bottom', () => {
    const values = new Float64Array([0, 10, 1000, -1]);
    const raster = rasterHeatmap({ values, rows: 2, cols: 2 }, { log: true, rowZeroAtBottom: true });
    const pixels = readPixels(raster.png);
    expect(raster.domain).toEqual([10, 1000]);
    expect(pixels.at(0, 1)[3]).toBe(0); // matrix (0, 0) = 0, now in the bottom row
    expect(pixels.at(1, 1)).toEqual([...schemeColor('viridis', 0), 255]);
    expect(pixels.at(0, 0)).toEqual([...schemeColor('viridis', 1), 255]);
  });

  it('rejects a matrix whose size does not match and an unknown scheme', () => {
    expect(() => rasterHeatmap({ values: new Float64Array(5), rows: 2, cols: 3 })).toThrow(
      /2 × 3 = 6 values, got 5/,
    );
    expect(() => rasterHeatmap(checkerboard(2, 2), { scheme: 'nope' })).toThrow(
      /Unknown continuous colour scheme "nope"/,
    );
  });

  it.each([144, 300])(
    'renders crisp cells at %i DPI: exact scheme colours at centres, nothing in between',
    async (dpi) => {
      const svg = await renderSvg(checkerboardSpec());
      const pixels = readPixels(renderPng(svg, { dpi }));
      const zoom = dpi / 72;
      const box = svgImageBox(svg);
      const low = [...schemeColor('viridis', 0), 255];
      const high = [...schemeColor('viridis', 1), 255];
      const cellWidth = (box.width * zoom) / 8;
      const cellHeight = (box.height * zoom) / 6;
      for (let row = 0; row < 6; row++) {
        const y = Math.floor(box.y * zoom + (row + 0.5) * cellHeight);
        for (let col = 0; col < 8; col++) {
          const x = Math.floor(box.x * zoom + (col + 0.5) * cellWidth);
          // rowZero 'bottom': the top image row is matrix row 5; matrix (r, c) is 100 when r + c is even.
          expect(pixels.at(x, y)).toEqual((5 - row + col) % 2 ? low : high);
        }
        const left = Math.ceil(box.x * zoom) + 1;
        const right = Math.floor((box.x + box.width) * zoom) - 2;
        for (let x = left; x <= right; x++) expect([low, high]).toContainEqual(pixels.at(x, y));
      }
    },
  );

  it('keeps a 256 × 2000 heatmap small and fast as an embedded raster', async () => {
    const rows = 256;
    const cols = 2000;
    const values = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++)
        values[r * cols + c] = ((r * 7919) % 101) / 100 + 0.3 * Math.sin(c / 90 + r);
    }
    const started = performance.now();
    const spec = rasterHeatmapSpec(
      { values, rows, cols },
      { xDomain: [0, cols], yDomain: [0, rows], rowZero: 'top' },
    );
    const svg = await renderSvg(spec);
    const png = renderPng(svg);
    const seconds = (performance.now() - started) / 1000;
    expect(svg.length).toBeLessThan(1_000_000);
    expect(svg.split('data:image/png').length - 1).toBe(1); // not copied into an aria-label
    expect(readPixels(png).width).toBe(2100);
    // Generous bound against a regression to vector cells (over a minute); usually well under 1 s.
    expect(seconds).toBeLessThan(10);
  });
});

describe('renderChart', () => {
  it('writes every requested format next to each other and returns the paths', async () => {
    const outBase = join(workDir, 'nested', 'rewards');
    const paths = await renderChart(lineChart({ title: 'Reward' }), {
      outBase,
      formats: ['png', 'svg', 'pdf'],
      dpi: 100,
    });
    expect(paths).toEqual([`${outBase}.png`, `${outBase}.svg`, `${outBase}.pdf`]);
    expect(readPixels(readFileSync(paths[0])).width).toBe(700);
    expect(readFileSync(paths[1], 'utf8')).toMatch(/^<svg /);
    expect(readFileSync(paths[2]).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('rejects an unknown format with the list of valid ones', async () => {
    const options = { outBase: join(workDir, 'x'), formats: ['jpg'] } as unknown as Parameters<
      typeof renderChart
    >[1];
    await expect(renderChart(lineChart(), options)).rejects.toThrow(/"jpg".*png, svg, pdf/);
  });
});
