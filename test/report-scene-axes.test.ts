import { describe, expect, it } from 'vitest';
import { sceneAxes } from '../src/report/scene-axes.js';

/**
 * The 3-D preview's axes against what Plotly drew for the same data: the 1 GB FileTAO run's reward
 * map (its `_fullLayout.scene` ranges, gl-axes' tick texts and where it put them) and scatter3d
 * axes over the ranges below with the same nticks, read back from Plotly 4.1 in Chromium.
 */
const { axisRange, autoTicks, tickText, cubeSides } = sceneAxes();
const texts = (range: [number, number], nticks: number, axis: Record<string, unknown>) => {
  const { ticks, dtick } = autoTicks(range, nticks);
  const max = Math.max(...ticks.map(Math.abs));
  return ticks.map((t) => tickText(t, dtick, axis, max));
};

describe('scene axes (Plotly gl3d)', () => {
  it('autorange pads the data by 1/32 on each side; one value or none get ±1', () => {
    expect(
      axisRange([
        [2_400_001, 2_500_000],
        [2_841_683, Number.NaN],
      ]),
    ).toEqual({
      range: [2_386_198.4375, 2_855_485.5625],
      span: 441_682,
    });
    expect(axisRange([[0], [255]]).range).toEqual([-7.96875, 262.96875]);
    expect(axisRange([[5, 5]])).toEqual({ range: [4, 6], span: 1 });
    expect(axisRange([[], [Number.NaN]])).toEqual({ range: [-1, 1], span: 1 });
  });

  it('auto ticks and their text: the block, uid and reward axes Plotly drew', () => {
    expect(
      texts([2_386_198.4375, 2_855_485.5625], 5, { exponentformat: 'none', separatethousands: true }),
    ).toEqual(['2,400,000', '2,500,000', '2,600,000', '2,700,000', '2,800,000']);
    expect(texts([-7.96875, 262.96875], 9, {})).toEqual(['0', '50', '100', '150', '200', '250']);
    expect(texts([-0.498_273_437_5, 0.973_703_437_5], 9, {})).toEqual([
      '\u22120.4',
      '\u22120.2',
      '0',
      '0.2',
      '0.4',
      '0.6',
      '0.8',
    ]);
    expect(texts([-1.6, 53.1], 9, {})).toEqual(['0', '10', '20', '30', '40', '50']);
  });

  it('tick text: k/M suffixes from 10 000 on (exponentformat B), none with "none", grouping from 5 digits', () => {
    expect(texts([0, 41_000], 4, {})).toEqual(['0', '20k', '40k']);
    expect(texts([0, 41_000], 4, { exponentformat: 'none' })).toEqual(['0', '20,000', '40,000']);
    expect(texts([0, 3_100], 4, {})).toEqual(['0', '1000', '2000', '3000']);
    expect(texts([0, 0.0031], 4, {})).toEqual(['0', '0.001', '0.002', '0.003']);
    expect(texts([0, 2_500_000], 5, {})).toEqual(['0', '1M', '2M']);
  });

  it("cube sides for the report's camera: far faces and the edges that carry the labels", () => {
    // The report's scene: eye (1.55, −1.55, 0.7) looking at (0, 0, −0.2), z up, aspect 1.6 : 1 : 0.75.
    const eye: [number, number, number] = [1.55, -1.55, 0.7];
    const aspect: [number, number, number] = [1.6, 1, 0.75];
    const center = [0, 0, -0.2];
    const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
    const unit = (a: number[]) => a.map((v) => v / Math.hypot(...a));
    const cross = (a: number[], b: number[]) => [
      a[1] * b[2] - a[2] * b[1],
      a[2] * b[0] - a[0] * b[2],
      a[0] * b[1] - a[1] * b[0],
    ];
    const forward = unit(sub(eye, center));
    const side = unit(cross([0, 0, 1], forward));
    const up = cross(forward, side);
    const corner = (v: number): [number, number] => {
      const p = [0, 1, 2].map((d) => (((v >> d) & 1 ? 1 : -1) * aspect[d]) / 2);
      const q = sub(p, eye);
      const w = -dot(forward, q);
      return [dot(side, q) / w, dot(up, q) / w];
    };
    // Plotly put block's labels on the front bottom edge (low uid, low value), uid's on the right
    // bottom edge (high block, low value), the value's on the front left upright (low block, low uid).
    expect(cubeSides(eye, aspect, corner)).toEqual({ edges: [0, 1, 0], far: [-0.8, 0.5, -0.375] });
  });
});
