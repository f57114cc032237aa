import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binnedStats } from '../src/engine/binned-stats.js';
import { positionCounts } from '../src/engine/positions.js';
import { Run } from '../src/engine/run.js';
import { discoverRun } from '../src/formats/discover.js';
import { buildPathTrie } from '../src/scan/path-trie.js';
import { parseJsonRecord } from '../src/formats/json-record.js';
import { ExtractError, extractRecord, parseNumber } from '../src/scan/extract.js';
import { scanTrainingRun } from '../src/scan/fast-training.js';
import { simulate } from '../src/simulate/index.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/** The projection scanner must agree with the full DuckDB path (the oracle) wherever it answers. */
async function expectSameAsOracle(dir: string, maxBins = 50): Promise<void> {
  const fast = await scanTrainingRun(discoverRun(dir), { maxBins, threads: 1 });
  expect(fast, 'fast path answered').toBeDefined();
  const run = await Run.open(dir);
  try {
    expect(fast!.x.column).toBe(run.x.column);
    expect(fast!.records).toBe(run.ingest.rows);
    const columns = fast!.stats.series.map((s) => s.column);
    const rewards = (list: string[]): string[] => list.filter((c) => c.startsWith('rewards.')).sort();
    expect(rewards(columns)).toEqual(rewards([...run.storedColumns('rows')]));
    // The metrics it reads are exactly those the full path charts (same fields, same order).
    const { metricColumns } = await import('../src/analysis/plot-metrics.js');
    expect(columns.filter((c) => !c.startsWith('rewards.'))).toEqual(metricColumns(run));
    const oracle = await binnedStats(run, { columns, maxBins });
    expect(fast!.stats.spec).toEqual(oracle.spec);
    for (const series of oracle.series) {
      const mine = fast!.stats.series.find((s) => s.column === series.column)!;
      expect(mine.bin, series.column).toEqual(series.bin);
      expect(mine.count).toEqual(series.count);
      expect(mine.nonFinite).toEqual(series.nonFinite);
      expect(mine.min).toEqual(series.min);
      expect(mine.max).toEqual(series.max);
      expect(mine.last).toEqual(series.last);
      mine.mean.forEach((m, i) =>
        Number.isNaN(series.mean[i]) ? expect(m).toBeNaN() : expect(m).toBeCloseTo(series.mean[i], 9),
      );
      mine.xMean.forEach((m, i) => expect(m).toBeCloseTo(series.xMean[i], 6));
      // The band is approximate (sampled); it must lie within the bin's range.
      // (A bin of only NaN/Infinity values has no finite min, max or band.)
      mine.lower.forEach((q, i) =>
        Number.isNaN(series.min[i]) ? expect(q).toBeNaN() : expect(q).toBeGreaterThanOrEqual(series.min[i]),
      );
      mine.upper.forEach((q, i) =>
        Number.isNaN(series.max[i]) ? expect(q).toBeNaN() : expect(q).toBeLessThanOrEqual(series.max[i]),
      );
    }
    expect(fast!.positions).toEqual(await positionCounts(run));
    expect(fast!.problems.map((p) => `${p.file}:${p.line} ${p.kind}`)).toEqual(
      run.ingest.problems.map(
        (p) => `${p.file}:${p.line} ${p.kind === 'not-an-object' ? 'corrupt' : p.kind}`,
      ),
    );
  } finally {
    run.close();
  }
}

describe('projection scanner', () => {
  it('extracts nested and flat paths, NaN tokens, booleans, escapes, and skips the rest', () => {
    const trie = buildPathTrie(
      new Map([
        ['a.b', 0],
        ['c', 1],
        ['d', 2],
        ['e', 3],
      ]),
    );
    const text = Buffer.from(
      '{"s": "x\\"}{[", "a": {"z": [1, {"b": 9}], "b": -1.5e3}, "c": NaN, "d": true, "list": [[1], {"c": 5}], "e": null}',
    );
    const out = new Float64Array(4);
    const seen = new Uint8Array(4);
    extractRecord(text, 0, text.length, trie, out, seen);
    expect([...out.slice(0, 3)]).toEqual([-1500, NaN, 1]);
    expect([...seen]).toEqual([1, 1, 1, 0]);
    const bad = Buffer.from('{"a": {"b": 1,, }}');
    expect(() => extractRecord(bad, 0, bad.length, trie, out, seen)).toThrow();
  });

  it('agrees with the DuckDB path on the shared RL sample (old flat + new nested)', async () => {
    await expectSameAsOracle(path.join(FORMATS, 'rl-experiments/v4/20250726_130714'));
  });

  it('agrees with the DuckDB path on a simulated RL run', async () => {
    const dir = tempDir();
    await simulate('rl', { out: dir, size: '6MB', seed: 5, recordsPerFile: 800, envs: 4 });
    await expectSameAsOracle(dir, 37);
  });

  it('agrees on hostile input: corrupt records, NaN rewards, a truncated array, gzip', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'json_logs');
    fs.mkdirSync(logs);
    const record = (total: number, r: number | string, x: number): string =>
      `{"step": 1, "total_steps": ${total}, "position": {"x": ${x}, "y": 2, "map": 1}, "rewards": {"total": ${r}, "components": {"heal": ${r}}}}`;
    fs.writeFileSync(
      path.join(logs, 'stats_1.json'),
      `[${record(10, 1.5, 1)}, ${record(10, 'NaN', 2)}, {"broken": ,}, ${record(10, -2, 1)}]`,
    );
    fs.writeFileSync(
      path.join(logs, 'stats_2.json'),
      `[\n  ${record(20, 3, 4)},\n  ${record(20, 4.25, 4)},\n  {"step": 3, "tota`,
    );
    const zlib = await import('node:zlib');
    fs.writeFileSync(path.join(logs, 'stats_final_3.json.gz'), zlib.gzipSync(`[${record(30, 7, 5)}]`));
    await expectSameAsOracle(dir);
  });

  it('agrees on values JSON does not allow ("012", "1.", ".5", "+1", hex, "tru"): bad records as the full reader says', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'json_logs');
    fs.mkdirSync(logs);
    const record = (total: number, r: string, x: number): string =>
      `{"step": 1, "total_steps": ${total}, "position": {"x": ${x}, "y": 2, "map": 1}, "rewards": {"total": ${r}, "components": {"heal": 0.5}}}`;
    const bad = [
      '012',
      '1.',
      '.5',
      '+1',
      '0x10',
      '1e',
      '-',
      '1.5e+',
      '00',
      '-01.5',
      '1_0',
      'Infinityx',
      'tru',
      'nul',
      'fals',
      'trueish',
      'nan',
      'txyz',
      'nope',
      'fxxxx',
    ];
    const good = [
      '0',
      '-0',
      '0.5',
      '-0.25',
      '10',
      '1e3',
      '1E-2',
      '-1.5e+2',
      '0e0',
      'NaN',
      '-Infinity',
      'true',
      'null',
    ];
    // One file with a record per line, one in indent=2 layout, each mixing good and bad numbers.
    const records = [...good, ...bad].map((r, i) => record(10 + i, r, i % 7));
    fs.writeFileSync(path.join(logs, 'stats_1.json'), `[${records.join(', ')}]`);
    const indented = records.map((r) =>
      JSON.stringify({ ...(JSON.parse(r.replace(/"total": [^,}]*/, '"total": 0')) as object) }, null, 2),
    );
    const withBad = indented.map((text, i) => text.replace('"total": 0', `"total": ${[...good, ...bad][i]}`));
    fs.writeFileSync(
      path.join(logs, 'stats_2.json'),
      `[\n${withBad.map((t) => t.replace(/^/gm, '  ')).join(',\n')}\n]`,
    );
    await expectSameAsOracle(dir);
  });

  it('declines what it cannot answer exactly (no reward fields, CSV)', async () => {
    expect(await scanTrainingRun(discoverRun(path.join(FORMATS, 'filetao/events.json')))).toBeUndefined();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'm.csv'), 'total_steps,rewards.total\n1,2\n');
    expect(await scanTrainingRun(discoverRun(dir))).toBeUndefined();
  });
});

describe('projection scanner on indent=2 arrays that break their layout', () => {
  it('a corrupt record and one-line records inside an indent=2 file lose no good record', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'json_logs');
    fs.mkdirSync(logs);
    const pretty = (total: number, r: number): string =>
      JSON.stringify(
        { step: 1, total_steps: total, position: { x: 1, y: 2, map: 3 }, rewards: { total: r } },
        null,
        2,
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n');
    const compact = (total: number, r: number): string =>
      `  {"step": 1, "total_steps": ${total}, "position": {"x": 1, "y": 2, "map": 3}, "rewards": {"total": ${r}}}`;
    const body = [
      pretty(5, 1),
      compact(5, 2),
      compact(5, 3),
      pretty(5, 4),
      '  {\n    "total_steps": 5,,\n  }',
      pretty(6, 5),
    ];
    fs.writeFileSync(path.join(logs, 'stats_1.json'), `[\n${body.join(',\n')}\n]`);
    await expectSameAsOracle(dir);
    const fast = await scanTrainingRun(discoverRun(dir), { threads: 1 });
    expect(fast!.records).toBe(5);
    expect(fast!.problems.map((p) => p.kind)).toEqual(['corrupt']);
  });
});

describe('projection scanner numbers', () => {
  /** JSON number texts around the exact fast path's limits, and random doubles in every form. */
  function numberTexts(): string[] {
    const texts = [
      '0',
      '-0',
      '0.0',
      '-0.0',
      '1',
      '-1',
      '4.800000000000001',
      '14.200000000000001',
      '15.725000000000001',
      '9007199254740991',
      '9007199254740992',
      '9007199254740993',
      '9007199254740994',
      '9007199254740995',
      '-9007199254740993',
      '900719925474099.1',
      '900719925474099.3',
      '0.9007199254740993',
      '9.007199254740993',
      '1234567890123456',
      '12345678901234567',
      '123456789012345678901234',
      '0.1',
      '0.2',
      '0.30000000000000004',
      '0.000000000000000000001',
      '0.0000000000000000000001',
      '0.00000000000000000000001',
      '1.0000000000000000000000001',
      '1e5',
      '1E-7',
      '-2.5e+300',
      '2e308',
      '5e-324',
      '2.2250738585072014e-308',
      '1.7976931348623157e308',
      '123.456e-2',
      '00012',
      '-00.5',
    ];
    let state = 12345;
    const random = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 4294967296;
    };
    for (let i = 0; i < 20000; i++) {
      const magnitude = 10 ** Math.floor(random() * 40 - 20);
      const value = (random() - 0.5) * magnitude;
      texts.push(String(value), value.toFixed(Math.floor(random() * 21)));
      texts.push(value.toPrecision(1 + Math.floor(random() * 21)).replace(/e\+?/, 'e'));
      // 15 to 19 significant digits with a fraction, like Python's repr of sums of tenths.
      const digits =
        String(Math.floor(random() * 1e9)) + String(Math.floor(random() * 1e10)).padStart(10, '0');
      const cut = 1 + Math.floor(random() * 4);
      texts.push(`${digits.slice(0, cut)}.${digits.slice(cut, 15 + Math.floor(random() * 5))}`);
    }
    return texts.filter((t) => /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(t));
  }

  it('parseNumber returns exactly what Number() returns, fast path or not', () => {
    for (const text of numberTexts()) {
      const bytes = Buffer.from(`[${text}]`);
      expect(Object.is(parseNumber(bytes, 1, bytes.length - 1), Number(text)), text).toBe(true);
    }
    for (const [text, value] of [
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
    ] as const) {
      expect(Object.is(parseNumber(Buffer.from(text), 0, text.length), value)).toBe(true);
    }
    // What JSON's grammar does not allow, though Number() reads it.
    for (const text of [
      '-',
      '1.2.3',
      '012',
      '00',
      '-01.5',
      '1.',
      '.5',
      '+1',
      '0x10',
      '1e',
      ' 1',
      '1_0',
      '0b1',
    ])
      expect(() => parseNumber(Buffer.from(text), 0, text.length), text).toThrow();
  });

  it('numbers in records are those Number() reads, also when a field repeats its last text', () => {
    const trie = buildPathTrie(
      new Map([
        ['a', 0],
        ['b.c', 1],
      ]),
    );
    const out = new Float64Array(2);
    const seen = new Uint8Array(2);
    // Slow-path texts in a row that share a prefix or a length.
    const texts = [
      '1.2345678901234567e5',
      '1.2345678901234567',
      '1.2345678901234567e5',
      '1.2345678901234568e5',
      '12.345678901234567',
      '12.345678901234567e1',
      ...numberTexts(),
    ];
    for (let i = 0; i < texts.length; i++) {
      // Each text twice in a row in the same field (the repeat cache), and next to another.
      for (const [a, c] of [
        [texts[i], texts[(i * 7) % texts.length]],
        [texts[i], texts[i]],
      ]) {
        const record = Buffer.from(`{"a": ${a}, "b": {"c": ${c}}}`);
        extractRecord(record, 0, record.length, trie, out, seen);
        expect(Object.is(out[0], Number(a)), a).toBe(true);
        expect(Object.is(out[1], Number(c)), c).toBe(true);
      }
    }
  });
});

describe('projection scanner on indent=2 arrays: the record walk frames as the search for "\\n  }" did', () => {
  const pretty = (total: number, r: number, extra = ''): string =>
    `  {\n    "step": 1,\n    "total_steps": ${total},\n    "position": {\n      "x": 1,\n      "y": 2,\n      "map": 3\n    },${extra}\n    "rewards": {\n      "total": ${r}\n    }\n  }`;
  /** Records that end, or seem to, where the layout says they cannot; results as before the walk framed. */
  const cases: [string, string[], number, string[]][] = [
    [
      'a nested "}" on the line that closes records',
      [
        pretty(5, 1),
        '  {\n    "step": 2,\n    "total_steps": 5,\n    "rewards": {"total": 2\n  }}',
        pretty(5, 3),
      ],
      1,
      ['14 corrupt', '18 corrupt'],
    ],
    [
      'a raw newline in a string',
      [pretty(5, 1), pretty(5, 2, '\n    "note": "a\n  }b",'), pretty(5, 3)],
      3,
      ['14 corrupt', '23 corrupt', '24 corrupt', '24 corrupt', '27 corrupt'],
    ],
    [
      'a bad literal',
      [pretty(5, 1), '  {\n    "total_steps": 5,\n    "rewards": {\n      "total": tru\n  }', pretty(6, 3)],
      2,
      ['14 corrupt'],
    ],
    [
      'a record closed on the line of its last value',
      [pretty(5, 1), '  {\n    "total_steps": 5,\n    "rewards": {"total": 2}}', pretty(6, 3)],
      3,
      [],
    ],
    [
      'an empty object closed at the indentation of records',
      [
        pretty(5, 1),
        '  {\n    "total_steps": 5,\n    "position": {\n  },\n    "rewards": {"total": 2}\n  }',
        pretty(6, 3),
      ],
      3,
      ['14 corrupt', '18 corrupt', '18 corrupt', '19 corrupt'],
    ],
    [
      'a "}" on the line that closes records, inside a skipped array',
      [
        pretty(5, 1),
        '  {\n    "total_steps": 5,\n    "levels": [{"a": 1\n  }],\n    "rewards": {"total": 2}\n  }',
        pretty(6, 3),
      ],
      1,
      ['14 corrupt'],
    ],
  ];
  cases.push(
    [
      'a bad literal hiding the line that closes records',
      [
        pretty(5, 1),
        '  {\n    "total_steps": 5,\n    "step": f\n  }, "rewards": {"total": 2}\n  }',
        pretty(6, 3),
      ],
      3,
      ['14 corrupt', '17 corrupt', '17 corrupt', '18 corrupt'],
    ],
    [
      'a record followed by more on its closing line',
      [pretty(5, 1), '  {\n    "total_steps": 5,\n    "rewards": {"total": 2}} ]\n  }', pretty(6, 3)],
      3,
      ['16 corrupt'],
    ],
  );
  for (const [name, body, records, problems] of cases) {
    it(name, async () => {
      const dir = tempDir();
      fs.mkdirSync(path.join(dir, 'json_logs'));
      fs.writeFileSync(path.join(dir, 'json_logs', 'stats_1.json'), `[\n${body.join(',\n')}\n]`);
      const fast = await scanTrainingRun(discoverRun(dir), { threads: 1 });
      expect(fast!.records).toBe(records);
      expect(fast!.problems.map((p) => `${p.line} ${p.kind}`)).toEqual(problems);
    });
  }

  it('records cut by the 1 MB chunks, one longer than the part of the next chunk joined to it', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'json_logs'));
    const records: string[] = [];
    let bytes = 0;
    for (let i = 0; bytes < 2_300_000; i++) {
      // Near each chunk boundary, a record of ~100 KB (its padding is a skipped array).
      const near = bytes % 1048576 > 1048576 - 3000;
      const pad = near
        ? `\n    "pad": [${Array(25000)
            .fill(i % 10)
            .join(', ')}],`
        : '';
      const record = pretty(10 * Math.floor(i / 50), i % 7, pad);
      records.push(record);
      bytes += record.length + 2;
    }
    fs.writeFileSync(path.join(dir, 'json_logs', 'stats_1.json'), `[\n${records.join(',\n')}\n]`);
    await expectSameAsOracle(dir);
  });
});

describe('projection scanner: which records it takes', () => {
  it('takes a record exactly when the full reader parses it, under 40 000 random one-byte edits', () => {
    const slots = new Map([
      ['total_steps', 0],
      ['rewards.total', 1],
      ['position.x', 2],
      ['rewards.components.heal', 3],
    ]);
    const trie = buildPathTrie(slots);
    const out = new Float64Array(slots.size);
    const seen = new Uint8Array(slots.size);
    const base = {
      step: 1,
      total_steps: 2048,
      position: { x: 10, y: -3, map: 0 },
      rewards: { total: 0.0125, components: { heal: 0.5, dead: -0.0 } },
      player_status: { health: 1.0, levels: [6, 0, 12], name: 'A\\"b\u00e9', ok: true, none: null },
      actions: [{ a: 1e-3 }, [], {}, [[1.5, 2]], 'x'],
    };
    const texts = [
      JSON.stringify(base),
      JSON.stringify(base, null, 2),
      JSON.stringify(base).replace('0.0125', 'NaN').replace('1e-3', '-Infinity'),
    ];
    const alphabet = Buffer.from('{}[],:"\\ \t\n0123456789.eE-+truefalsnNaIiy/xu\u0001');
    let state = 7;
    const random = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return Math.floor((state / 4294967296) * n);
    };
    let taken = 0;
    for (let round = 0; round < 40_000; round++) {
      const source = Buffer.from(texts[round % texts.length]);
      const at = random(source.length);
      const byte = alphabet[random(alphabet.length)];
      const kind = random(3);
      const edited =
        kind === 0
          ? Buffer.concat([source.subarray(0, at), Buffer.of(byte), source.subarray(at + 1)])
          : kind === 1
            ? Buffer.concat([source.subarray(0, at), Buffer.of(byte), source.subarray(at)])
            : Buffer.concat([source.subarray(0, at), source.subarray(at + 1)]);
      const text = edited.toString('latin1');
      let parsed: unknown;
      try {
        parsed = parseJsonRecord(text);
      } catch {
        parsed = undefined;
      }
      const isRecord = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      let took = true;
      try {
        extractRecord(edited, 0, edited.length, trie, out, seen);
      } catch (error) {
        if (!(error instanceof ExtractError)) throw error;
        took = false;
      }
      expect(took, text).toBe(isRecord);
      if (!took) continue;
      taken++;
      // And it reads what the full reader reads at each path.
      for (const [path, slot] of slots) {
        const value = path
          .split('.')
          .reduce<unknown>(
            (o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined),
            parsed,
          );
        const expected = typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : NaN;
        expect(
          Object.is(out[slot], expected) || (Number.isNaN(out[slot]) && Number.isNaN(expected)),
          `${path} in ${text}`,
        ).toBe(true);
        expect(seen[slot], `${path} in ${text}`).toBe(
          typeof value === 'number' || typeof value === 'boolean' ? 1 : 0,
        );
      }
    }
    // Both outcomes are well represented (a test that only sees one would prove nothing).
    expect(taken).toBeGreaterThan(4_000);
    expect(taken).toBeLessThan(36_000);
  });
});
