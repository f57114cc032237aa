import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { FONT_FAMILY, fontFiles } from './fonts.js';
import { setPngDpi } from './png-resolution.js';
import { UNITS_PER_INCH } from './theme.js';

export interface RenderPngOptions {
  /** Dots per inch; the SVG is in points (72 per inch). Default 300. */
  dpi?: number;
}

export const DEFAULT_DPI = 300;

/**
 * Vega writes `image-rendering: optimizeSpeed; image-rendering: pixelated;` for unsmoothed images;
 * resvg does not know `pixelated` and lets it cancel `optimizeSpeed`, smoothing heatmap cells.
 */
const PIXELATED_DECLARATION = /\s*image-rendering:\s*pixelated;?/g;

/**
 * SVG → PNG with resvg, using only the bundled DejaVu fonts (never system fonts, so the output is
 * the same on every machine), scaled to `dpi` and declaring it in a pHYs chunk.
 */
export function renderPng(svg: string, options: RenderPngOptions = {}): Buffer {
  const dpi = checkedDpi(options);
  const resvg = new Resvg(svg.replace(PIXELATED_DECLARATION, ''), resvgOptions(dpi));
  return setPngDpi(resvg.render().asPng(), dpi);
}

/** renderPng on libuv's thread pool: the same bytes, while this thread goes on (e.g. to the next chart). */
export async function renderPngAsync(svg: string, options: RenderPngOptions = {}): Promise<Buffer> {
  const dpi = checkedDpi(options);
  const image = await renderAsync(svg.replace(PIXELATED_DECLARATION, ''), resvgOptions(dpi));
  return setPngDpi(image.asPng(), dpi);
}

function checkedDpi(options: RenderPngOptions): number {
  const dpi = options.dpi ?? DEFAULT_DPI;
  if (!(Number.isFinite(dpi) && dpi > 0)) {
    throw new RangeError(`renderPng: dpi must be a positive number, got ${dpi}`);
  }
  return dpi;
}

function resvgOptions(dpi: number): ResvgRenderOptions {
  return {
    fitTo: { mode: 'zoom', value: dpi / UNITS_PER_INCH },
    font: {
      loadSystemFonts: false,
      fontFiles: [fontFiles.regular, fontFiles.bold],
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
  };
}
