import type { TrieNode } from './path-trie.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Thrown when a record's bytes are not valid JSON where the extractor had to look. */
export class ExtractError extends Error {}

/**
 * Walks one JSON record's bytes once and writes the numbers found at the trie's paths into
 * `out[slot]` (NaN where absent or null; true/false as 1/0; NaN/Infinity tokens accepted).
 * Everything else is skipped without building strings or objects. `seen[slot]` is set to 1 for
 * each path present with a number.
 */
export function extractRecord(
  buf: Uint8Array,
  start: number,
  end: number,
  trie: TrieNode,
  out: Float64Array,
  seen: Uint8Array,
): void {
  out.fill(NaN);
  seen.fill(0);
  const pos = skipSpace(buf, start, end);
  if (buf[pos] !== 0x7b) throw new ExtractError('record is not an object');
  const after = walkObject(buf, pos, end, trie, out, seen);
  if (skipSpace(buf, after, end) !== end) throw new ExtractError('unexpected bytes after the record');
}

function walkObject(
  buf: Uint8Array,
  pos: number,
  end: number,
  node: TrieNode,
  out: Float64Array,
  seen: Uint8Array,
): number {
  pos = skipSpace(buf, pos + 1, end);
  if (buf[pos] === 0x7d) return pos + 1;
  for (;;) {
    if (buf[pos] !== QUOTE) throw new ExtractError('expected a key');
    const keyStart = pos + 1;
    const keyEnd = stringEnd(buf, keyStart, end);
    pos = skipSpace(buf, keyEnd + 1, end);
    if (buf[pos] !== 0x3a) throw new ExtractError('expected ":"');
    pos = skipSpace(buf, pos + 1, end);
    const child = matchKey(buf, keyStart, keyEnd, node);
    if (child === undefined) pos = skipValue(buf, pos, end);
    else if (child.slot >= 0) pos = readLeaf(buf, pos, end, child.slot, out, seen);
    else if (buf[pos] === 0x7b) pos = walkObject(buf, pos, end, child, out, seen);
    else pos = skipValue(buf, pos, end);
    pos = skipSpace(buf, pos, end);
    const c = buf[pos];
    if (c === 0x2c) {
      pos = skipSpace(buf, pos + 1, end);
      continue;
    }
    if (c === 0x7d) return pos + 1;
    throw new ExtractError('expected "," or "}"');
  }
}

function matchKey(buf: Uint8Array, start: number, end: number, node: TrieNode): TrieNode | undefined {
  const length = end - start;
  const keys = node.keys;
  outer: for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    if (key.length !== length) continue;
    for (let i = 0; i < length; i++) if (key[i] !== buf[start + i]) continue outer;
    return node.children[k];
  }
  return undefined;
}

function readLeaf(
  buf: Uint8Array,
  pos: number,
  end: number,
  slot: number,
  out: Float64Array,
  seen: Uint8Array,
): number {
  const c = buf[pos];
  if (c === 0x74 /* t */) {
    out[slot] = 1;
    seen[slot] = 1;
    return pos + 4;
  }
  if (c === 0x66 /* f */) {
    out[slot] = 0;
    seen[slot] = 1;
    return pos + 5;
  }
  if (c === 0x6e /* n */) return pos + 4;
  if (c === QUOTE || c === 0x7b || c === 0x5b) return skipValue(buf, pos, end);
  let i = pos;
  while (i < end) {
    const d = buf[i];
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
    i++;
  }
  out[slot] = parseNumber(buf, pos, i);
  seen[slot] = 1;
  return i;
}

/**
 * Parses a JSON number (or NaN/Infinity token) from bytes, exactly as Number() would: integers
 * and decimals with at most 15 significant digits take the classic exact fast path (an exact
 * integer divided by an exact power of ten is correctly rounded); anything else goes to Number().
 */
export function parseNumber(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  while (i < end) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    if (mantissa !== 0) digits++;
    i++;
  }
  if (i < end && buf[i] === 0x2e) {
    i++;
    while (i < end) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      if (mantissa !== 0) digits++;
      fraction++;
      i++;
    }
  }
  if (i === end && i > start + (negative ? 1 : 0) && digits <= 15 && fraction <= 22) {
    const value = fraction === 0 ? mantissa : mantissa / POWERS_OF_TEN[fraction];
    return negative ? -value : value;
  }
  // Exponents, long mantissas and tokens: the exact, slower path.
  const text = Buffer.prototype.latin1Slice.call(buf, start, end) as string;
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  const number = Number(text);
  if (Number.isNaN(number) || text.trim() === '')
    throw new ExtractError(`not a number: ${text.slice(0, 20)}`);
  return number;
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

export function skipSpace(buf: Uint8Array, pos: number, end: number): number {
  while (pos < end) {
    const c = buf[pos];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return pos;
    pos++;
  }
  return pos;
}

/** Index of the closing quote of a string whose content starts at `pos`. */
function stringEnd(buf: Uint8Array, pos: number, end: number): number {
  for (;;) {
    let quote = -1;
    for (let i = pos; i < end; i++) {
      if (buf[i] === QUOTE) {
        quote = i;
        break;
      }
    }
    if (quote < 0) throw new ExtractError('unterminated string');
    let backslashes = 0;
    for (let k = quote - 1; k >= pos && buf[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    pos = quote + 1;
  }
}

/** Skips one JSON value starting at `pos`; returns the index after it. */
export function skipValue(buf: Uint8Array, pos: number, end: number): number {
  const c = buf[pos];
  if (c === QUOTE) return stringEnd(buf, pos + 1, end) + 1;
  if (c !== 0x7b && c !== 0x5b) {
    let i = pos;
    while (i < end) {
      const d = buf[i];
      if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09)
        break;
      i++;
    }
    if (i === pos) throw new ExtractError('expected a value');
    return i;
  }
  let depth = 0;
  for (let i = pos; i < end; i++) {
    const d = buf[i];
    if (d === QUOTE) i = stringEnd(buf, i + 1, end);
    else if (d === 0x7b || d === 0x5b) depth++;
    else if (d === 0x7d || d === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new ExtractError('unterminated object or array');
}
