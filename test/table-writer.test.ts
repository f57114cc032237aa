import { describe, expect, it } from 'vitest';
import { Session } from '../src/engine/session.js';
import { ColumnBuffer } from '../src/engine/column-buffer.js';
import { BATCH_ROWS, inlineSlotsWork, TableWriter } from '../src/engine/table-writer.js';

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

  it('appends chunks encoded elsewhere (as the ingest worker posts them): text as dictionaries or plain, new columns first', async () => {
    const session = await Session.create();
    try {
      const writer = new TableWriter(session, 't', [{ name: 'i', type: 'INTEGER' }]);
      await writer.create();
      const buffer = new ColumnBuffer('t', [{ name: 'i', type: 'INTEGER' }]);
      const expected: { i: number; few: string | null; many: string | null; x: number | null }[] = [];
      let i = 0;
      for (const size of [5, BATCH_ROWS + 3]) {
        for (let k = 0; k < size; k++, i++) {
          const row = {
            i,
            // A handful of values (sent as a dictionary) and one per row (too many: sent plain).
            few: i % 4 === 0 ? null : ['Success', 'Timeout', 'ü€ 😀'][i % 3],
            many: i % 6 === 0 ? null : `row ${i} ${'x'.repeat(i % 20)}`,
            x: i < 3 ? null : i / 3,
          };
          expected.push(row);
          buffer.beginRow();
          buffer.set('i', row.i);
          if (row.few !== null) buffer.set('few', row.few);
          if (row.many !== null) buffer.set('many', row.many);
          if (row.x !== null) buffer.set('x', row.x);
        }
        const chunks = buffer.takeChunks(true);
        const kinds = chunks[0].columns.map((c) => Object.keys(c).sort().join('+'));
        // i, few, many, x; `many` has 5 values in the first batch, one per row in the second.
        expect(kinds).toEqual([
          'data+validity',
          'codes+dictionary',
          size > BATCH_ROWS ? 'strings' : 'codes+dictionary',
          'data+validity',
        ]);
        await writer.appendChunks(buffer.columnSpecs(), chunks);
      }
      await writer.close();
      expect(buffer.rowsWritten).toBe(expected.length);
      const rows = await session.all<(typeof expected)[number]>('SELECT i, few, many, x FROM t ORDER BY i');
      expect(rows).toEqual(expected);
      // Columns in another order and only some of the table's (a part of the run read by another
      // worker) go where their names are; the others are null.
      const other = new ColumnBuffer('t', [{ name: 'x', type: 'DOUBLE' }]);
      other.beginRow();
      other.set('x', 0.5);
      other.set('i', -1, 'INTEGER');
      await writer.appendChunks(other.columnSpecs(), other.takeChunks(true));
      await writer.close();
      expect(await session.all('SELECT i, few, many, x FROM t WHERE i < 0')).toEqual([
        { i: -1, few: null, many: null, x: 0.5 },
      ]);
      // A column of another type is refused before anything is appended.
      const clash = new ColumnBuffer('t', [{ name: 'i', type: 'INTEGER' }]);
      clash.beginRow();
      clash.set('i', -2);
      clash.set('few', 3);
      await expect(writer.appendChunks(clash.columnSpecs(), clash.takeChunks(true))).rejects.toThrow(
        /column few is VARCHAR, the chunk has it as DOUBLE/,
      );
      await writer.close();
      expect(await session.all('SELECT i FROM t WHERE i = -2')).toEqual([]);
    } finally {
      session.close();
    }
  });

  it('writes short dictionary text into the vector in one copy, as DuckDB lays it out, and long text through DuckDB', async () => {
    const session = await Session.create();
    try {
      const writer = new TableWriter(session, 't', [{ name: 'i', type: 'INTEGER' }]);
      await writer.create();
      // The fast path is on here (if DuckDB's layout differed, every string would be assigned).
      expect(inlineSlotsWork()).toBe(true);
      // Around DuckDB's 12-byte inline limit, in bytes not characters: 'naïve ü€' is 8 characters
      // and 12 bytes, 'naïve ü€!' 13 bytes.
      const values = [
        '',
        'a',
        'Success',
        '123456789012',
        '1234567890123',
        'naïve ü€',
        'naïve ü€!',
        'Internal Server Error',
      ];
      const buffer = new ColumnBuffer('t', [{ name: 'i', type: 'INTEGER' }]);
      const expected: { i: number; s: string | null }[] = [];
      for (let i = 0; i < BATCH_ROWS + 7; i++) {
        const s = i % 11 === 5 ? null : values[(i * 7) % values.length];
        expected.push({ i, s });
        buffer.beginRow();
        buffer.set('i', i);
        if (s !== null) buffer.set('s', s);
      }
      const chunks = buffer.takeChunks(true);
      expect(chunks.map((c) => Object.keys(c.columns[1]).sort().join('+'))).toEqual([
        'codes+dictionary',
        'codes+dictionary',
      ]);
      await writer.appendChunks(buffer.columnSpecs(), chunks);
      await writer.close();
      expect(await session.all('SELECT i, s FROM t ORDER BY i')).toEqual(expected);
      // Equal to the same text made by SQL: comparisons, grouping and lengths see the same bytes.
      const counts = await session.all<{ s: string; n: number; bytes: number }>(
        'SELECT s, CAST(count(*) AS INTEGER) AS n, CAST(min(strlen(s)) AS INTEGER) AS bytes FROM t WHERE s IS NOT NULL GROUP BY s ORDER BY s',
      );
      expect(counts.map((c) => [c.s, c.n, c.bytes])).toEqual(
        [...values].sort().map((v) => [v, expected.filter((e) => e.s === v).length, Buffer.byteLength(v)]),
      );
      for (const value of values) {
        const row = await session.one<{ n: number }>(
          `SELECT CAST(count(*) AS INTEGER) AS n FROM t WHERE s = '${value}' AND s || '' = '${value}'`,
        );
        expect(row?.n).toBe(expected.filter((e) => e.s === value).length);
      }
    } finally {
      session.close();
    }
  });

  it("flushes DuckDB's appender every 32 MB for wide rows, and leaves narrow rows to DuckDB's 204 800", async () => {
    const session = await Session.create();
    try {
      const rowsIn = 40 * 1024; // ~42 MB of 1 kB rows, ~0.6 MB of narrow ones
      const wide = new TableWriter(session, 'wide', [{ name: 'i', type: 'INTEGER' }]);
      const narrow = new TableWriter(session, 'narrow', [{ name: 'i', type: 'INTEGER' }]);
      await wide.create();
      await narrow.create();
      const pad = 'p'.repeat(1000);
      for (let i = 0; i < rowsIn; i++) {
        wide.beginRow();
        wide.set('i', i);
        wide.set('text', `${i} ${pad}`);
        narrow.beginRow();
        narrow.set('i', i);
        narrow.set('text', `${i % 100}`);
        if (wide.buffered >= BATCH_ROWS) await wide.flush();
        if (narrow.buffered >= BATCH_ROWS) await narrow.flush();
      }
      await wide.flush();
      await narrow.flush();
      const visible = async (table: string): Promise<number | undefined> =>
        (await session.one<{ n: number }>(`SELECT CAST(count(*) AS INTEGER) AS n FROM ${table}`))?.n;
      // Rows become visible when the appender flushes them into the table. A wide row takes 4 bytes
      // for i, 16 for its text and the text: the flush comes after the first chunk past 32 MiB.
      let flushedAt = 0;
      for (let bytes = 0; bytes < 32 * 1024 * 1024; flushedAt++)
        bytes += 4 + 16 + `${flushedAt} ${pad}`.length;
      flushedAt = Math.ceil(flushedAt / BATCH_ROWS) * BATCH_ROWS;
      expect(flushedAt).toBeLessThan(rowsIn);
      expect(await visible('wide')).toBe(flushedAt);
      expect(await visible('narrow')).toBe(0);
      await wide.close();
      await narrow.close();
      expect(await visible('wide')).toBe(rowsIn);
      expect(await visible('narrow')).toBe(rowsIn);
      const intact = await session.one<{ n: number }>(
        `SELECT CAST(count(DISTINCT i) AS INTEGER) AS n FROM wide WHERE text = i || ' ' || repeat('p', 1000)`,
      );
      expect(intact?.n).toBe(rowsIn);
    } finally {
      session.close();
    }
  });
});
