import type { XSpan } from './range-state.js';
import { lit, sql, trusted, type Sql } from './sql.js';

/** How an x range is cut into at most `maxBins` equal bins: bin i is [x0 + i·width, x0 + (i+1)·width). */
export interface BinSpec {
  x0: number;
  width: number;
  count: number;
}

/**
 * Bin widths: these times a power of ten. Consecutive widths differ by at most 1.33×, so a chart
 * gets at least three quarters of the bins it asks for.
 */
const ROUND_WIDTHS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8];

/**
 * Equal bins over [min, max] on a grid that does not move as the run grows: the smallest round
 * width (ROUND_WIDTHS × 10^k; whole numbers on an integer axis) that covers the range in at most
 * `maxBins` bins, the bins starting at multiples of it. So the bins of a run that grows keep their
 * edges until its range needs a wider width, and what was computed per bin before still holds
 * (answers kept per range of x, answers.ts). Integer axes with a small range get one bin per
 * value, so a run with few steps is shown exactly.
 */
export function binSpec(min: number, max: number, maxBins: number, integer: boolean): BinSpec {
  if (!(maxBins >= 1)) throw new Error(`maxBins must be at least 1, got ${maxBins}`);
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return { x0: min, width: 1, count: 1 };
  if (integer && max - min + 1 <= maxBins) return { x0: min, width: 1, count: max - min + 1 };
  const least = (max - min) / maxBins;
  // One bin: a range across a multiple of every width (e.g. −5 … 5) is never one bin on a grid.
  if (maxBins === 1) return { x0: min, width: roundAbove(max - min, integer), count: 1 };
  let decade = 10 ** Math.floor(Math.log10(least)) / 10;
  for (;;) {
    for (const step of ROUND_WIDTHS) {
      const width = step * decade;
      if (width < least || (integer && !Number.isInteger(width))) continue;
      const spec = gridSpec(min, max, width);
      if (spec.count <= maxBins) return spec;
    }
    decade *= 10;
  }
}

/** The smallest round width above `span`. */
function roundAbove(span: number, integer: boolean): number {
  for (let decade = 10 ** Math.floor(Math.log10(span)) / 10; ; decade *= 10)
    for (const step of ROUND_WIDTHS) {
      const width = step * decade;
      if (width > span && (!integer || Number.isInteger(width))) return width;
    }
}

/** The bins of `width` on multiples of it that cover [min, max]. */
function gridSpec(min: number, max: number, width: number): BinSpec {
  let x0 = Math.floor(min / width) * width;
  // Rounding can put the multiple just above min: then the one below.
  if (x0 > min) x0 -= width;
  return { x0, width, count: Math.floor((max - x0) / width) + 1 };
}

/**
 * SQL for the bin index of an x expression. Every x in [min, max] falls in a bin (binSpec counts
 * them with the same arithmetic), so the text does not name the count: it stays the same while the
 * run grows on the same grid.
 */
export function binIndexSql(x: string | Sql, spec: BinSpec): Sql {
  const value = typeof x === 'string' ? trusted(x) : x;
  return sql`CAST(floor((${value} - ${lit(spec.x0)}) / ${lit(spec.width)}) AS INTEGER)`;
}

export function binIndex(x: number, spec: BinSpec): number {
  return Math.floor((x - spec.x0) / spec.width);
}

/**
 * A bin index from SQL held to the spec's bins: rows of another view than the one whose range cut
 * the bins (uid rows, vectors by uid) fall in the nearest bin should their x lie outside it.
 */
export function heldBin(bin: number, spec: BinSpec): number {
  return Math.min(Math.max(bin, 0), spec.count - 1);
}

export type BinRange = { from: number; to: number } | undefined;

/**
 * Ranges of whole bins out of `count` holding about `pieceRows` of the run's `rows` each, in
 * order; [undefined]: one query over every bin. A range is a power of two of bins starting at a
 * multiple of it, so the ranges stay put while a run grows on the same bins (binSpec): an append
 * changes the last range, until the run has grown to twice its rows per bin.
 */
export function binRanges(count: number, rows: number, pieceRows: number): BinRange[] {
  if (rows <= pieceRows || count <= 1) return [undefined];
  const size = 2 ** Math.max(0, Math.floor(Math.log2((count * pieceRows) / rows)));
  return Array.from({ length: Math.ceil(count / size) }, (_, i) => ({
    from: i * size,
    to: Math.min(count, (i + 1) * size),
  }));
}

/**
 * The x of a range of whole bins (undefined: every bin), `margin` bins wider on each side: open
 * below where the range starts at the first bin, open above where it ends at the last.
 */
export function binsSpan(spec: BinSpec, bins: BinRange, margin = 0): XSpan {
  return {
    from: bins && bins.from > 0 ? spec.x0 + (bins.from - margin) * spec.width : -Infinity,
    to: bins && bins.to < spec.count ? spec.x0 + (bins.to + margin) * spec.width : Infinity,
  };
}

/**
 * The x of ranges of whole bins (binRanges) as half-open spans that cover every x: the first open
 * below, the last open above, each next one starting where the one before ends.
 */
export function xSpans(spec: BinSpec, rows: number, pieceRows: number): XSpan[] {
  return binRanges(spec.count, rows, pieceRows).map((bins) => binsSpan(spec, bins));
}
