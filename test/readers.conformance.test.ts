import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { stringifyJsonRecord } from '../src/formats/json-record.js';
import type { Container } from '../src/formats/log-file.js';
import type { ReadProblem } from '../src/formats/problems.js';
import { readRecords } from '../src/formats/read-records.js';
import { tempDir } from './helpers/temp.js';

/**
 * One suite, every reader: each case is written in each container (JSON lines, compact JSON array,
 * indent=2 JSON array, CSV), plain and gzip, and must give the same good records and problems.
 */
interface Writer {
  name: string;
  container: Container;
  ext: string;
  write(records: Record<string, unknown>[], options?: { crlf?: boolean; bom?: boolean }): string;
  /** Replaces record `index` by something that does not parse but keeps the framing. */
  corrupt(text: string, index: number, records: Record<string, unknown>[]): string;
}

const jsonLines: Writer = {
  name: 'json lines',
  container: 'jsonl',
  ext: '.jsonl',
  write: (records, o = {}) =>
    (o.bom ? '\uFEFF' : '') + records.map((r) => stringifyJsonRecord(r) + (o.crlf ? '\r\n' : '\n')).join(''),
  corrupt: (text, index) => {
    const lines = text.split('\n');
    lines[index] = '{"step": 3, "loss": 0.5,, oops';
    return lines.join('\n');
  },
};

const compactArray: Writer = {
  name: 'json array (compact)',
  container: 'json',
  ext: '.json',
  write: (records, o = {}) =>
    (o.bom ? '\uFEFF' : '') + '[' + records.map(stringifyJsonRecord).join(', ') + ']',
  corrupt: (text, index, records) =>
    text.replace(stringifyJsonRecord(records[index]), '{"step": 3, "loss": 0.5,, "x": }'),
};

const indentedArray: Writer = {
  name: 'json array (indent=2)',
  container: 'json',
  ext: '.json',
  write: (records, o = {}) => {
    const body = stringifyJsonRecord(records).length ? pretty(records) : '[]';
    const text = o.crlf ? body.replaceAll('\n', '\r\n') : body;
    return (o.bom ? '\uFEFF' : '') + text;
  },
  corrupt: (text, index, records) =>
    text.replace(pretty([records[index]]).slice(4, -2), '{\n    "step": 3,,\n    "loss": 0.5\n  }'),
};

function pretty(records: Record<string, unknown>[]): string {
  return stringifyJsonRecord(records) === '[]'
    ? '[]'
    : JSON.stringify(
        records,
        (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `@@${v}@@` : v),
        2,
      ).replace(/"@@(NaN|Infinity|-Infinity)@@"/g, '$1');
}

const csv: Writer = {
  name: 'csv',
  container: 'csv',
  ext: '.csv',
  write: (records, o = {}) => {
    const nl = o.crlf ? '\r\n' : '\n';
    const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
    const cell = (v: unknown): string =>
      v === null || v === undefined
        ? ''
        : Array.isArray(v)
          ? `"${stringifyJsonRecord(v).replaceAll('"', '""')}"`
          : typeof v === 'string'
            ? `"${v.replaceAll('"', '""')}"`
            : String(v);
    const lines = records.length
      ? [keys.join(','), ...records.map((r) => keys.map((k) => cell(r[k])).join(','))]
      : [];
    return (o.bom ? '\uFEFF' : '') + lines.map((l) => l + nl).join('');
  },
  // Record 2 spans two physical lines (a quoted newline): replace the whole record.
  corrupt: (text) => text.replace(/\n3,0\.5,"c\nnewline",[^\n]*\n/, '\n3,0.5,extra,fields,too,many\n'),
};

const writers = [jsonLines, compactArray, indentedArray, csv];

const records: Record<string, unknown>[] = [
  { step: 1, loss: 0.9, name: 'a "quoted", comma', scores: [0.1, null, 0.3] },
  { step: 2, loss: NaN, name: 'b', scores: [Infinity, -Infinity, 2] },
  { step: 3, loss: 0.5, name: 'c\nnewline', scores: [null, null, null] },
  { step: 4, loss: -Infinity, name: 'd', scores: [1, 2, 3] },
  { step: 5, loss: 0.25, name: 'ü ✓', scores: [] },
];

async function read(file: string, container: Container) {
  const problems: Omit<ReadProblem, 'file'>[] = [];
  const values: { value: Record<string, unknown>; line: number }[] = [];
  for await (const batch of readRecords({ path: file, gzip: file.endsWith('.gz'), container }, (p) =>
    problems.push(p),
  )) {
    for (const r of batch) values.push(r as { value: Record<string, unknown>; line: number });
  }
  return { values: values.map((v) => v.value), lines: values.map((v) => v.line), problems };
}

function expectSameRecords(actual: Record<string, unknown>[], expected: Record<string, unknown>[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    for (const [key, value] of Object.entries(expected[i])) {
      if (Array.isArray(value) && value.length === 0 && actual[i][key] === undefined) continue;
      expect(actual[i][key], `record ${i} field ${key}`).toEqual(value);
    }
  }
}

describe.each(
  writers.flatMap((w) => [
    { w, gzip: false },
    { w, gzip: true },
  ]),
)('$w.name (gzip: $gzip)', ({ w, gzip }) => {
  const dir = tempDir();
  let counter = 0;
  const put = (text: string | Buffer): string => {
    const file = path.join(dir, `case${counter++}${w.ext}${gzip ? '.gz' : ''}`);
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    fs.writeFileSync(file, gzip ? zlib.gzipSync(bytes) : bytes);
    return file;
  };

  it('reads every record with NaN/Infinity tokens and nulls inside lists', async () => {
    const { values, problems } = await read(put(w.write(records)), w.container);
    expect(problems).toEqual([]);
    expectSameRecords(values, records);
    expect(Number.isNaN(values[1].loss)).toBe(true);
    expect(values[1].scores).toEqual([Infinity, -Infinity, 2]);
  });

  it('accepts CRLF line ends and a UTF-8 BOM', async () => {
    const { values, problems } = await read(put(w.write(records, { crlf: true, bom: true })), w.container);
    expect(problems).toEqual([]);
    expectSameRecords(values, records);
    expect(Object.keys(values[0])[0]).toBe('step');
  });

  it('gives no records and no problems for an empty file', async () => {
    const { values, problems } = await read(put(''), w.container);
    expect(values).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('reports a truncated last record and keeps every complete one', async () => {
    const full = w.write(records);
    const cut = full.slice(0, full.length - (w.container === 'csv' ? 8 : 12));
    const { values, problems } = await read(put(cut), w.container);
    if (w.container === 'csv') {
      // A cut CSV row is still a row with too few fields: reported, not kept.
      expect(problems.length).toBe(1);
    } else {
      expect(problems.map((p) => p.kind)).toContain('truncated');
      expect(problems.every((p) => p.kind === 'truncated')).toBe(true);
    }
    expectSameRecords(values, records.slice(0, 4));
  });

  it('reports a corrupt record with its line and keeps the rest', async () => {
    const { values, problems, lines } = await read(put(w.corrupt(w.write(records), 2, records)), w.container);
    expect(problems).toHaveLength(1);
    expect(problems[0].kind).toBe('corrupt');
    expectSameRecords(values, [...records.slice(0, 2), ...records.slice(3)]);
    const expectedLine = w === jsonLines ? 3 : w === csv ? 4 : w === compactArray ? 1 : 1 + 2 * 13 + 1;
    if (w !== indentedArray) expect(problems[0].line).toBe(expectedLine);
    else expect(problems[0].line).toBeGreaterThan(lines[1]);
    expect(lines.every((l, i) => i === 0 || l >= lines[i - 1])).toBe(true);
  });
});

describe('reader details', () => {
  const dir = tempDir();

  it('JSON lines: line numbers count blank lines and skip them', async () => {
    const file = path.join(dir, 'blank.jsonl');
    fs.writeFileSync(file, '{"a": 1}\n\n   \n{"a": 2}\n');
    const { values, lines } = await read(file, 'jsonl');
    expect(values).toEqual([{ a: 1 }, { a: 2 }]);
    expect(lines).toEqual([1, 4]);
  });

  it('JSON lines: a valid last line without newline is a record, not a truncation', async () => {
    const file = path.join(dir, 'nonl.jsonl');
    fs.writeFileSync(file, '{"a": 1}\n{"a": 2}');
    const { values, problems } = await read(file, 'jsonl');
    expect(values).toEqual([{ a: 1 }, { a: 2 }]);
    expect(problems).toEqual([]);
  });

  it('a non-object record is reported as such', async () => {
    const file = path.join(dir, 'scalar.jsonl');
    fs.writeFileSync(file, '{"a": 1}\n[1, 2]\n42\n{"a": 2}\n');
    const { values, problems } = await read(file, 'jsonl');
    expect(values).toEqual([{ a: 1 }, { a: 2 }]);
    expect(problems.map((p) => [p.line, p.kind])).toEqual([
      [2, 'not-an-object'],
      [3, 'not-an-object'],
    ]);
  });

  it('records split across read chunks (1 MB) are reassembled', async () => {
    const big = Array.from({ length: 3000 }, (_, i) => ({
      i,
      text: 'x'.repeat(900 + (i % 50)),
      nested: { v: [i, NaN] },
    }));
    const jl = path.join(dir, 'big.jsonl');
    fs.writeFileSync(jl, jsonLines.write(big));
    const arr = path.join(dir, 'big.json');
    fs.writeFileSync(arr, indentedArray.write(big));
    for (const [file, container] of [
      [jl, 'jsonl'],
      [arr, 'json'],
    ] as const) {
      const { values, problems } = await read(file, container);
      expect(problems).toEqual([]);
      expect(values.map((v) => v.i)).toEqual(big.map((b) => b.i));
      expect((values[2999].text as string).length).toBe(big[2999].text.length);
    }
  });

  it('pretty-printed objects one after another are read as records', async () => {
    const file = path.join(dir, 'pretty.json');
    fs.writeFileSync(file, '{\n  "a": 1,\n  "b": {"c": "}"}\n}\n{\n  "a": 2\n}\n');
    const { values, lines } = await read(file, 'json');
    expect(values).toEqual([{ a: 1, b: { c: '}' } }, { a: 2 }]);
    expect(lines).toEqual([1, 5]);
  });

  it('an array that is never closed keeps its complete records and reports the cut', async () => {
    const file = path.join(dir, 'open.json');
    fs.writeFileSync(file, '[{"a": 1}, {"a": 2}, {"a": 3, "b": [1, 2');
    const { values, problems } = await read(file, 'json');
    expect(values).toEqual([{ a: 1 }, { a: 2 }]);
    expect(problems.map((p) => p.kind)).toEqual(['truncated']);
  });

  it('corrupt gzip data is reported as unreadable after the good records', async () => {
    const file = path.join(dir, 'cut.jsonl.gz');
    const gz = zlib.gzipSync(
      Buffer.from(
        Array.from({ length: 2000 }, (_, i) => `{"i": ${i}, "pad": "${'y'.repeat(200)}"}\n`).join(''),
      ),
    );
    fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));
    const { values, problems } = await read(file, 'jsonl');
    expect(problems.map((p) => p.kind)).toEqual(['unreadable']);
    expect(problems[0].message).toMatch(/gzip/);
    expect(values.length).toBeGreaterThan(0);
    expect(values.map((v) => v.i)).toEqual(values.map((_, i) => i));
  });

  it('binary garbage is reported, not thrown', async () => {
    const file = path.join(dir, 'garbage.json');
    fs.writeFileSync(file, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x41]));
    const { values, problems } = await read(file, 'json');
    expect(values).toEqual([]);
    expect(problems.length).toBeGreaterThan(0);
  });
});

describe('NaN / Infinity tokens', () => {
  it('are read outside strings only, escapes and lookalikes included', async () => {
    const { parseJsonRecord } = await import('../src/formats/json-record.js');
    const value = parseJsonRecord(
      '{"a": "NaN", "b": NaN, "c": "x\\"NaN\\\\", "d": [-Infinity, Infinity, 1], "NaN": "Infinity", "e": "\\\\"}',
    ) as Record<string, unknown>;
    expect(value.a).toBe('NaN');
    expect(Number.isNaN(value.b)).toBe(true);
    expect(value.c).toBe('x"NaN\\');
    expect(value.d).toEqual([-Infinity, Infinity, 1]);
    expect(value.NaN).toBe('Infinity');
    expect(value.e).toBe('\\');
    expect(parseJsonRecord('{"text": "NaN is not a number"}')).toEqual({ text: 'NaN is not a number' });
    expect(() => parseJsonRecord('{"a": NaNa}')).toThrow();
  });
});
