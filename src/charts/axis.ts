/**
 * A quantitative axis labelled with SI prefixes (100k, 1.5M). Vega gives every tick the prefix of
 * the largest one, so zero would read "0M": it is written "0".
 */
export const SI_AXIS = { format: '~s', labelExpr: "datum.value === 0 ? '0' : datum.label" } as const;

/** How a value axis shows one series' finite values (the band's and the line's together). */
export interface ValueAxis {
  /** Every value is this one: the series is drawn flat and its caption says so. */
  constant?: number;
  /** For a constant series, a readable range around it (Vega would squash a zero-width domain). */
  padding?: [number, number];
  /** Significant digits the tick labels need so that no two read the same (at least 3). */
  digits: number;
}

export function valueAxis(values: Iterable<number | null | undefined>): ValueAxis {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values)
    if (typeof v === 'number' && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  if (!(lo <= hi)) return { digits: 3 };
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    return { constant: lo, padding: [lo - pad, lo + pad], digits: 3 };
  }
  // About five ticks over the range: each label needs the digits down to one tick step.
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
  const digits = Math.ceil(Math.log10(magnitude / ((hi - lo) / 5))) + 1;
  return { digits: Math.min(12, Math.max(3, digits)) };
}

/** A Vega number format with `digits` significant digits, trailing zeros trimmed. */
export function significantFormat(digits: number): string {
  return `,.${digits}~r`;
}

/** 1 → "1.0", 0.05 → "0.05": how a caption names a constant series' value. */
export function constantText(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e15 ? value.toFixed(1) : String(value);
}
