import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { textClass } from '../src/engine/field-stats.js';
import type { EventSink, NumberCounts } from '../src/formats/event-sink.js';
import { parseJsonRecord } from '../src/formats/json-record.js';
import { normalizeRecord } from '../src/formats/normalize.js';
import { readRecords } from '../src/formats/read-records.js';
import { isPlainObject } from '../src/formats/record.js';
import { EventWalker } from '../src/scan/event-walker.js';
import { seededRandom } from '../src/scan/group-stats.js';
import { simulate } from '../src/simulate/index.js';
import { FORMATS, tempDir } from './helpers/temp.js';

/** Paths whose text the walker is asked to decode (others are only counted as strings). */
const WANTED = new Set(['task_name', 'name', 'a.b']);

/** Each value as a string that tells every double apart (−0, NaN) and every other type. */
function show(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'boolean') return `bool:${v}`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'string') return `string:${JSON.stringify(textClass(v))}`;
  return typeof v;
}

/**
 * A sink that writes down every call (text values only for WANTED paths, else their textClass),
 * and a wrong count of a list's number types when the reader gives counts (the oracle does not).
 */
function recorder(): { sink: EventSink; calls: string[] } {
  const calls: string[] = [];
  const checkCounts = (values: readonly unknown[], counts: NumberCounts | undefined): void => {
    if (counts === undefined) return;
    const expected = { int: 0, float: 0, nan: 0, other: 0, bool: 0, null: 0, string: 0, list: 0, object: 0 };
    for (const v of values)
      if (typeof v !== 'number') {
        expected.other++;
        if (typeof v === 'boolean') expected.bool++;
        else if (v === null) expected.null++;
        else if (typeof v === 'string') expected.string++;
        else if (Array.isArray(v)) expected.list++;
        else expected.object++;
      } else if (Number.isInteger(v)) expected.int++;
      else if (Number.isFinite(v)) expected.float++;
      else expected.nan++;
    const { int, float, nan, other, bool, null: nulls, string, list, object } = counts;
    const actual = { int, float, nan, other, bool, null: nulls, string, list, object };
    if (JSON.stringify(actual) !== JSON.stringify(expected))
      calls.push(`wrong counts ${JSON.stringify(counts)} of ${values.map(show).join(',')}`);
  };
  const sink: EventSink = {
    beginEvent: (line) => calls.push(`begin ${line}`),
    number: (p, v) => calls.push(`number ${p} ${show(v)}`),
    text: (p, v) => calls.push(`text ${p} ${WANTED.has(p) ? JSON.stringify(v) : show(v)}`),
    uids: (u, counts) => {
      calls.push(`uids ${u.map(show).join(',')}`);
      checkCounts(u, counts);
    },
    uidVector: (p, v, counts) => {
      calls.push(`vector ${p} ${v.map(show).join(',')}`);
      checkCounts(v, counts);
    },
    uidIndexed: (k, v, counts) => {
      calls.push(`indexed ${k} ${v.map(show).join(',')}`);
      checkCounts(v, counts);
    },
    other: (p, t) => calls.push(`other ${p} ${t}`),
    endEvent: () => calls.push('end'),
  };
  return { sink, calls };
}

/** What the full reader makes of one line: its sink calls and profile, or undefined when it rejects it. */
function oracle(line: string): { calls: string[]; profile: string } | undefined {
  let value: unknown;
  try {
    value = parseJsonRecord(line);
  } catch {
    return undefined;
  }
  if (!isPlainObject(value)) return undefined;
  const { sink, calls } = recorder();
  const profile = normalizeRecord(value, 7, sink);
  return { calls, profile };
}

function walkerFor(): { walker: EventWalker; calls: string[] } {
  const { sink, calls } = recorder();
  return { walker: new EventWalker(sink, (p) => WANTED.has(p)), calls };
}

/** Walks a line as readJsonLines offers it: inside a larger buffer, followed by a newline. */
function walk(walker: EventWalker, calls: string[], line: string): string | undefined {
  calls.length = 0;
  const buffer = Buffer.from(`{"junk": 1}\n${line}\n{"next": 2}\n`);
  const start = Buffer.byteLength('{"junk": 1}\n');
  const profile = walker.walk(buffer, start, start + Buffer.byteLength(line), 7);
  if (profile === undefined) expect(calls, `no sink call for a declined line: ${line}`).toEqual([]);
  return profile;
}

/** The walker never accepts what the full reader rejects, and makes the same calls when it accepts. */
function agree(walker: EventWalker, calls: string[], line: string): boolean {
  const expected = oracle(line);
  const profile = walk(walker, calls, line);
  if (expected === undefined) {
    expect(profile, `accepted a line the full reader rejects: ${line.slice(0, 200)}`).toBeUndefined();
    return false;
  }
  if (profile === undefined) return false;
  expect(calls, line.slice(0, 200)).toEqual(expected.calls);
  expect(profile).toBe(expected.profile);
  return true;
}

function linesOf(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

describe('EventWalker', () => {
  it('makes the same sink calls as JSON.parse + normalizeRecord on every line of the shared samples', () => {
    const { walker, calls } = walkerFor();
    for (const file of ['filetao/events.json', 'openvalidators/history.jsonl']) {
      const lines = linesOf(path.join(FORMATS, file));
      let handled = 0;
      for (const line of lines) if (agree(walker, calls, line)) handled++;
      // Every well-formed line of these formats is read by the walker, none left to JSON.parse.
      expect(handled, file).toBe(lines.filter((l) => oracle(l) !== undefined).length);
      expect(handled, file).toBeGreaterThanOrEqual(3);
    }
  });

  it('agrees on simulated FileTAO and OpenValidators runs (NaN, nulls, set_weights, scores)', async () => {
    const { walker, calls } = walkerFor();
    for (const format of ['filetao', 'openvalidators'] as const) {
      const dir = tempDir(`walker-${format}`);
      await simulate(format, { out: dir, size: '300KB', seed: 5 });
      const files = fs.readdirSync(dir, { recursive: true }).map(String);
      const file = files.find((f) => f.endsWith('.json') || f.endsWith('.jsonl'));
      expect(file, format).toBeDefined();
      const lines = linesOf(path.join(dir, file!));
      let handled = 0;
      for (const line of lines) if (agree(walker, calls, line)) handled++;
      expect(handled, format).toBe(lines.length);
    }
  });

  it('numbers convert exactly as JSON.parse does', () => {
    const { walker, calls } = walkerFor();
    const random = seededRandom(11);
    const numbers = [
      '0',
      '-0',
      '0.0',
      '-0.0e5',
      '1e22',
      '1e23',
      '1E-7',
      '123456789012345678',
      '9007199254740993',
      '9007199254740992',
      '9007199254740991',
      '0.1',
      '0.30000000000000004',
      '4.800000000000001',
      '15.725000000000001',
      '7.452982673109617e-05',
      '2.2250738585072014e-308',
      '5e-324',
      '1.7976931348623157e308',
      '1e400',
      '-1e-400',
      '1.00000000000000000000000001',
      'NaN',
      'Infinity',
      '-Infinity',
    ];
    for (let i = 0; i < 3000; i++) {
      const v = (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
      numbers.push(
        String(v),
        v.toFixed(Math.floor(random() * 18)),
        v.toExponential(Math.floor(random() * 17)),
      );
    }
    for (const n of numbers) {
      const line = `{"task_name": "t", "uids": [1, 2], "rewards": [${n}, ${n}], "v": ${n}}`;
      expect(agree(walker, calls, line), n).toBe(true);
    }
  });

  it('declines everything JSON.parse rejects, and lines it cannot read exactly', () => {
    const { walker, calls } = walkerFor();
    const rejected = [
      '{"a": 01}',
      '{"a": 1.}',
      '{"a": .5}',
      '{"a": -}',
      '{"a": +1}',
      '{"a": 1e}',
      '{"a": 0x10}',
      '{"a": -NaN}',
      '{"a": NaNx}',
      '{"a": nul}',
      '{"a": truee}',
      '{"a": [1, 2,]}',
      '{"a": [1 2]}',
      '{"a": {"b": 1,}}',
      '{"a": 1,}',
      '{"a" 1}',
      "{'a': 1}",
      '{"a": "x\\q"}',
      '{"a": "x\\u12"}',
      '{"a": "tab\there"}',
      '{"a": 1} x',
      '{"a": 1}}',
      '{"a": [[1, 2], {"b": }]}',
      '{"a": [{"b": 1 "c": 2}]}',
      '{"a": ["x", "y]}',
      '{"a": 1',
      '[1, 2]',
      '"text"',
      '\ufeff{"a": 1}',
    ];
    for (const line of rejected) {
      expect(oracle(line), line).toBeUndefined();
      expect(walk(walker, calls, line), line).toBeUndefined();
    }
    // Valid JSON that the walker leaves to JSON.parse (it would not read it exactly the same way).
    const declined = [
      '{"b": 1, "2": 3, "a": 4}', // array-index keys come first in JavaScript's key order
      '{"a": 1, "a": 2}', // duplicate keys: the last value at the first position
      '{"nest": {"a": 1, "a": 2}}',
      '{"A": 1, "\\u0041": 2}', // one key spelled two ways
      '{"record": {"extra": {"a": 1}}, "text": "x"}', // loguru
      '{"total_steps": 5, "rewards": {"total": 1}}', // RL records are renamed and read elsewhere
      '{"map": 1, "x": 2, "y": 3}',
      '{"a": "\\u0000runlens:NaN", "b": NaN}', // the full reader's NaN sentinel
    ];
    for (const line of declined) {
      expect(oracle(line), line).toBeDefined();
      expect(walk(walker, calls, line), line).toBeUndefined();
    }
  });

  it('agrees on nested objects, per-uid vectors at any depth, odd lists and escaped strings', () => {
    const { walker, calls } = walkerFor();
    const lines = [
      '{}',
      '  {"a": 1}   ',
      '{"uids": [], "rewards": []}',
      '{"uids": [1, 2.5], "rewards": [1, 2]}',
      '{"uids": [1, true], "rewards": [1, 2]}',
      '{"uids": 3, "rewards": [1, 2]}',
      '{"uids": [1e0, -0, 3], "rewards": [1, null, "x"], "nested": {"r": [true, false, [1]], "deep": {"s": [{}, {"k": [1, {"z": null}]}, 3]}}}',
      '{"task_name": "St\\u00f6re \\"x\\"", "uids": [4], "set_weights": [0.5, null, 1], "moving_averaged_scores": []}',
      '{"name": "augment", "_step": 3, "uids": [0, 1], "completions": ["a\\nb", "\\ud83d\\ude00"], "prompt": "p", "a": {"b": "wanted"}}',
      '{"neuron_weights": [1, 2, 3], "gating_loss": NaN, "x": -Infinity}',
      '{"task_name": "", "set_weights": null}',
      '{"é": 1, "ключ": "значение", "uids": [7], "v": ["ü"]}',
      '{"a":1,"b":[1,2],"c":{"d":"e"},"uids":[1,2],"f":[3,4]}',
      '{ "a" : [ 1 , 2 ] , "b" : { } , "c" : [ ] }',
      '{"a": 1}\r',
    ];
    for (const line of lines) expect(agree(walker, calls, line), line).toBe(true);
  });

  it('decodes short texts it has met before to the same text, whatever came between (its cache of short strings)', () => {
    const { walker, calls } = walkerFor();
    const random = seededRandom(11);
    const alphabet = ['a', 'b', 'Z', '0', ' ', 'é', '€', '😀', '_'];
    // A few repeated texts, and many distinct ones that overwrite the cache's slots, around its
    // 32-byte limit (in UTF-8 bytes).
    const repeated = ['Success', 'Timeout', 'Internal Server Error', '', 'x'.repeat(32), 'x'.repeat(33)];
    let checked = 0;
    for (let i = 0; i < 6000; i++) {
      let text: string;
      if (random() < 0.5) text = repeated[Math.floor(random() * repeated.length)];
      else {
        text = '';
        const length = Math.floor(random() * 40);
        for (let k = 0; k < length; k++) text += alphabet[Math.floor(random() * alphabet.length)];
      }
      const line = JSON.stringify({ task_name: text, a: { b: `${text}!` }, step: i });
      if (agree(walker, calls, line)) checked++;
    }
    expect(checked).toBe(6000);
  });

  it('passes the textClass of strings it does not decode: numbers, blanks, empty and other text', () => {
    const { walker, calls } = walkerFor();
    const texts = [
      '',
      ' ',
      '   ',
      '\\t\\n',
      '\\u00a0',
      '\\u3000\\ufeff',
      ' \\u2003 ',
      '5',
      ' 5 ',
      '-1.5e3',
      '+.5',
      '5.',
      '0x1F',
      '0b101',
      '0o17',
      'Infinity',
      '-Infinity',
      'infinity',
      'NaN',
      '1_000',
      '1e',
      'abc',
      'deadbeef',
      'fed',
      '\\u0035',
      '1 2',
      'ü',
      '１',
      'x'.repeat(300),
      ' '.repeat(300) + '7',
    ];
    const classes = new Set<string>();
    for (const t of texts) {
      const line = `{"uids": [1, 2], "s": "${t}", "v": ["${t}", 3], "o": {"t": "${t}"}}`;
      expect(agree(walker, calls, line), line).toBe(true);
      classes.add(textClass(JSON.parse(`"${t}"`) as string));
    }
    expect([...classes].sort()).toEqual(['', ' ', '0', 'x']);
  });

  it('never accepts a corrupted line JSON.parse rejects, and agrees on those it accepts (fuzz)', () => {
    const { walker, calls } = walkerFor();
    const random = seededRandom(3);
    const sources = [
      ...linesOf(path.join(FORMATS, 'filetao/events.json')).slice(0, 5),
      ...linesOf(path.join(FORMATS, 'openvalidators/history.jsonl')).slice(0, 2),
      '{"a": {"b": [1, {"c": "d"}], "e": null}, "uids": [1, 2], "r": [0.5, -1e-3]}',
    ];
    const alphabet = '{}[]",:0123456789-+.eE tfnNaI\\u';
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      const source = sources[i % sources.length];
      const chars = [...source];
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * chars.length);
        const r = random();
        const c = alphabet[Math.floor(random() * alphabet.length)];
        if (r < 0.4) chars[at] = c;
        else if (r < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, c);
      }
      if (agree(walker, calls, chars.join(''))) accepted++;
      else rejected++;
    }
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it('readRecords with fastLine: declined lines are parsed, reported and delivered in file order', async () => {
    const dir = tempDir('walker-order');
    const file = path.join(dir, 'events.jsonl');
    const lines = [
      '{"i": 1}',
      '{"i": 2, "i": 2}', // valid, declined (duplicate key): parsed as usual
      '{"i": 3', // corrupt: reported
      '',
      '{"i": 4}',
      '[5]', // not an object: reported
      '{"i": 6, "9": 0}', // declined (array-index key)
      '{"i": 7}',
    ];
    fs.writeFileSync(file, `\ufeff${lines.join('\r\n')}\n{"i": 8}`);
    const order: string[] = [];
    const { sink, calls } = recorder();
    const walker = new EventWalker(sink, () => false);
    const problems: string[] = [];
    const records = readRecords(
      { path: file, gzip: false, container: 'jsonl' },
      (p) => problems.push(`${p.line} ${p.kind}`),
      {
        fastLine: (buffer, start, end, line) => {
          calls.length = 0;
          if (walker.walk(buffer, start, end, line) === undefined) return false;
          order.push(`fast ${line} ${calls.find((c) => c.startsWith('number'))}`);
          return true;
        },
      },
    );
    for await (const batch of records)
      for (const record of batch) order.push(`parsed ${record.line} ${JSON.stringify(record.value)}`);
    expect(order).toEqual([
      'fast 1 number i 1',
      'parsed 2 {"i":2}',
      'fast 5 number i 4',
      'parsed 7 {"9":0,"i":6}',
      'fast 8 number i 7',
      'fast 9 number i 8',
    ]);
    expect(problems).toEqual(['3 corrupt', '6 not-an-object']);
  });
});
