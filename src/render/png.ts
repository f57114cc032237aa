import { Resvg } from '@resvg/resvg-js';
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
  const dpi = options.dpi ?? DEFAULT_DPI;
  if (!(Number.isFinite(dpi) && dpi > 0)) {
    throw new RangeError(`renderPng: dpi must be a positive number, got ${dpi}`);
  }
  const resvg = new Resvg(svg.replace(PIXELATED_DECLARATION, ''), {
    fitTo: { mode: 'zoom', value: dpi / UNITS_PER_INCH },
    font: {
      loadSystemFonts: false,
      fontFiles: [fontFiles.regular, fontFiles.bold],
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
  });
  return setPngDpi(resvg.render().asPng(), dpi);
}
