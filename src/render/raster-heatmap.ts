import { encode } from 'fast-png';
import { schemeRamp } from './color-scheme.js';

/** A dense matrix, row-major: `values[row * cols + col]`; NaN means no data. */
export interface HeatmapMatrix {
  values: Float64Array;
  rows: number;
  cols: number;
}

export interface RasterHeatmapOptions {
  /** Continuous Vega scheme name. Default `viridis`. */
  scheme?: string;
  /** Logarithmic colour scale; values ≤ 0 then count as no data. */
  log?: boolean;
  /** Colour domain [low, high]; default: min and max of the (positive, if log) finite values. */
  domain?: readonly [number, number];
  /** Row 0 at the bottom of the image (as on a y axis pointing up) instead of the top. */
  rowZeroAtBottom?: boolean;
}

export interface RasterHeatmap {
  /** PNG bytes, exactly cols × rows pixels, indexed colour; no-data cells are transparent. */
  png: Uint8Array;
  dataUrl: string;
  /** The colour domain used, for the legend. */
  domain: [number, number];
  scheme: string;
  log: boolean;
}

/**
 * Number of colour levels; palette index 0 is the transparent no-data colour. Odd, so the middle
 * and quarters of the domain (a diverging scheme's centre) get their exact scheme colour; below 255
 * because the PNG reader inside pdfkit (png-js) pads tRNS to 255 entries only, so palette index 255
 * would turn transparent in PDFs.
 */
export const HEATMAP_LEVELS = 253;

/**
 * Heatmap matrix → one PNG pixel per cell (nearest neighbour, no smoothing), coloured with
 * `HEATMAP_LEVELS` evenly spaced samples of the scheme: level of a value is
 * round(t × (levels − 1)) with t its position in the (log) domain, clamped to [0, 1].
 */
export function rasterHeatmap(matrix: HeatmapMatrix, options: RasterHeatmapOptions = {}): RasterHeatmap {
  const { values, rows, cols } = matrix;
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)) {
    throw new RangeError(`rasterHeatmap: rows and cols must be positive integers, got ${rows} × ${cols}`);
  }
  if (values.length !== rows * cols) {
    throw new RangeError(
      `rasterHeatmap: expected ${rows} × ${cols} = ${rows * cols} values, got ${values.length}`,
    );
  }
  const scheme = options.scheme ?? 'viridis';
  const log = options.log ?? false;
  const domain = options.domain ? ([...options.domain] as [number, number]) : valueDomain(values, log);
  if (!(domain[0] < domain[1]) || (log && domain[0] <= 0)) {
    throw new RangeError(
      `rasterHeatmap: colour domain must be increasing${log ? ' and positive (log scale)' : ''}, got [${domain}]`,
    );
  }
  const transform = log ? Math.log : (v: number) => v;
  const low = transform(domain[0]);
  const span = transform(domain[1]) - low;
  const top = HEATMAP_LEVELS - 1;

  const indices = new Uint8Array(rows * cols);
  let hasNoData = false;
  for (let row = 0; row < rows; row++) {
    const outRow = options.rowZeroAtBottom ? rows - 1 - row : row;
    for (let col = 0; col < cols; col++) {
      const value = values[row * cols + col];
      if (!Number.isFinite(value) || (log && value <= 0)) {
        hasNoData = true;
        continue;
      }
      const t = (transform(value) - low) / span;
      indices[outRow * cols + col] = 1 + Math.round(Math.min(1, Math.max(0, t)) * top);
    }
  }

  const ramp = schemeRamp(scheme, HEATMAP_LEVELS);
  // With no-data cells the palette carries alpha; fast-png writes tRNS only for entries with
  // alpha < 255, which is right only because the transparent entry is the first one.
  const palette: number[][] = [hasNoData ? [0, 0, 0, 0] : [0, 0, 0]];
  for (let i = 0; i < HEATMAP_LEVELS; i++) {
    const rgb = [ramp[i * 3], ramp[i * 3 + 1], ramp[i * 3 + 2]];
    palette.push(hasNoData ? [...rgb, 255] : rgb);
  }
  const png = encode({ width: cols, height: rows, data: indices, channels: 1, depth: 8, palette });
  const dataUrl = `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
  return { png, dataUrl, domain, scheme, log };
}

function valueDomain(values: Float64Array, log: boolean): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (!Number.isFinite(value) || (log && value <= 0)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (min === Infinity) return log ? [1, 10] : [0, 1];
  if (min === max) return log ? [min / 2, max * 2] : [min - 0.5, max + 0.5];
  return [min, max];
}
