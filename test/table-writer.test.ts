import { describe, expect, it } from 'vitest';
import { Session } from '../src/engine/session.js';
import { BATCH_ROWS, TableWriter } from '../src/engine/table-writer.js';

describe('TableWriter', () => {
  it('stores numbers, text and nulls exactly, in chunks of any length, whatever the null pattern', async () => {
    const session = await Session.create();
    try {
      const writer = new TableWriter(session, 't', [
        { name: 'i', type: 'INTEGER' },
        { name: 'n', type: 'INTEGER' },
      ]);
      await writer.create();
      // Several flushes of odd sizes (not multiples of 64) and more than one chunk each.
      const sizes = [1, 63, 65, BATCH_ROWS + 7, 3 * BATCH_ROWS - 1];
      const expected: { i: number; n: number | null; d: number | null; s: string | null }[] = [];
      let i = 0;
      for (const size of sizes) {
        for (let k = 0; k < size; k++, i++) {
          const row = {
            i,
            n: i % 7 === 0 ? null : -i * 3,
            // NaN, infinities, -0 and integers past 2^53 go through unchanged; every 5th row is null,
            // and the first rows have no value at all (the column appears later).
            d:
              i < 40 || i % 5 === 0
                ? null
                : [NaN, Infinity, -Infinity, -0, 2 ** 60, 0.1 + 0.2, -1e-300][i % 7],
            // Empty, multi-byte, inlined (≤ 12 bytes) and longer strings.
            s: i % 3 === 0 ? null : [`text ${i}`, '', `ü€😀 ${i}`, `${'long '.repeat(20)}${i}`][i % 4],
          };
          expected.push(row);
          writer.beginRow();
          writer.set('i', row.i);
          writer.set('n', row.n);
          if (row.d !== null) writer.set('d', row.d);
          if (row.s !== null) writer.set('s', row.s);
        }
        await writer.flush();
      }
      await writer.close();
      const rows = await session.all<{ i: number; n: number | null; d: number | null; s: string | null }>(
        'SELECT i, n, d, s FROM t ORDER BY i',
      );
      expect(rows.length).toBe(expected.length);
      for (let k = 0; k < rows.length; k++) {
        expect(rows[k].i).toBe(expected[k].i);
        expect(rows[k].n).toBe(expected[k].n);
        expect(Object.is(rows[k].d, expected[k].d)).toBe(true);
        expect(rows[k].s).toBe(expected[k].s);
      }
      const nulls = await session.one<{ n: number; d: number }>(
        'SELECT CAST(count(*) FILTER (WHERE n IS NULL) AS INTEGER) AS n, CAST(count(*) FILTER (WHERE d IS NULL) AS INTEGER) AS d FROM t',
      );
      expect(nulls).toEqual({
        n: expected.filter((r) => r.n === null).length,
        d: expected.filter((r) => r.d === null).length,
      });
    } finally {
      session.close();
    }
  });
});
