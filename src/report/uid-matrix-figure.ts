import type { BinSpec } from '../engine/bins.js';
import { axis, baseLayout, hoverText, type Figure } from './figure.js';
import { roundedValues, significantValues } from './numbers.js';

/** A uid × x-bin matrix of states (scores, weights): each bin holds the state after its last event. */
export interface UidMatrix {
  uids: number[];
  spec: BinSpec;
  /** uids.length × spec.count, row-major, NaN before a uid's first value. */
  values: Float64Array;
}

export interface UidMatrixFigureOptions {
  xLabel: string;
  valueLabel: string;
  colorscale: string | [number, string][];
  /** At most this many columns (default 400) and cells (default 200 000). */
  maxColumns?: number;
  maxCells?: number;
}

/**
 * Heatmap figure of a uid × x matrix with hover (x, uid, value). Wider matrices are thinned to
 * at most `maxColumns` columns by keeping the last column of each group of k: the state at the end
 * of the wider bin, exactly what a coarser binning would have held.
 */
export function uidMatrixFigure(matrix: UidMatrix, options: UidMatrixFigureOptions): Figure {
  const { uids, spec, values } = matrix;
  const maxColumns = Math.max(
    20,
    Math.min(options.maxColumns ?? 400, Math.floor((options.maxCells ?? 200_000) / Math.max(1, uids.length))),
  );
  const k = Math.max(1, Math.ceil(spec.count / maxColumns));
  const columns = Math.ceil(spec.count / k);
  const source = Array.from({ length: columns }, (_, j) => Math.min(spec.count - 1, (j + 1) * k - 1));
  const x = roundedValues(
    source.map((last, j) => spec.x0 + ((j * k + last + 1) / 2) * spec.width),
    100_000,
  );
  const flat = new Float64Array(uids.length * columns);
  for (let r = 0; r < uids.length; r++)
    for (let j = 0; j < columns; j++) flat[r * columns + j] = values[r * spec.count + source[j]];
  // Four significant digits, as the hover shows them (a resolution relative to the matrix's range
  // turned a score of 1.3e-6 into 0).
  const rounded = significantValues(flat, 4);
  const z = uids.map((_, r) => rounded.slice(r * columns, (r + 1) * columns));
  return {
    data: [
      {
        type: 'heatmap',
        x,
        y: uids,
        z,
        colorscale: options.colorscale,
        colorbar: { title: { text: options.valueLabel, side: 'right' }, thickness: 14 },
        hovertemplate: `${hoverText(options.xLabel)} ≈ %{x:,.0f}<br>uid %{y}<br>${hoverText(options.valueLabel)} %{z:.4g}<extra></extra>`,
        hoverongaps: false,
      },
    ],
    layout: baseLayout({
      height: Math.min(720, Math.max(320, 160 + uids.length * 1.6)),
      xaxis: axis(options.xLabel),
      yaxis: axis('uid', { autorange: 'reversed' }),
      margin: { l: 60, r: 20, t: 16, b: 48 },
    }),
  };
}
