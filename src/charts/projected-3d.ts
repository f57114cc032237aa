import type { VegaLiteSpec } from '../render/index.js';
import { captionLines } from './caption-lines.js';

export interface Projected3dOptions {
  /** Column-major sample with `x`, `uid` and the value column. */
  sample: Record<string, unknown[]>;
  value: string;
  valueTitle: string;
  xTitle: string;
  caption: string;
  /** Degrees; the default view looks from the front left, slightly above. */
  azimuth?: number;
  elevation?: number;
}

type Vec3 = [number, number, number];

const HEIGHT = 300;
const TICK_FONT = 9.5;

/**
 * A static 3-D scatter of x × uid × value from the reservoir sample, projected by hand (Vega-Lite
 * has no 3-D): each axis is normalised to [0, 1], the unit cube is rotated by azimuth about the
 * vertical value axis and tilted by elevation, and drawn orthographically with its back edges,
 * three labelled axes along front edges and the points painted far to near.
 */
export function projected3dSpec(options: Projected3dOptions): VegaLiteSpec {
  const { sample, value } = options;
  const az = ((options.azimuth ?? -35) * Math.PI) / 180;
  const el = ((options.elevation ?? 25) * Math.PI) / 180;
  const rows: { x: number; uid: number; v: number }[] = [];
  for (let i = 0; i < (sample.x ?? []).length; i++) {
    const [x, uid, v] = [sample.x[i], sample.uid[i], sample[value][i]].map(Number);
    if ([x, uid, v].every(Number.isFinite)) rows.push({ x, uid, v });
  }
  const ranges = (['x', 'uid', 'v'] as const).map((k) => extent(rows.map((r) => r[k])));
  const norm = (axis: number, v: number) => {
    const [lo, hi] = ranges[axis];
    return hi > lo ? (v - lo) / (hi - lo) : 0.5;
  };
  /** Screen position (px right, py up) and depth (larger = farther) of a cube point. */
  const project = ([a, b, c]: Vec3) => {
    const [X, Y, Z] = [a - 0.5, b - 0.5, c - 0.5];
    const x1 = X * Math.cos(az) - Y * Math.sin(az);
    const y1 = X * Math.sin(az) + Y * Math.cos(az);
    return { px: x1, py: Z * Math.cos(el) + y1 * Math.sin(el), depth: y1 * Math.cos(el) - Z * Math.sin(el) };
  };
  const depthOf = (p: Vec3) => project(p).depth;

  const points = rows
    .map((r) => {
      const p = project([norm(0, r.x), norm(1, r.uid), norm(2, r.v)]);
      return { px: p.px, py: p.py, depth: p.depth, v: r.v, block: r.x, uid: r.uid };
    })
    .sort((a, b) => b.depth - a.depth);

  // Back faces: the face whose outward normal points away from the viewer on each axis.
  const backX = depthOf([1, 0.5, 0.5]) > depthOf([0, 0.5, 0.5]) ? 1 : 0;
  const backY = depthOf([0.5, 1, 0.5]) > depthOf([0.5, 0, 0.5]) ? 1 : 0;
  const backZ = depthOf([0.5, 0.5, 1]) > depthOf([0.5, 0.5, 0]) ? 1 : 0;
  const edges: { px: number; py: number; px2: number; py2: number }[] = [];
  const edge = (a: Vec3, b: Vec3) => {
    const [p, q] = [project(a), project(b)];
    edges.push({ px: p.px, py: p.py, px2: q.px, py2: q.py });
  };
  for (const s of [0, 1]) {
    edge([backX, s, 0], [backX, s, 1]); // vertical edges of the back x face
    edge([backX, 0, s], [backX, 1, s]);
    edge([0, backY, s], [1, backY, s]);
    edge([s, backY, 0], [s, backY, 1]);
    edge([0, s, backZ], [1, s, backZ]);
    edge([s, 0, backZ], [s, 1, backZ]);
  }

  // Axes on the front floor edges (x, uid) and the leftmost vertical edge (value).
  const frontX = 1 - backX;
  const frontY = 1 - backY;
  const floor = backZ;
  const leftCorner = ([0, 1] as const)
    .flatMap((a) => ([0, 1] as const).map((b) => [a, b] as const))
    .filter(([a, b]) => a !== backX || b !== backY)
    .sort((p, q) => project([p[0], p[1], 0]).px - project([q[0], q[1], 0]).px)[0];
  const axes: { title: string; from: Vec3; to: Vec3; axis: number; integer: boolean }[] = [
    { title: options.xTitle, from: [0, frontY, floor], to: [1, frontY, floor], axis: 0, integer: true },
    { title: 'uid', from: [frontX, 0, floor], to: [frontX, 1, floor], axis: 1, integer: true },
    {
      title: options.valueTitle,
      from: [leftCorner[0], leftCorner[1], 0],
      to: [leftCorner[0], leftCorner[1], 1],
      axis: 2,
      integer: false,
    },
  ];
  const corners = edges.flatMap((e) => [
    [e.px, e.py],
    [e.px2, e.py2],
  ]);
  const pad = 0.12;
  const xDomain = [Math.min(...corners.map((p) => p[0])) - pad, Math.max(...corners.map((p) => p[0])) + pad];
  const yDomain = [Math.min(...corners.map((p) => p[1])) - pad, Math.max(...corners.map((p) => p[1])) + pad];
  /** Points per projected unit; the same on both axes, so the cube is not distorted. */
  const scale = HEIGHT / (yDomain[1] - yDomain[0]);
  const centre = project([0.5, 0.5, 0.5]);
  const axisLines: { px: number; py: number; px2: number; py2: number }[] = [];
  const layers: unknown[] = [];
  const labels: { px: number; py: number; text: string; align: string; baseline: string; bold: boolean }[] =
    [];
  for (const a of axes) {
    const [p, q] = [project(a.from), project(a.to)];
    axisLines.push({ px: p.px, py: p.py, px2: q.px, py2: q.py });
    // Labels go away from the cube's centre; as many round ticks as fit without overlapping.
    const mid = project(a.from.map((f, i) => (f + a.to[i]) / 2) as Vec3);
    let [ox, oy] = [mid.px - centre.px, mid.py - centre.py];
    const len = Math.hypot(ox, oy) || 1;
    [ox, oy] = [ox / len, oy / len];
    const align = ox < -0.35 ? 'right' : ox > 0.35 ? 'left' : 'center';
    const baseline = oy < -0.35 ? 'top' : oy > 0.35 ? 'bottom' : 'middle';
    const [lo, hi] = ranges[a.axis];
    const axisLength = Math.hypot(q.px - p.px, q.py - p.py) * scale;
    const [ux, uy] = [(q.px - p.px) / (axisLength / scale || 1), (q.py - p.py) / (axisLength / scale || 1)];
    const widthOf = (ts: number[]) => Math.max(0, ...ts.map((t) => formatTick(t).length)) * TICK_FONT * 0.6;
    const fits = (ts: number[]) => {
      if (ts.length < 2) return true;
      const footprint = Math.abs(ux) * widthOf(ts) + Math.abs(uy) * TICK_FONT * 1.2 + 6;
      return ((ts[1] - ts[0]) / (hi - lo)) * axisLength >= footprint;
    };
    // Round ticks, thinned to every 2nd or 3rd when long labels on a short axis would overlap.
    let ticks: number[] = [];
    for (let count = 6; count >= 1; count--)
      for (const every of [1, 2, 3]) {
        const candidate = niceTicks(lo, hi, count, a.integer).filter((_, i) => i % every === 0);
        if (candidate.length > ticks.length && fits(candidate)) ticks = candidate;
      }
    const labelWidth = widthOf(ticks);
    for (const t of ticks) {
      const s = hi > lo ? (t - lo) / (hi - lo) : 0.5;
      const at = project(a.from.map((f, i) => f + (a.to[i] - f) * s) as Vec3);
      axisLines.push({ px: at.px, py: at.py, px2: at.px + (ox * 4) / scale, py2: at.py + (oy * 4) / scale });
      const o = 6 / scale;
      labels.push({
        px: at.px + ox * o,
        py: at.py + oy * o,
        text: formatTick(t),
        align,
        baseline,
        bold: false,
      });
    }
    // The title clears the tick labels: their width sideways, their height up or down.
    const clear = (6 + Math.abs(ox) * labelWidth + Math.abs(oy) * TICK_FONT * 1.2 + 6) / scale;
    labels.push({
      px: mid.px + ox * clear,
      py: mid.py + oy * clear,
      text: a.title,
      align,
      baseline,
      bold: true,
    });
  }

  const pos = (field: string, domain: number[]) => ({
    field,
    type: 'quantitative',
    scale: { domain, nice: false, zero: false },
    axis: null,
  });
  const lineLayer = (values: unknown[], color: string, width: number) => ({
    data: { values },
    mark: { type: 'rule', color, strokeWidth: width },
    encoding: {
      x: pos('px', xDomain),
      y: pos('py', yDomain),
      x2: { field: 'px2' },
      y2: { field: 'py2' },
    },
  });
  layers.push(lineLayer(edges, '#c8c8c8', 0.8));
  layers.push({
    data: { values: points },
    mark: { type: 'circle', size: 7, opacity: 0.65, aria: false },
    encoding: {
      x: pos('px', xDomain),
      y: pos('py', yDomain),
      color: {
        field: 'v',
        type: 'quantitative',
        scale: { scheme: 'viridis' },
        legend: { title: options.valueTitle, gradientLength: 160 },
      },
    },
  });
  layers.push(lineLayer(axisLines, '#555555', 1));
  for (const align of ['left', 'right', 'center'])
    for (const baseline of ['top', 'bottom', 'middle'])
      for (const bold of [false, true]) {
        const group = labels.filter((l) => l.align === align && l.baseline === baseline && l.bold === bold);
        if (!group.length) continue;
        layers.push({
          data: { values: group },
          mark: {
            type: 'text',
            align,
            baseline,
            fontSize: bold ? 11 : TICK_FONT,
            color: bold ? '#222222' : '#444444',
          },
          encoding: { x: pos('px', xDomain), y: pos('py', yDomain), text: { field: 'text' } },
        });
      }
  return {
    title: {
      text: `${options.valueTitle}: ${options.xTitle} × uid × value`,
      subtitle: captionLines(options.caption, 70),
    },
    width: Math.round((xDomain[1] - xDomain[0]) * scale),
    height: HEIGHT,
    // The plot area is exactly the projection (equal units on both axes); labels and legend add to it.
    autosize: { type: 'pad' },
    layer: layers,
  } as unknown as VegaLiteSpec;
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** About `count` round tick values inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number, integer: boolean): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatTick(t: number): string {
  const text = Math.abs(t) >= 1000 ? t.toLocaleString('en-US') : String(Number(t.toPrecision(4)));
  return text.replace('-', '−');
}
