import { rasterHeatmapSpec, type VegaLiteSpec } from '../render/index.js';
import type { BinSpec } from '../engine/bins.js';

export interface UidMatrixOptions {
  title: string;
  caption: string;
  xTitle: string;
  colorTitle: string;
  scheme?: string;
}

/**
 * uid × x-bin matrix (moving-averaged scores, weights) as a raster heatmap. Rows are the listed
 * uids in order; with gaps in the uid list the y axis is the row index (labelled "uid").
 */
export function uidMatrixHeatmapSpec(
  matrix: { uids: number[]; spec: BinSpec; values: Float64Array },
  options: UidMatrixOptions,
): VegaLiteSpec {
  const { uids, spec } = matrix;
  const contiguous = uids.every((u, i) => i === 0 || u === uids[i - 1] + 1);
  const y0 = contiguous ? uids[0] - 0.5 : -0.5;
  return {
    ...rasterHeatmapSpec(
      { values: matrix.values, rows: uids.length, cols: spec.count },
      {
        xDomain: [spec.x0, spec.x0 + spec.count * spec.width],
        yDomain: [y0, y0 + uids.length],
        rowZero: 'bottom',
        scheme: options.scheme ?? 'viridis',
        xTitle: options.xTitle,
        yTitle: contiguous ? 'uid' : 'uid (row index)',
        colorTitle: options.colorTitle,
      },
    ),
    title: { text: options.title, subtitle: options.caption },
  } as unknown as VegaLiteSpec;
}
