import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { renderPdf } from './pdf.js';
import { DEFAULT_DPI, renderPngAsync } from './png.js';
import { renderSvg, type RenderSvgOptions, type VegaLiteSpec } from './svg.js';
import { CHART_FORMATS, type ChartFormat } from './chart-formats.js';

export { CHART_FORMATS, type ChartFormat };

export interface RenderChartOptions extends RenderSvgOptions {
  /** Path without extension; `<outBase>.<format>` is written for each format. */
  outBase: string;
  /** Default `['png']`. */
  formats?: readonly ChartFormat[];
  /** PNG resolution, default 300. */
  dpi?: number;
  /** PDF document title. */
  title?: string;
}

/**
 * The one entry point chart commands use: renders the spec once to SVG, then writes every
 * requested format beside each other (creating the directory) and returns the written paths.
 */
export async function renderChart(spec: VegaLiteSpec, options: RenderChartOptions): Promise<string[]> {
  const formats = [...new Set<ChartFormat>(options.formats ?? ['png'])];
  for (const format of formats) {
    if (!(CHART_FORMATS as readonly string[]).includes(format)) {
      throw new RangeError(
        `Unknown chart format "${String(format)}"; expected one of ${CHART_FORMATS.join(', ')}`,
      );
    }
  }
  const svg = await renderSvg(spec, options);
  await mkdir(dirname(options.outBase), { recursive: true });
  const written: string[] = [];
  for (const format of formats) {
    const path = `${options.outBase}.${format}`;
    await writeFile(path, await encodeChart(svg, format, options));
    written.push(path);
  }
  return written;
}

async function encodeChart(
  svg: string,
  format: ChartFormat,
  options: RenderChartOptions,
): Promise<string | Buffer> {
  switch (format) {
    case 'svg':
      return svg;
    case 'png':
      return renderPngAsync(svg, { dpi: options.dpi ?? DEFAULT_DPI });
    case 'pdf':
      return renderPdf(svg, { title: options.title });
  }
}
