/**
 * Rounding for numbers headed into the report's JSON: each array keeps a resolution relative to its
 * own range (1/20 000 of the span by default), far below a pixel at any zoom, instead of 17 digits.
 * Integers stay exact (block numbers, uids, counts). NaN and ±Infinity become NaN (JSON null, a gap).
 */
export function roundedValues(values: ArrayLike<number | null>, resolution = 20_000): number[] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Array<number>(values.length);
  if (min > max) return out.fill(NaN);
  const span = max - min;
  const scale = span > 0 ? span / resolution : Math.max(Math.abs(max), 1e-300) * 1e-6;
  const exponent = Math.floor(Math.log10(scale));
  const quantum = 10 ** exponent;
  const decimals = Math.min(100, Math.max(0, -exponent));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) out[i] = NaN;
    else if (Number.isInteger(v)) out[i] = v;
    else out[i] = Number((Math.round(v / quantum) * quantum).toFixed(decimals));
  }
  return out;
}

/**
 * Values kept to `digits` significant digits each (what the hover shows, `%{z:.4g}`), so a small
 * value beside large ones (a score of 1.3e-6 in a matrix reaching 0.5) keeps its size instead of
 * rounding to 0. NaN and ±Infinity become NaN (JSON null, a gap).
 */
export function significantValues(values: ArrayLike<number | null>, digits: number): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(digits)) : NaN;
  }
  return out;
}

/** 19,619 · 32.9 M · 1.23 B */
export function formatRows(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1e9) return `${(value / 1e9).toPrecision(3)} B`;
  if (Math.abs(value) >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** 0.15 % · 100 % · 0.0031 % */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '–';
  const percent = ratio * 100;
  if (percent >= 99.95) return `${percent >= 100 ? 100 : percent.toFixed(1)} %`;
  return `${Number(percent.toPrecision(2))} %`;
}

/** A number for a table cell or caption: integers with separators, others with 4 significant digits. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3) return value.toExponential(3);
  return Number(value.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}
