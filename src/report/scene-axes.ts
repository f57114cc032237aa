/** Plotly's rules for a 3-D scene's axes, for the scene preview: range, ticks, text, sides. */
export interface SceneAxes {
  /** The data's extent padded by 1/32 on each side; `span` is the unpadded extent (1 if none). */
  axisRange(values: number[][]): { range: [number, number]; span: number };
  /** Ticks at multiples of 2, 5 or 10 × a power of ten, at most `nticks` of them over the range. */
  autoTicks(range: [number, number], nticks: number): { ticks: number[]; dtick: number };
  /** A tick's text as Plotly writes it for the axis' exponentformat and separatethousands. */
  tickText(value: number, dtick: number, axis: Record<string, any>, max: number): string;
  /**
   * gl-axes' cube properties for a camera outside the box: `far[d]`, the box coordinate of the face
   * across axis d that is away from the camera (its background and grid are drawn), and `edges[i]`,
   * the corner bits (bit d: on the + side of axis d) of the edge along axis i that carries its ticks.
   * `corner(v)` is the normalized device position of box corner v (bit d set: + side of axis d).
   */
  cubeSides(
    eye: [number, number, number],
    aspect: [number, number, number],
    corner: (v: number) => [number, number],
  ): { edges: number[]; far: number[] };
}

/**
 * What plotly.js does for a scatter3d scene's axes (src/plots/gl3d/scene.js autorange,
 * src/plots/cartesian/axes.js autoTicks and number format, gl-axes' cube properties), so that
 * the preview's box, grid and labels are Plotly's. Inlined into the page as its source text, like
 * the page script: nothing from outside.
 */
export function sceneAxes(): SceneAxes {
  /** Plotly's autorange of a scatter3d axis: the data's extent padded by 1/32 on each side. */
  function axisRange(values: number[][]): { range: [number, number]; span: number } {
    let lo = Infinity;
    let hi = -Infinity;
    for (const list of values)
      for (const v of list)
        if (typeof v === 'number' && isFinite(v)) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
    if (lo > hi) return { range: [-1, 1], span: 1 };
    if (lo === hi) return { range: [lo - 1, lo + 1], span: 1 };
    const pad = (hi - lo) / 32;
    return { range: [lo - pad, hi + pad], span: hi - lo };
  }

  /** Plotly's Axes.autoTicks for a linear axis: tick0 0, dtick 2, 5 or 10 × a power of ten. */
  function autoTicks(range: [number, number], nticks: number): { ticks: number[]; dtick: number } {
    const rough = Math.abs(range[1] - range[0]) / nticks;
    const base = Math.pow(10, Math.floor(Math.log(rough) / Math.LN10));
    // Lib.roundUp: the first of 2, 5, 10 above the ratio (5 for 2, 10 for 5).
    const step = [2, 5].find((s) => s > rough / base) ?? 10;
    const dtick = base * step;
    const ticks: number[] = [];
    const lo = Math.min(range[0], range[1]);
    const hi = Math.max(range[0], range[1]);
    for (let k = Math.ceil(lo / dtick - 1e-9); k * dtick <= hi + dtick * 1e-9; k++)
      ticks.push(Math.round(k * dtick * 1e12) / 1e12);
    return { ticks, dtick };
  }

  /** Plotly's tick text: its rounding to dtick, k/M/B suffixes (exponentformat "B"), U+2212 minus. */
  function tickText(value: number, dtick: number, axis: Record<string, any>, max: number): string {
    let exponent = 0;
    const format = axis.exponentformat ?? 'B';
    const rangeExponent = Math.floor(Math.log(max) / Math.LN10 + 0.01);
    if (format !== 'none' && Math.abs(rangeExponent) > 3 && rangeExponent > 0)
      exponent = Math.min(12, 3 * Math.round((rangeExponent - 1) / 3));
    if (Number(value.toFixed(12)) === 0) return '0';
    const scaled = value / Math.pow(10, exponent);
    const digits = Math.max(0, -Math.floor(Math.log(dtick / Math.pow(10, exponent)) / Math.LN10 + 0.01));
    const fixed = Math.abs(scaled).toFixed(Math.min(digits, 20));
    const [whole, fraction] = fixed.split('.');
    const separate = axis.separatethousands === true || whole.length > 4;
    const grouped = separate ? whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') : whole;
    const suffix = exponent ? ({ 3: 'k', 6: 'M', 9: 'B', 12: 'T' } as Record<number, string>)[exponent] : '';
    // Plotly drops a fraction's trailing zeros: 0, 0.2, 0.25 (not 0.0, 0.20).
    const decimals = (fraction ?? '').replace(/0+$/, '');
    const text = grouped + (decimals ? `.${decimals}` : '') + suffix;
    return (scaled < 0 && Number(fixed) !== 0 ? '\u2212' : '') + text;
  }

  /** gl-axes' getCubeProperties, for a camera outside the box. */
  function cubeSides(
    eye: [number, number, number],
    aspect: [number, number, number],
    corner: (v: number) => [number, number],
  ): { edges: number[]; far: number[] } {
    let closest = 0;
    for (let d = 0; d < 3; d++) if (eye[d] > aspect[d] / 2) closest |= 1 << d;
    const farthest = 7 ^ closest;
    const screen = Array.from({ length: 8 }, (_, v) => corner(v));
    // The lowest corner on screen (but the nearest and the farthest), and its neighbours.
    let bottom = -1;
    for (let v = 0; v < 8; v++) {
      if (v === closest || v === farthest) continue;
      if (bottom < 0 || screen[bottom][1] > screen[v][1]) bottom = v;
    }
    let left = -1;
    for (let i = 0; i < 3; i++) {
      const v = bottom ^ (1 << i);
      if (v === closest || v === farthest) continue;
      if (left < 0 || screen[v][0] < screen[left][0]) left = v;
    }
    let right = -1;
    for (let i = 0; i < 3; i++) {
      const v = bottom ^ (1 << i);
      if (v === closest || v === farthest || v === left) continue;
      if (right < 0 || screen[v][0] > screen[right][0]) right = v;
    }
    const edges = [0, 0, 0];
    const bit = (v: number): number => Math.round(Math.log2(v));
    edges[bit(left ^ bottom)] = bottom & left;
    edges[bit(bottom ^ right)] = bottom & right;
    let top = right ^ 7;
    if (top === closest || top === farthest) {
      top = left ^ 7;
      edges[bit(right ^ top)] = top & right;
    } else edges[bit(left ^ top)] = top & left;
    const far = [0, 1, 2].map((d) => (closest & (1 << d) ? -aspect[d] / 2 : aspect[d] / 2));
    return { edges, far };
  }

  return { axisRange, autoTicks, tickText, cubeSides };
}
