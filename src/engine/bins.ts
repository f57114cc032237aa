import { lit, sql, trusted, type Sql } from './sql.js';

/** How an x range is cut into at most `maxBins` equal bins. */
export interface BinSpec {
  x0: number;
  width: number;
  count: number;
}

/**
 * Equal-width bins over [min, max]. Integer axes with a small range get one bin per value, so a
 * run with few steps is shown exactly; otherwise at most `maxBins` bins, the last one closed.
 */
export function binSpec(min: number, max: number, maxBins: number, integer: boolean): BinSpec {
  if (!(maxBins >= 1)) throw new Error(`maxBins must be at least 1, got ${maxBins}`);
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return { x0: min, width: 1, count: 1 };
  if (integer && max - min + 1 <= maxBins) return { x0: min, width: 1, count: max - min + 1 };
  let width = (max - min) / maxBins;
  if (integer) width = Math.ceil((max - min + 1) / maxBins);
  const count = Math.min(maxBins, Math.floor((max - min) / width) + 1);
  return { x0: min, width, count };
}

/** SQL for the bin index of an x expression; values at the top edge fall into the last bin. */
export function binIndexSql(x: string | Sql, spec: BinSpec): Sql {
  const value = typeof x === 'string' ? trusted(x) : x;
  return sql`least(CAST(floor((${value} - ${lit(spec.x0)}) / ${lit(spec.width)}) AS INTEGER), ${lit(spec.count - 1)})`;
}

export function binIndex(x: number, spec: BinSpec): number {
  return Math.min(Math.floor((x - spec.x0) / spec.width), spec.count - 1);
}
