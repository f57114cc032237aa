import { scheme } from 'vega';

export type Rgb = readonly [number, number, number];

/** Continuous Vega schemes that read well as heatmap colours (all perceptually ordered). */
export const CONTINUOUS_SCHEMES = [
  'viridis',
  'magma',
  'inferno',
  'plasma',
  'cividis',
  'turbo',
  'blues',
  'greens',
  'greys',
  'oranges',
  'reds',
  'purples',
  'blueorange',
  'redblue',
] as const;

/**
 * The colour of a continuous Vega scheme at `t` in [0, 1] (clamped) — the same interpolator Vega
 * uses for the legend gradient, so raster cells and legend agree.
 */
export function schemeColor(name: string, t: number): Rgb {
  const interpolate = schemeInterpolator(name);
  return parseRgb(interpolate(Math.min(1, Math.max(0, t))));
}

/**
 * `levels` colours evenly sampled from a continuous scheme, as packed RGB bytes:
 * level i is the scheme at t = i / (levels - 1).
 */
export function schemeRamp(name: string, levels: number): Uint8Array {
  if (!(Number.isInteger(levels) && levels >= 2)) {
    throw new RangeError(`schemeRamp: levels must be an integer ≥ 2, got ${levels}`);
  }
  const interpolate = schemeInterpolator(name);
  const ramp = new Uint8Array(levels * 3);
  for (let i = 0; i < levels; i++) ramp.set(parseRgb(interpolate(i / (levels - 1))), i * 3);
  return ramp;
}

function schemeInterpolator(name: string): (t: number) => string {
  const found: unknown = scheme(name);
  if (typeof found !== 'function') {
    throw new RangeError(
      `Unknown continuous colour scheme "${name}". Use one of: ${CONTINUOUS_SCHEMES.join(', ')} ` +
        '(or any continuous Vega scheme name).',
    );
  }
  return found as (t: number) => string;
}

function parseRgb(color: string): Rgb {
  const rgb = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(color);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const value = parseInt(hex[1], 16);
    return [value >> 16, (value >> 8) & 0xff, value & 0xff];
  }
  throw new Error(`Colour scheme returned "${color}", expected rgb(r, g, b) or #rrggbb`);
}
