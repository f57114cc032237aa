import {
  escapeLength,
  FALSE_BYTES,
  INFINITY_BYTES,
  isDelimiter,
  NAN_BYTES,
  NULL_BYTES,
  skipSpace,
  TRUE_BYTES,
} from './json-bytes.js';
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
  ensureCache(out.length);
  const pos = skipSpace(buf, start, end);
  if (buf[pos] !== 0x7b) throw new ExtractError('record is not an object');
  const after = walkObject(buf, pos, end, trie, out, seen);
  if (skipSpace(buf, after, end) !== end) throw new ExtractError('unexpected bytes after the record');
}

/**
 * The indent=2 array layout (see scan-file.ts) frames each record by the first "\n  }" after its
 * start. Walking the record instead finds the same end without a separate search, provided the
 * walk passes no other "\n  }": that sequence can only sit before a nested "}" (checked at each
 * one), inside a string (a raw newline: checked), or inside a true/false/null skipped unread
 * (checked). While `framing` is on, any of these aborts the walk (the caller then frames the
 * record by search, exactly as before), which also keeps a failed walk within the framed bytes.
 */
let framing = false;
let framingRoot: TrieNode | undefined;
const FRAMING = new ExtractError('record does not keep the indent=2 layout');

/**
 * Extracts the indent=2 array record starting at `start` (its "{") as `extractRecord` would on
 * the bytes up to the first "\n  }" after it, and returns the index after that "}"; -1 when the
 * walk cannot prove that framing (a bad record, another layout, or the buffer ends first), with
 * `out`/`seen` then undefined.
 */
export function extractFramedRecord(
  buf: Uint8Array,
  start: number,
  limit: number,
  trie: TrieNode,
  out: Float64Array,
  seen: Uint8Array,
): number {
  if (buf[start] !== 0x7b) return -1;
  out.fill(NaN);
  seen.fill(0);
  ensureCache(out.length);
  framing = true;
  framingRoot = trie;
  let after: number;
  try {
    after = walkObject(buf, start, limit, trie, out, seen);
  } catch (error) {
    if (error instanceof ExtractError) return -1;
    throw error;
  } finally {
    framing = false;
    framingRoot = undefined;
  }
  return buf[after - 2] === 0x20 && buf[after - 3] === 0x20 && buf[after - 4] === 0x0a ? after : -1;
}

/** The error to throw: while framing, the shared one (it is never reported, and cheaper). */
function fail(message: string): ExtractError {
  return framing ? FRAMING : new ExtractError(message);
}

/** In framing mode: a nested "}" must not follow "\n  " (see `framing`). */
function checkClose(buf: Uint8Array, pos: number): void {
  if (buf[pos - 1] === 0x20 && buf[pos - 2] === 0x20 && buf[pos - 3] === 0x0a) throw FRAMING;
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
  if (buf[pos] === 0x7d) {
    if (framing && node !== framingRoot) checkClose(buf, pos);
    return pos + 1;
  }
  for (;;) {
    if (buf[pos] !== QUOTE) throw fail('expected a key');
    const keyStart = pos + 1;
    let keyEnd = -1;
    let child: TrieNode | undefined;
    const table = node.byFirstByte;
    if (table !== undefined) {
      // Match the key while finding its closing quote: the trie's keys here hold no quote,
      // backslash or control byte, so a key followed by a quote is exactly the string's content.
      const list = table[buf[keyStart]];
      if (list !== undefined) {
        for (let j = 0; j < list.length; j++) {
          const k = list[j];
          const key = node.keys[k];
          const length = key.length;
          const close = keyStart + length;
          if (close >= end || buf[close] !== QUOTE) continue;
          let i = 1;
          while (i < length && key[i] === buf[keyStart + i]) i++;
          if (i >= length) {
            keyEnd = close;
            child = node.children[k];
            break;
          }
        }
      }
      if (keyEnd < 0) keyEnd = stringEnd(buf, keyStart, end);
    } else {
      keyEnd = stringEnd(buf, keyStart, end);
      child = matchKey(buf, keyStart, keyEnd, node);
    }
    // Usually '": ' then the value.
    pos = keyEnd + 1 < end && buf[keyEnd + 1] === 0x3a ? keyEnd + 1 : skipSpace(buf, keyEnd + 1, end);
    if (buf[pos] !== 0x3a) throw fail('expected ":"');
    pos =
      pos + 2 < end && buf[pos + 1] === 0x20 && buf[pos + 2] > 0x20 ? pos + 2 : skipSpace(buf, pos + 1, end);
    if (child === undefined) pos = skipNested(buf, pos, end);
    else if (child.slot >= 0) pos = readLeaf(buf, pos, end, child.slot, out, seen);
    else if (buf[pos] === 0x7b) pos = walkObject(buf, pos, end, child, out, seen);
    else pos = skipNested(buf, pos, end);
    pos = skipSpace(buf, pos, end);
    const c = buf[pos];
    if (c === 0x2c) {
      pos = skipSpace(buf, pos + 1, end);
      continue;
    }
    if (c === 0x7d) {
      if (framing && node !== framingRoot) checkClose(buf, pos);
      return pos + 1;
    }
    throw fail('expected "," or "}"');
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
    if (!(buf[pos + 1] === 0x72 && buf[pos + 2] === 0x75 && buf[pos + 3] === 0x65)) throw fail('not true');
    out[slot] = 1;
    seen[slot] = 1;
    return pos + 4;
  }
  if (c === 0x66 /* f */) {
    if (!(buf[pos + 1] === 0x61 && buf[pos + 2] === 0x6c && buf[pos + 3] === 0x73 && buf[pos + 4] === 0x65))
      throw fail('not false');
    out[slot] = 0;
    seen[slot] = 1;
    return pos + 5;
  }
  if (c === 0x6e /* n */) {
    if (!(buf[pos + 1] === 0x75 && buf[pos + 2] === 0x6c && buf[pos + 3] === 0x6c)) throw fail('not null');
    return pos + 4;
  }
  if (c === QUOTE || c === 0x7b || c === 0x5b) return skipNested(buf, pos, end);
  // The common case in one pass: plain digits with an optional fraction, then a delimiter.
  let i = pos;
  const negative = c === 0x2d;
  if (negative) i++;
  const digits = i;
  let mantissa = 0;
  let fraction = 0;
  while (i < end) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    i++;
  }
  // JSON's grammar: a digit first, no leading zero ("012"), a digit after the point ("1.").
  let plain = i > digits && !(buf[digits] === 0x30 && i > digits + 1);
  if (i < end && buf[i] === 0x2e) {
    i++;
    const first = i;
    while (i < end) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      fraction++;
      i++;
    }
    if (i === first) plain = false;
  }
  if (i === end || isDelimiter(buf[i])) {
    if (plain && mantissa <= MAX_EXACT && fraction <= 22) {
      const value = fraction === 0 ? mantissa : mantissa / POWERS_OF_TEN[fraction];
      out[slot] = negative ? -value : value;
      seen[slot] = 1;
      return i;
    }
  } else {
    while (i < end && !isDelimiter(buf[i])) i++;
  }
  out[slot] = slowNumber(buf, pos, i, slot);
  seen[slot] = 1;
  return i;
}

/**
 * Numbers off the fast path (17 significant digits, exponents, tokens) repeat from record to record
 * in the same field: each slot remembers its last such token's bytes and value.
 */
const CACHED_BYTES = 32;
let cacheBytes = new Uint8Array(0);
let cacheLength = new Uint8Array(0);
let cacheValue = new Float64Array(0);

function ensureCache(slots: number): void {
  if (cacheLength.length >= slots) return;
  cacheBytes = new Uint8Array(slots * CACHED_BYTES);
  cacheLength = new Uint8Array(slots);
  cacheValue = new Float64Array(slots);
}

function slowNumber(buf: Uint8Array, start: number, end: number, slot: number): number {
  const length = end - start;
  if (length > CACHED_BYTES || length === 0) return parseNumber(buf, start, end);
  const base = slot * CACHED_BYTES;
  if (cacheLength[slot] === length) {
    let k = 0;
    while (k < length && cacheBytes[base + k] === buf[start + k]) k++;
    if (k === length) return cacheValue[slot];
  }
  const value = parseNumber(buf, start, end);
  for (let k = 0; k < length; k++) cacheBytes[base + k] = buf[start + k];
  cacheLength[slot] = length;
  cacheValue[slot] = value;
  return value;
}

/**
 * Parses a JSON number (or NaN/Infinity token) from bytes, to exactly the value Number() gives,
 * and throws on text JSON's grammar does not allow (as the full reader's JSON.parse rejects it):
 * integers and decimals whose digits form an integer below 2^53 with at most 22 fraction digits
 * take the classic exact fast path (an exact integer divided by an exact power of ten is correctly
 * rounded); anything else goes to Number().
 */
export function parseNumber(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let fraction = 0;
  const digits = i;
  while (i < end) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    i++;
  }
  // JSON's grammar: a digit first, no leading zero ("012"), a digit after the point ("1.").
  let plain = i > digits && !(buf[digits] === 0x30 && i > digits + 1);
  if (i < end && buf[i] === 0x2e) {
    i++;
    const first = i;
    while (i < end) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      fraction++;
      i++;
    }
    if (i === first) plain = false;
  }
  if (i === end && plain && mantissa <= MAX_EXACT && fraction <= 22) {
    const value = fraction === 0 ? mantissa : mantissa / POWERS_OF_TEN[fraction];
    return negative ? -value : value;
  }
  // Exponents, long mantissas and tokens: the exact, slower path, for what JSON's grammar allows
  // (and the tokens Python writes): Number() alone would take "012", ".5", "+1", "0x10", " 1".
  const text = Buffer.prototype.latin1Slice.call(buf, start, end) as string;
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  if (!JSON_NUMBER.test(text)) throw fail(`not a number: ${text.slice(0, 20)}`);
  return Number(text);
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
/**
 * While the running mantissa stays below 2^53 every step is exact, and once the true value
 * reaches 2^53 the rounded one cannot fall back below it: so this bound proves exactness.
 */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * Index of the closing quote of a string whose content starts at `pos`, checked as JSON.parse
 * checks it: no raw control character, only JSON's escapes.
 */
function stringEnd(buf: Uint8Array, pos: number, end: number): number {
  let i = pos;
  for (;;) {
    // Bytes above '"' but "\\" (letters, digits) in two tests; below it, only " " and "!".
    while (i < end) {
      const c = buf[i];
      if (c > QUOTE ? c !== BACKSLASH : c === 0x20 || c === 0x21) i++;
      else break;
    }
    if (i >= end) throw fail('unterminated string');
    const c = buf[i];
    if (c === QUOTE) return i;
    if (c === BACKSLASH) {
      const length = escapeLength(buf, i, end);
      if (length === 0)
        throw fail(buf[i + 1] === 0x75 ? 'bad \\u escape in a string' : 'bad escape in a string');
      i += length;
      continue;
    }
    if (c === 0x0a && framing) throw FRAMING;
    throw fail('control character in a string');
  }
}

/**
 * Where the value at `pos` ends, by structure only (brackets and strings balanced): splits a
 * region that lost its layout into values, each then read (and reported if bad) on its own.
 */
export function valueExtent(buf: Uint8Array, pos: number, end: number): number {
  const c = buf[pos];
  if (c === QUOTE) return balancedStringEnd(buf, pos + 1, end) + 1;
  if (c !== 0x7b && c !== 0x5b) {
    let i = pos;
    while (i < end && !isDelimiter(buf[i])) i++;
    if (i === pos) throw fail('expected a value');
    return i;
  }
  let depth = 0;
  for (let i = pos; i < end; i++) {
    const d = buf[i];
    if (d === QUOTE) i = balancedStringEnd(buf, i + 1, end);
    else if (d === 0x7b || d === 0x5b) depth++;
    else if (d === 0x7d || d === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw fail('unterminated object or array');
}

/** The closing quote of a string (content from `pos`), whatever it holds. */
function balancedStringEnd(buf: Uint8Array, pos: number, end: number): number {
  for (let i = pos; i < end; i++) {
    const c = buf[i];
    if (c === QUOTE) return i;
    if (c === BACKSLASH) i++;
  }
  throw fail('unterminated string');
}

/** Open containers of the value `skipNested` is in: its bytes ("{" or "["), grown as needed. */
let openers = new Uint8Array(64);

/**
 * Skips the value at `pos`, checking it as JSON.parse would (with the NaN/Infinity tokens the
 * full reader takes): a value skipped unread must not make a record good that the full reader
 * rejects. In framing mode it checks each "}" (see `framing`). Returns the index after it.
 */
function skipNested(buf: Uint8Array, pos: number, end: number): number {
  let depth = 0;
  for (;;) {
    // At a value.
    if (pos >= end) throw fail('unterminated object or array');
    let c = buf[pos];
    if (c === 0x7b || c === 0x5b) {
      if (depth === openers.length) {
        const grown = new Uint8Array(depth * 2);
        grown.set(openers);
        openers = grown;
      }
      openers[depth++] = c;
      pos = skipSpace(buf, pos + 1, end);
      const close = c + 2; // "{" → "}", "[" → "]"
      if (buf[pos] !== close || pos >= end) {
        pos = c === 0x7b ? memberValue(buf, pos, end) : pos;
        continue;
      }
      if (framing && close === 0x7d) checkClose(buf, pos);
      depth--;
      pos++;
    } else if (c === QUOTE) pos = stringEnd(buf, pos + 1, end) + 1;
    else if (c >= 0x31 && c <= 0x39) {
      // The usual value: digits, then no fraction or exponent (else the full check).
      let i = pos + 1;
      while (i < end && (c = buf[i]) >= 0x30 && c <= 0x39) i++;
      pos = c === 0x2e || c === 0x65 || c === 0x45 ? scalarEnd(buf, pos, end) : i;
    } else pos = scalarEnd(buf, pos, end);
    // After a value: a comma, or close containers.
    for (;;) {
      if (depth === 0) return pos;
      pos = skipSpace(buf, pos, end);
      if (pos >= end) throw fail('unterminated object or array');
      c = buf[pos];
      const open = openers[depth - 1];
      if (c === 0x2c) {
        pos = skipSpace(buf, pos + 1, end);
        if (open === 0x7b) pos = memberValue(buf, pos, end);
        break;
      }
      if (c !== open + 2) throw fail(open === 0x7b ? 'expected "," or "}"' : 'expected "," or "]"');
      if (framing && c === 0x7d) checkClose(buf, pos);
      depth--;
      pos++;
    }
  }
}

/** A member's key and colon from `pos` (its quote); returns the index of its value. */
function memberValue(buf: Uint8Array, pos: number, end: number): number {
  if (buf[pos] !== QUOTE || pos >= end) throw fail('expected a key');
  pos = skipSpace(buf, stringEnd(buf, pos + 1, end) + 1, end);
  if (buf[pos] !== 0x3a || pos >= end) throw fail('expected ":"');
  return skipSpace(buf, pos + 1, end);
}

/**
 * The end of the number, true, false, null or NaN/Infinity token at `pos`, checked against JSON's
 * grammar (value not needed).
 */
function scalarEnd(buf: Uint8Array, pos: number, end: number): number {
  let i = pos;
  let d = buf[i];
  if (d === 0x2d) d = buf[++i];
  if (d >= 0x30 && d <= 0x39 && i < end) {
    // Digits: "0" alone or 1-9 first; then an optional fraction and exponent, each with digits.
    i++;
    if (d !== 0x30) while (i < end && (d = buf[i]) >= 0x30 && d <= 0x39) i++;
    if (i < end && buf[i] === 0x2e) {
      const first = ++i;
      while (i < end && (d = buf[i]) >= 0x30 && d <= 0x39) i++;
      if (i === first) throw fail('expected a digit after "."');
    }
    if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
      i++;
      if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
      const first = i;
      while (i < end && (d = buf[i]) >= 0x30 && d <= 0x39) i++;
      if (i === first) throw fail('expected a digit in the exponent');
    }
  } else if (d === 0x49) i = literalEnd(buf, i, end, INFINITY_BYTES);
  else if (i > pos) throw fail('expected a digit after "-"');
  else if (d === 0x74) i = literalEnd(buf, i, end, TRUE_BYTES);
  else if (d === 0x66) i = literalEnd(buf, i, end, FALSE_BYTES);
  else if (d === 0x6e) i = literalEnd(buf, i, end, NULL_BYTES);
  else if (d === 0x4e) i = literalEnd(buf, i, end, NAN_BYTES);
  else throw fail('expected a value');
  // What follows ("12x", "truex") is the caller's to check: only "," or a closing bracket may.
  return i;
}

/** The index after `word` at `pos` (its first byte already matched), or a failure. */
function literalEnd(buf: Uint8Array, pos: number, end: number, word: Uint8Array): number {
  const after = pos + word.length;
  if (after > end) throw fail('unterminated value');
  for (let k = 1; k < word.length; k++) if (buf[pos + k] !== word[k]) throw fail('not a JSON value');
  return after;
}
