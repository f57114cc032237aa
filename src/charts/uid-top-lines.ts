import type { BinSpec } from '../engine/bins.js';
import type { VegaLiteSpec } from '../render/index.js';
import { captionLines } from './caption-lines.js';

export interface UidTopLinesOptions {
  title: string;
  caption: string;
  xTitle: string;
  yTitle: string;
  /** How many uids to draw (default 10). */
  top?: number;
}

/** The uids with the highest mean over the matrix's finite cells, best first. */
export function topUidsByMean(
  matrix: { uids: number[]; spec: BinSpec; values: Float64Array },
  top: number,
): { uid: number; row: number; mean: number }[] {
  const cols = matrix.spec.count;
  const ranked = matrix.uids.map((uid, row) => {
    let sum = 0;
    let n = 0;
    for (let col = 0; col < cols; col++) {
      const v = matrix.values[row * cols + col];
      if (Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    return { uid, row, mean: n ? sum / n : -Infinity };
  });
  return ranked
    .filter((r) => r.mean > -Infinity)
    .sort((a, b) => b.mean - a.mean || a.uid - b.uid)
    .slice(0, top);
}

/**
 * One step line per uid for the `top` uids by mean value of a uid × x-bin matrix (weights): each
 * bin's carried-forward value held until the next bin, legend in rank order.
 */
export function uidTopLinesSpec(
  matrix: { uids: number[]; spec: BinSpec; values: Float64Array },
  options: UidTopLinesOptions,
): VegaLiteSpec {
  const { spec } = matrix;
  const top = topUidsByMean(matrix, options.top ?? 10);
  const values = [];
  for (const { uid, row } of top) {
    for (let col = 0; col <= spec.count; col++) {
      const v = matrix.values[row * spec.count + Math.min(col, spec.count - 1)];
      values.push({ x: spec.x0 + col * spec.width, uid: String(uid), v: Number.isFinite(v) ? v : null });
    }
  }
  const domain = top.map((t) => String(t.uid));
  return {
    title: { text: options.title, subtitle: captionLines(options.caption, 95) },
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.3 },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: options.xTitle,
        scale: { zero: false, nice: false },
        axis: { format: ',~f', tickCount: 6 },
      },
      y: { field: 'v', type: 'quantitative', title: options.yTitle, axis: { format: ',.3~r' } },
      color: {
        field: 'uid',
        type: 'nominal',
        scale: { domain, scheme: 'tableau10' },
        legend: { title: 'uid (by mean)', orient: 'right' },
      },
    },
  } as unknown as VegaLiteSpec;
}
