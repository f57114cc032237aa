import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../src/engine/session.js';
import { rowBinaryStream, type BinaryColumn } from '../src/fleet/row-binary.js';

/**
 * RowBinary from DuckDB's vectors (what push sends to ClickHouse): fixed-size values are copied
 * byte for byte from the vectors, the rest encoded value by value. Held to a reference written
 * here with Node's Buffer methods, on rows with NULLs, negative, huge and non-finite values,
 * and enough rows for several of DuckDB's chunks.
 */
let session: Session;
beforeAll(async () => {
  session = await Session.create({ threads: 1 });
});
afterAll(() => session.close());

const COLUMNS: BinaryColumn[] = [
  { type: 'UInt32', nullable: false },
  { type: 'UInt64', nullable: false },
  { type: 'Int64', nullable: true },
  { type: 'Float64', nullable: true },
  { type: 'String', nullable: true },
  { type: 'Float64', nullable: false },
];

const QUERY = `SELECT CAST(i AS UINTEGER) AS a,
    CAST(i * 4294967311 AS UBIGINT) AS b,
    CASE WHEN i % 7 = 0 THEN NULL ELSE CAST((i - 2500) * 1000000007 AS BIGINT) END AS c,
    CASE WHEN i % 5 = 0 THEN NULL WHEN i % 11 = 0 THEN CAST('NaN' AS DOUBLE) WHEN i % 13 = 0 THEN CAST('-Infinity' AS DOUBLE)
         WHEN i % 17 = 0 THEN CAST('-0.0' AS DOUBLE) ELSE i / 3.0 - 1e-300 * i END AS d,
    CASE WHEN i % 3 = 0 THEN NULL ELSE repeat('é', i % 200) || CAST(i AS VARCHAR) END AS e,
    CAST(1e308 / (i + 1) AS DOUBLE) AS f
  FROM range(5000) t(i) ORDER BY i`;

interface Row {
  a: number;
  b: bigint;
  c: bigint | null;
  d: number | null;
  e: string | null;
  f: number;
}

function reference(rows: Row[], constant: string): Buffer {
  const parts: Buffer[] = [];
  const text = (value: string) => {
    const bytes = Buffer.from(value, 'utf8');
    const length: number[] = [];
    let n = bytes.length;
    while (n >= 0x80) {
      length.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    length.push(n);
    parts.push(Buffer.from(length), bytes);
  };
  const fixed = (width: number, write: (b: Buffer) => void) => {
    const b = Buffer.alloc(width);
    write(b);
    parts.push(b);
  };
  const nullable = (isNull: boolean) => parts.push(Buffer.from([isNull ? 1 : 0]));
  for (const r of rows) {
    text(constant);
    fixed(4, (b) => b.writeUInt32LE(r.a));
    fixed(8, (b) => b.writeBigUInt64LE(r.b));
    nullable(r.c === null);
    if (r.c !== null) fixed(8, (b) => b.writeBigInt64LE(r.c!));
    nullable(r.d === null);
    if (r.d !== null) fixed(8, (b) => b.writeDoubleLE(r.d!));
    nullable(r.e === null);
    if (r.e !== null) text(r.e);
    fixed(8, (b) => b.writeDoubleLE(r.f));
  }
  return Buffer.concat(parts);
}

describe('RowBinary from DuckDB', () => {
  it('equals the reference encoding byte for byte, over several chunks, with NULLs and non-finite values', async () => {
    const result = await session.connection.runAndReadAll(QUERY);
    const rows = result.getRowObjects() as unknown as Row[];
    expect(rows).toHaveLength(5000);
    const constant = 'run-ä';
    const seen: number[] = [];
    const chunks: Buffer[] = [];
    for await (const chunk of rowBinaryStream(session.connection, QUERY, COLUMNS, [constant], (n) =>
      seen.push(n),
    ))
      chunks.push(chunk as Buffer);
    const encoded = Buffer.concat(chunks);
    const expected = reference(rows, constant);
    expect(encoded.length).toBe(expected.length);
    expect(encoded.equals(expected)).toBe(true);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(5000);
    // -0.0 and NaN keep their bits.
    const negativeZero = rows.find((r) => r.d !== null && Object.is(r.d, -0));
    expect(negativeZero).toBeDefined();
  });

  it('says which column is NULL where RowBinary has no NULL', async () => {
    const query = 'SELECT CAST(NULL AS UBIGINT) AS b';
    const stream = rowBinaryStream(session.connection, query, [{ type: 'UInt64', nullable: false }], []);
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).rejects.toThrow('RowBinary: column 0 (UInt64) is NULL in row 0');
  });
});
