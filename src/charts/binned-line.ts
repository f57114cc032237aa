import type { BinnedSeries } from '../engine/binned-stats.js';
import type { VegaLiteSpec } from '../render/index.js';
import { captionLines } from './caption-lines.js';

/** One exact per-bin mean line with its min–max band, e.g. step length over block. */
export function binnedLineSpec(
  series: BinnedSeries,
  options: { title: string; caption: string; xTitle: string; yTitle: string },
): VegaLiteSpec {
  const values = series.xMean.map((x, i) => ({
    x,
    mean: fin(series.mean[i]),
    lower: fin(series.lower[i]),
    upper: fin(series.upper[i]),
  }));
  const x = {
    field: 'x',
    type: 'quantitative',
    title: options.xTitle,
    scale: { zero: false, nice: false },
    axis: { format: ',~f', tickCount: 6 },
  };
  return {
    title: { text: options.title, subtitle: captionLines(options.caption, 80) },
    data: { values },
    layer: [
      {
        mark: { type: 'area', opacity: 0.25, color: '#4c78a8' },
        encoding: {
          x,
          y: { field: 'lower', type: 'quantitative', title: options.yTitle },
          y2: { field: 'upper' },
        },
      },
      {
        mark: { type: 'line', strokeWidth: 1.2, color: '#4c78a8' },
        encoding: { x, y: { field: 'mean', type: 'quantitative' } },
      },
    ],
  } as unknown as VegaLiteSpec;
}

function fin(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
