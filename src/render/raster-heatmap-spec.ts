import type { VegaLiteSpec } from './svg.js';
import { rasterHeatmap, type HeatmapMatrix, type RasterHeatmapOptions } from './raster-heatmap.js';

export interface RasterHeatmapSpecOptions extends Omit<RasterHeatmapOptions, 'rowZeroAtBottom'> {
  /** [left edge of the first column, right edge of the last column] in x-axis units. */
  xDomain: readonly [number, number];
  /** [edge of row 0, far edge of the last row] in y-axis units. */
  yDomain: readonly [number, number];
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  title?: string | { text: string; subtitle?: string };
  /** Where row 0 goes: `bottom` (y axis pointing up, default) or `top` (matrix layout). */
  rowZero?: 'bottom' | 'top';
}

/**
 * A Vega-Lite spec drawing a heatmap as one embedded raster image (one pixel per cell, stays small
 * and fast at 256 × 2000 cells) with vector axes and a colour gradient legend on the same scale.
 */
export function rasterHeatmapSpec(matrix: HeatmapMatrix, options: RasterHeatmapSpecOptions): VegaLiteSpec {
  const rowZero = options.rowZero ?? 'bottom';
  const raster = rasterHeatmap(matrix, { ...options, rowZeroAtBottom: rowZero === 'bottom' });
  const [x0, x1] = options.xDomain;
  const [y0, y1] = options.yDomain;
  const positionScale = { nice: false, zero: false };
  const spec = {
    ...(options.title === undefined ? {} : { title: options.title }),
    layer: [
      {
        data: { values: [{ x0, x1, y0, y1, url: raster.dataUrl }] },
        // aria: false — otherwise Vega copies the whole data URL into an aria-label.
        mark: { type: 'image', aspect: false, smooth: false, aria: false, tooltip: false },
        encoding: {
          x: {
            field: 'x0',
            type: 'quantitative',
            scale: { ...positionScale, domain: [x0, x1] },
            axis: { title: options.xTitle ?? null, grid: false },
          },
          x2: { field: 'x1' },
          y: {
            field: 'y0',
            type: 'quantitative',
            scale: { ...positionScale, domain: [y0, y1], reverse: rowZero === 'top' },
            axis: { title: options.yTitle ?? null, grid: false },
          },
          y2: { field: 'y1' },
          url: { field: 'url' },
        },
      },
      {
        // Invisible marks carrying only the colour scale, so Vega draws the matching gradient legend.
        data: { values: raster.domain.map((value) => ({ value })) },
        mark: { type: 'point', opacity: 0, aria: false, tooltip: false },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            scale: {
              type: raster.log ? 'log' : 'linear',
              domain: raster.domain,
              scheme: raster.scheme,
              nice: false,
              ...(raster.log ? {} : { zero: false }),
            },
            legend: { title: options.colorTitle ?? null, gradientLength: 200 },
          },
        },
      },
    ],
  };
  return spec as VegaLiteSpec;
}
