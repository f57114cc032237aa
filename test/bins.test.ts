import { describe, expect, it } from 'vitest';
import { binIndex, binIndexSql, binSpec } from '../src/engine/bins.js';
import { Session } from '../src/engine/session.js';

/** A width is round: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten. */
function isRound(width: number): boolean {
  const decade = 10 ** Math.floor(Math.log10(width) + 1e-12);
  const step = Math.round((width / decade) * 100) / 100;
  return [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8].includes(step);
}

describe('bins on a round grid', () => {
  it('cover [min, max] in at most maxBins round bins starting at a multiple of the width', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const integer = i % 2 === 0;
      const scale = 10 ** Math.floor(random() * 12 - 4);
      let min = (random() - 0.3) * scale * 1000;
      let max = min + random() * scale * 100;
      if (integer) [min, max] = [Math.round(min), Math.round(max) + 1];
      if (max <= min) continue;
      const maxBins = 1 + Math.floor(random() * 400);
      const spec = binSpec(min, max, maxBins, integer);
      expect(spec.count).toBeLessThanOrEqual(maxBins);
      expect(spec.count).toBeGreaterThanOrEqual(1);
      if (maxBins === 1) {
        expect(spec.x0).toBe(min);
        expect(binIndex(max, spec)).toBe(0);
        continue;
      }
      if (integer && max - min + 1 <= maxBins) {
        expect(spec).toEqual({ x0: min, width: 1, count: max - min + 1 });
        continue;
      }
      expect(isRound(spec.width)).toBe(true);
      if (integer) expect(Number.isInteger(spec.width)).toBe(true);
      // x0 is a multiple of the width at or below min; min and max fall in the first and last bin.
      expect(Math.abs(spec.x0 / spec.width - Math.round(spec.x0 / spec.width))).toBeLessThan(1e-6);
      expect(spec.x0).toBeLessThanOrEqual(min);
      expect(binIndex(min, spec)).toBe(0);
      expect(binIndex(max, spec)).toBe(spec.count - 1);
      // The next smaller round width would need more than maxBins bins (or is not whole).
      expect(spec.count * spec.width).toBeGreaterThan(max - min);
    }
  });

  it('keep their edges while the range grows by a little, and give most of the bins asked for', () => {
    const spec = binSpec(2_400_001, 6_896_000, 200, true);
    expect(spec).toEqual({ x0: 2_400_000, width: 25_000, count: 180 });
    // 1 % more blocks: the same grid, two bins more.
    const grown = binSpec(2_400_001, 6_896_000 + 44_960, 200, true);
    expect(grown.x0).toBe(spec.x0);
    expect(grown.width).toBe(spec.width);
    expect(grown.count).toBe(spec.count + 2);
    // Timestamps (not integers): round seconds.
    const time = binSpec(1_700_000_123.25, 1_700_086_523.75, 300, false);
    expect(time.width).toBe(300);
    expect(time.x0).toBe(1_700_000_100);
    // Every maxBins from 1 to 1000 gets at least 3/4 of its bins, minus the partial ones at the ends.
    for (let maxBins = 1; maxBins <= 1000; maxBins++) {
      const s = binSpec(0.37, 987.6, maxBins, false);
      expect(s.count).toBeLessThanOrEqual(maxBins);
      expect(s.count).toBeGreaterThanOrEqual(Math.floor(maxBins * 0.75) - 1);
    }
  });

  it('in SQL: the same bin for every x as in JavaScript', async () => {
    const session = await Session.create();
    try {
      for (const [min, max, maxBins, integer] of [
        [0.1, 0.7, 7, false],
        [2_400_001, 6_896_000, 200, true],
        [-3.3, 1e-3, 13, false],
        [1_700_000_123.25, 1_700_086_523.75, 300, false],
      ] as const) {
        const spec = binSpec(min, max, maxBins, integer);
        const xs = Array.from({ length: 101 }, (_, i) => min + ((max - min) * i) / 100);
        xs.push(min, max, spec.x0, spec.x0 + spec.width * 3);
        const rows = await session.all<{ x: number; bin: number }>(
          `SELECT x, ${binIndexSql('x', spec).text} AS bin FROM (VALUES ${xs.map((x) => `(CAST(${x} AS DOUBLE))`).join(', ')}) t(x)`,
        );
        for (const row of rows) expect(row.bin).toBe(binIndex(row.x, spec));
      }
    } finally {
      session.close();
    }
  });
});
