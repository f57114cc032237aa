import { textClass, type TextClass } from '../engine/field-stats.js';
import type { EventSink, NumberCounts } from '../formats/event-sink.js';
import { UID_INDEXED_KEYS } from '../formats/normalize.js';
import type { Profile } from '../formats/profile.js';
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

/**
 * The byte-level twin of `parseJsonRecord` + `normalizeRecord` for one JSON-lines record: it walks
 * the line's bytes once to check them and collect the top-level members, then makes exactly the
 * sink calls the two would make — without decoding the line into a string, building its objects,
 * or decoding strings nobody reads. Whatever it is not sure to read exactly as they would (bad
 * JSON, loguru lines, RL records, duplicate or array-index keys, very deep nesting, too many
 * distinct keys) it leaves alone: `walk` returns undefined before any sink call, and the caller
 * reads that line the usual way (which also reports it when it is bad).
 *
 * Values the sink only counts by type are passed as placeholders of that type: list elements
 * that are lists or objects come as `[]` and `{}`, and a string (a list element unless `listText`,
 * or a scalar unless `wantsText(path)` asks for its text) as the string of its `textClass` — `''`,
 * `' '`, `'0'` or `'x'` — so a sink can still tell how a numeric column would take it. The ingest
 * decodes every string (it stores them). The lists passed to the sink
 * are reused for the next record: they are valid until `endEvent`.
 */
export class EventWalker {
  private readonly top = new KeyTable('', true);
  /** Top-level members of the current record. */
  private entries: KeyEntry[] = [];
  private kinds = new Uint8Array(64);
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private numbers = new Float64Array(64);
  private stringEscapes = new Uint8Array(64);
  private count = 0;
  private stamp = 0;

  /** `listText`: decode the strings in lists too, else their textClass comes. */
  constructor(
    private readonly sink: EventSink,
    private readonly wantsText: (path: string) => boolean,
    private readonly listText = false,
  ) {}

  /** Walks the record in `buf[start, end)`; undefined = not handled (no sink call was made). */
  walk(buf: Uint8Array, start: number, end: number, line: number): Profile | undefined {
    if (!this.collect(buf, start, end)) return undefined;
    let flags = 0;
    let uids: KeyEntry | undefined;
    let uidsKind = -1;
    for (let m = 0; m < this.count; m++) {
      const entry = this.entries[m];
      flags |= entry.flag;
      if (entry.flag === F_UIDS) {
        uids = entry;
        uidsKind = this.kinds[m];
      }
      if (entry.flag === F_POSITION && this.kinds[m] === OBJECT) flags |= F_POSITION_OBJECT;
      if ((entry.flag === F_MAP || entry.flag === F_X || entry.flag === F_Y) && this.kinds[m] === NUMBER)
        flags |= entry.flag << 16;
    }
    // Loguru lines (unwrapped by the full reader) and RL records (renamed keys) go the usual way.
    if (flags & F_RECORD) return undefined;
    const profile = profileOf(flags);
    if (profile === 'rl') return undefined;
    const sink = this.sink;
    sink.beginEvent(line);
    let uidCount: number | undefined;
    if (uids !== undefined && uidsKind === ARRAY && uids.counts.int === uids.list.length) {
      uidCount = uids.list.length;
      sink.uids(uids.list as number[], uids.counts);
    }
    for (let m = 0; m < this.count; m++) {
      const entry = this.entries[m];
      const path = entry.path;
      switch (this.kinds[m]) {
        case NUMBER:
          sink.number(path, this.numbers[m]);
          break;
        case TRUE:
          sink.number(path, 1);
          break;
        case FALSE:
          sink.number(path, 0);
          break;
        case NULL:
          sink.other(path, 'null');
          break;
        case STRING:
          sink.text(
            path,
            this.wantsText(path)
              ? this.text(buf, m)
              : classifyString(buf, this.starts[m], this.ends[m], this.stringEscapes[m] === 1),
          );
          break;
        case ARRAY:
          if (entry === uids && uidCount !== undefined) break;
          if (entry.indexed) sink.uidIndexed(path, entry.list, entry.counts);
          else if (uidCount !== undefined && entry.list.length === uidCount && uidCount > 0)
            sink.uidVector(path, entry.list, entry.counts);
          else sink.other(path, 'list');
          break;
        case OBJECT:
          this.objectAt(buf, this.starts[m], end, entry.children!, 1, uidCount);
          break;
      }
    }
    sink.endEvent();
    return profile;
  }

  /** First pass: checks the whole line and collects the top-level members; false = not handled. */
  private collect(buf: Uint8Array, start: number, end: number): boolean {
    let pos = skipSpace(buf, start, end);
    if (buf[pos] !== 0x7b) return false;
    pos = skipSpace(buf, pos + 1, end);
    this.count = 0;
    const visit = ++this.stamp;
    if (buf[pos] === 0x7d) return skipSpace(buf, pos + 1, end) === end;
    for (let m = 0; ; m++) {
      if (buf[pos] !== 0x22) return false;
      const keyEnd = stringEnd(buf, pos + 1, end);
      if (keyEnd < 0) return false;
      const entry = this.top.lookup(buf, pos + 1, keyEnd, m, escaped);
      if (entry === undefined || entry.stamp === visit) return false;
      entry.stamp = visit;
      pos = skipSpace(buf, keyEnd + 1, end);
      if (buf[pos] !== 0x3a) return false;
      pos = skipSpace(buf, pos + 1, end);
      if (m >= this.kinds.length) this.grow();
      this.entries[m] = entry;
      this.starts[m] = pos;
      const c = buf[pos];
      let kind: number;
      if (c === 0x22) {
        const close = stringEnd(buf, pos + 1, end);
        if (close < 0) return false;
        this.stringEscapes[m] = escaped ? 1 : 0;
        kind = STRING;
        pos = close + 1;
      } else if (c === 0x5b) {
        pos = this.list(buf, pos, end, entry.list, entry.counts);
        if (pos < 0) return false;
        kind = ARRAY;
      } else if (c === 0x7b) {
        entry.children ??= new KeyTable(entry.path, false);
        pos = this.objectAt(buf, pos, end, entry.children, 1, undefined, false);
        if (pos < 0) return false;
        kind = OBJECT;
      } else {
        kind = scalar(buf, pos, end);
        if (kind < 0) return false;
        this.numbers[m] = scalarValue;
        pos = scalarEnd;
      }
      this.kinds[m] = kind;
      this.ends[m] = pos;
      this.count = m + 1;
      pos = skipSpace(buf, pos, end);
      const d = buf[pos];
      if (d === 0x2c) {
        pos = skipSpace(buf, pos + 1, end);
        continue;
      }
      if (d !== 0x7d) return false;
      return skipSpace(buf, pos + 1, end) === end;
    }
  }

  /**
   * A nested object at `pos`: checked (emit false; returns the index after it, or −1) or walked
   * into sink calls (emit true; only after it was checked).
   */
  private objectAt(
    buf: Uint8Array,
    pos: number,
    end: number,
    table: KeyTable,
    depth: number,
    uidCount: number | undefined,
    emit = true,
  ): number {
    if (depth > MAX_DEPTH) return -1;
    const visit = ++this.stamp;
    pos = skipSpace(buf, pos + 1, end);
    if (buf[pos] === 0x7d) return pos + 1;
    for (let m = 0; ; m++) {
      if (buf[pos] !== 0x22) return -1;
      const keyEnd = stringEnd(buf, pos + 1, end);
      if (keyEnd < 0) return -1;
      const entry = table.lookup(buf, pos + 1, keyEnd, m, escaped);
      if (entry === undefined || (!emit && entry.stamp === visit)) return -1;
      entry.stamp = visit;
      pos = skipSpace(buf, keyEnd + 1, end);
      if (buf[pos] !== 0x3a) return -1;
      pos = skipSpace(buf, pos + 1, end);
      const c = buf[pos];
      const path = entry.path;
      if (c === 0x22) {
        const start = pos;
        const close = stringEnd(buf, pos + 1, end);
        if (close < 0) return -1;
        pos = close + 1;
        if (emit)
          this.sink.text(
            path,
            this.wantsText(path)
              ? decodeString(buf, start, pos, escaped)
              : classifyString(buf, start, pos, escaped),
          );
      } else if (c === 0x5b) {
        pos = this.list(buf, pos, end, entry.list, entry.counts);
        if (pos < 0) return -1;
        if (emit) {
          if (uidCount !== undefined && entry.list.length === uidCount && uidCount > 0)
            this.sink.uidVector(path, entry.list, entry.counts);
          else this.sink.other(path, 'list');
        }
      } else if (c === 0x7b) {
        entry.children ??= new KeyTable(path, false);
        pos = this.objectAt(buf, pos, end, entry.children, depth + 1, uidCount, emit);
        if (pos < 0) return -1;
      } else {
        const kind = scalar(buf, pos, end);
        if (kind < 0) return -1;
        pos = scalarEnd;
        if (emit) {
          if (kind === NUMBER) this.sink.number(path, scalarValue);
          else if (kind === NULL) this.sink.other(path, 'null');
          else this.sink.number(path, kind === TRUE ? 1 : 0);
        }
      }
      pos = skipSpace(buf, pos, end);
      const d = buf[pos];
      if (d === 0x2c) {
        pos = skipSpace(buf, pos + 1, end);
        continue;
      }
      return d === 0x7d ? pos + 1 : -1;
    }
  }

  /**
   * A list at `pos` into `out` (numbers and booleans as themselves, null, placeholders for the
   * rest) and its number types into `counts`.
   * Returns the index after it or −1.
   */
  private list(buf: Uint8Array, pos: number, end: number, out: unknown[], counts: NumberCounts): number {
    let n = 0;
    let ints = 0;
    let floats = 0;
    let nans = 0;
    let bools = 0;
    let nulls = 0;
    let strings = 0;
    let lists = 0;
    pos = skipSpace(buf, pos + 1, end);
    if (buf[pos] === 0x5d) {
      out.length = 0;
      counts.int = counts.float = counts.nan = counts.other = 0;
      counts.bool = counts.null = counts.string = counts.list = counts.object = 0;
      return pos + 1;
    }
    for (;;) {
      const c = buf[pos];
      let value: unknown;
      if (c === 0x22) {
        const close = stringEnd(buf, pos + 1, end);
        if (close < 0) return -1;
        value = this.listText
          ? decodeString(buf, pos, close + 1, escaped)
          : classifyString(buf, pos, close + 1, escaped);
        pos = close + 1;
        strings++;
      } else if (c === 0x5b || c === 0x7b) {
        pos = skipNested(buf, pos, end);
        if (pos < 0) return -1;
        if (c === 0x5b) {
          value = LIST_PLACEHOLDER;
          lists++;
        } else value = OBJECT_PLACEHOLDER;
      } else {
        const kind = scalar(buf, pos, end);
        if (kind < 0) return -1;
        pos = scalarEnd;
        if (kind === NUMBER) {
          const v = scalarValue;
          value = v;
          if (Number.isInteger(v)) ints++;
          else if (v - v === 0) floats++;
          else nans++;
        } else if (kind === NULL) {
          value = null;
          nulls++;
        } else {
          value = kind === TRUE;
          bools++;
        }
      }
      out[n++] = value;
      pos = skipSpace(buf, pos, end);
      const d = buf[pos];
      if (d === 0x2c) {
        pos = skipSpace(buf, pos + 1, end);
        continue;
      }
      if (d !== 0x5d) return -1;
      if (out.length !== n) out.length = n;
      counts.int = ints;
      counts.float = floats;
      counts.nan = nans;
      counts.other = n - ints - floats - nans;
      counts.bool = bools;
      counts.null = nulls;
      counts.string = strings;
      counts.list = lists;
      counts.object = counts.other - bools - nulls - strings - lists;
      return pos + 1;
    }
  }

  private text(buf: Uint8Array, m: number): string {
    return decodeString(buf, this.starts[m], this.ends[m], this.stringEscapes[m] === 1);
  }

  private grow(): void {
    const size = this.kinds.length * 2;
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const starts = new Int32Array(size);
    starts.set(this.starts);
    this.starts = starts;
    const ends = new Int32Array(size);
    ends.set(this.ends);
    this.ends = ends;
    const numbers = new Float64Array(size);
    numbers.set(this.numbers);
    this.numbers = numbers;
    const stringEscapes = new Uint8Array(size);
    stringEscapes.set(this.stringEscapes);
    this.stringEscapes = stringEscapes;
  }
}

/** Result registers of the scanners below (no tuple allocated per value). */
let scalarValue = 0;
let scalarEnd = 0;
let escaped = false;

/**
 * A number, NaN/Infinity token, true, false or null at `pos` (its kind, or −1); the number goes
 * to `scalarValue` and the index after the value to `scalarEnd`. Numbers follow JSON's grammar
 * strictly and convert exactly as JSON.parse does.
 */
function scalar(buf: Uint8Array, pos: number, end: number): number {
  const c = buf[pos];
  if (c === 0x74) return word(buf, pos, end, TRUE_BYTES, TRUE);
  if (c === 0x66) return word(buf, pos, end, FALSE_BYTES, FALSE);
  if (c === 0x6e) return word(buf, pos, end, NULL_BYTES, NULL);
  if (c === 0x4e) {
    scalarValue = NaN;
    return word(buf, pos, end, NAN_BYTES, NUMBER);
  }
  const start = pos;
  let negative = false;
  if (c === 0x2d) {
    negative = true;
    pos++;
  }
  if (buf[pos] === 0x49) {
    scalarValue = negative ? -Infinity : Infinity;
    return word(buf, pos, end, INFINITY_BYTES, NUMBER);
  }
  let mantissa = 0;
  let d = buf[pos] - 0x30;
  if (d === 0) pos++;
  else if (d > 0 && d <= 9) {
    do {
      mantissa = mantissa * 10 + d;
      pos++;
      d = buf[pos] - 0x30;
    } while (d >= 0 && d <= 9 && pos < end);
  } else return -1;
  let exponent = 0;
  if (buf[pos] === 0x2e && pos < end) {
    pos++;
    d = buf[pos] - 0x30;
    if (!(d >= 0 && d <= 9) || pos >= end) return -1;
    do {
      mantissa = mantissa * 10 + d;
      exponent--;
      pos++;
      d = buf[pos] - 0x30;
    } while (d >= 0 && d <= 9 && pos < end);
  }
  const e = buf[pos];
  if ((e === 0x65 || e === 0x45) && pos < end) {
    pos++;
    let sign = 1;
    if (buf[pos] === 0x2b || buf[pos] === 0x2d) {
      if (buf[pos] === 0x2d) sign = -1;
      pos++;
    }
    d = buf[pos] - 0x30;
    if (!(d >= 0 && d <= 9) || pos >= end) return -1;
    let written = 0;
    do {
      if (written < 100_000) written = written * 10 + d;
      pos++;
      d = buf[pos] - 0x30;
    } while (d >= 0 && d <= 9 && pos < end);
    exponent += sign * written;
  }
  if (pos < end && !isDelimiter(buf[pos])) return -1;
  scalarEnd = pos;
  // Exact when the digits form an integer below 2^53 (a rounded sum below 2^53 means the true one
  // is) and the power of ten is exact: one correctly rounded IEEE operation on exact operands
  // (Clinger's fast path).
  if (mantissa < MAX_EXACT && exponent >= -22 && exponent <= 22) {
    const value = exponent < 0 ? mantissa / POWERS_OF_TEN[-exponent] : mantissa * POWERS_OF_TEN[exponent];
    scalarValue = negative ? -value : value;
  } else scalarValue = Number(latin1(buf, start, pos));
  return NUMBER;
}

function word(buf: Uint8Array, pos: number, end: number, bytes: Uint8Array, kind: number): number {
  const after = pos + bytes.length;
  if (after > end) return -1;
  for (let i = 1; i < bytes.length; i++) if (buf[pos + i] !== bytes[i]) return -1;
  if (after < end && !isDelimiter(buf[after])) return -1;
  scalarEnd = after;
  return kind;
}

/**
 * The closing quote of a string whose content starts at `pos`, or −1 if the string is not valid
 * JSON (raw control characters, bad escapes, no end). Sets `escaped` when it has escapes.
 */
function stringEnd(buf: Uint8Array, pos: number, end: number): number {
  escaped = false;
  for (let i = pos; i < end; i++) {
    const c = buf[i];
    if (c === 0x22) return i;
    if (c === 0x5c) {
      const length = escapeLength(buf, i, end);
      if (length === 0) return -1;
      // A string starting with \u0000 could be the full reader's NaN sentinel: let it decide.
      if (
        length === 6 &&
        i === pos &&
        buf[i + 2] === 0x30 &&
        buf[i + 3] === 0x30 &&
        buf[i + 4] === 0x30 &&
        buf[i + 5] === 0x30
      )
        return -1;
      i += length - 1;
      escaped = true;
    } else if (c < 0x20) return -1;
  }
  return -1;
}

/** Skips a list or object inside a list (checked; keys not interned: only its type is used). */
function skipNested(buf: Uint8Array, pos: number, end: number): number {
  let depth = 0;
  /** Per open level: what closes it, and whether a value or a key is expected next. */
  const closers: number[] = [];
  for (;;) {
    const c = buf[pos];
    if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DEPTH) return -1;
      closers.push(c === 0x5b ? 0x5d : 0x7d);
      pos = skipSpace(buf, pos + 1, end);
      if (buf[pos] === closers[closers.length - 1]) {
        closers.pop();
        depth--;
        pos++;
      } else {
        if (c === 0x7b) {
          pos = keyOf(buf, pos, end);
          if (pos < 0) return -1;
        }
        continue;
      }
    } else if (c === 0x22) {
      const close = stringEnd(buf, pos + 1, end);
      if (close < 0) return -1;
      pos = close + 1;
    } else {
      pos = skipScalar(buf, pos, end);
      if (pos < 0) return -1;
    }
    // After a value: ",", or close levels.
    for (;;) {
      if (depth === 0) return pos;
      pos = skipSpace(buf, pos, end);
      const d = buf[pos];
      if (d === 0x2c) {
        pos = skipSpace(buf, pos + 1, end);
        if (closers[closers.length - 1] === 0x7d) {
          pos = keyOf(buf, pos, end);
          if (pos < 0) return -1;
        }
        break;
      }
      if (d !== closers[closers.length - 1]) return -1;
      closers.pop();
      depth--;
      pos++;
    }
  }
}

/** A key and its colon inside a skipped object; returns the index of its value, or −1. */
function keyOf(buf: Uint8Array, pos: number, end: number): number {
  if (buf[pos] !== 0x22) return -1;
  const close = stringEnd(buf, pos + 1, end);
  if (close < 0) return -1;
  pos = skipSpace(buf, close + 1, end);
  if (buf[pos] !== 0x3a) return -1;
  return skipSpace(buf, pos + 1, end);
}

/** A scalar's end, checked by the same grammar as EventWalker.scalar (value not needed). */
function skipScalar(buf: Uint8Array, pos: number, end: number): number {
  return scalar(buf, pos, end) < 0 ? -1 : scalarEnd;
}

/** Top-level keys that decide the profile, as bit flags (same tests as profileOfEvent). */
const F_TASK_NAME = 1 << 0;
const F_UIDS = 1 << 1;
const F_SET_WEIGHTS = 1 << 2;
const F_COMPLETIONS = 1 << 3;
const F_GATING_LOSS = 1 << 4;
const F_NEURON_WEIGHTS = 1 << 5;
const F_NAME = 1 << 6;
const F_STEP = 1 << 7;
const F_TOTAL_STEPS = 1 << 8;
const F_POSITION = 1 << 9;
const F_MAP = 1 << 10;
const F_X = 1 << 11;
const F_Y = 1 << 12;
const F_RECORD = 1 << 13;
const F_POSITION_OBJECT = 1 << 14;
const PROFILE_KEYS: Record<string, number> = {
  task_name: F_TASK_NAME,
  uids: F_UIDS,
  set_weights: F_SET_WEIGHTS,
  completions: F_COMPLETIONS,
  gating_loss: F_GATING_LOSS,
  neuron_weights: F_NEURON_WEIGHTS,
  name: F_NAME,
  _step: F_STEP,
  total_steps: F_TOTAL_STEPS,
  position: F_POSITION,
  map: F_MAP,
  x: F_X,
  y: F_Y,
  record: F_RECORD,
};

/** profileOfEvent over key flags (map/x/y as numbers are the flags shifted by 16). */
function profileOf(flags: number): Profile {
  if (flags & F_TASK_NAME && flags & (F_UIDS | F_SET_WEIGHTS)) return 'filetao';
  if (flags & (F_COMPLETIONS | F_GATING_LOSS | F_NEURON_WEIGHTS)) return 'openvalidators';
  if (flags & (F_NAME | F_STEP) && flags & F_UIDS) return 'openvalidators';
  const flatRl = (flags >> 16) & F_MAP && (flags >> 16) & F_X && (flags >> 16) & F_Y && !(flags & F_POSITION);
  if (flags & (F_TOTAL_STEPS | F_POSITION_OBJECT) || flatRl) return 'rl';
  return 'generic';
}

interface KeyEntry {
  bytes: Uint8Array;
  path: string;
  /** Profile key flag (top level only), 0 otherwise. */
  flag: number;
  /** A top-level key whose lists are indexed by uid. */
  indexed: boolean;
  /** The record (or object visit) it was last seen in, to find duplicate keys. */
  stamp: number;
  /** This key's list in the current record (reused) and its number types (all integers: counts.int = length). */
  list: unknown[];
  counts: NumberCounts;
  children: KeyTable | undefined;
}

/** Most distinct keys one object level may have before lines with new keys go the usual way. */
const MAX_KEYS = 4096;
const MAX_DEPTH = 64;

/**
 * The keys met at one object level, interned by their bytes: a key is usually found at the
 * position it had in the previous record, otherwise by a hash of its bytes.
 */
class KeyTable {
  private readonly byHash = new Map<number, KeyEntry[]>();
  /** By decoded key: two spellings of one key (escapes, invalid UTF-8) are left to JSON.parse. */
  private readonly byKey = new Map<string, KeyEntry>();
  private readonly previous: (KeyEntry | undefined)[] = [];
  private size = 0;

  constructor(
    private readonly prefix: string,
    private readonly topLevel: boolean,
  ) {}

  /** The entry for the key in `buf[start, end)`; undefined = a key this walker does not handle. */
  lookup(buf: Uint8Array, start: number, end: number, index: number, escaped: boolean): KeyEntry | undefined {
    const guess = this.previous[index];
    if (guess !== undefined && sameBytes(guess.bytes, buf, start, end)) return guess;
    const hash = hashBytes(buf, start, end);
    let bucket = this.byHash.get(hash);
    let entry = bucket?.find((e) => sameBytes(e.bytes, buf, start, end));
    if (entry === undefined) {
      if (this.size >= MAX_KEYS) return undefined;
      const key = decodeString(buf, start - 1, end + 1, escaped);
      // Array-index keys come first in JavaScript's key order, whatever their position in the
      // line; __proto__ is best left to JSON.parse as well.
      if (/^\d+$/.test(key) || key === '__proto__' || this.byKey.has(key)) return undefined;
      entry = {
        bytes: Uint8Array.prototype.slice.call(buf, start, end),
        path: this.prefix === '' ? key : `${this.prefix}.${key}`,
        flag: this.topLevel ? (PROFILE_KEYS[key] ?? 0) : 0,
        indexed: this.topLevel && UID_INDEXED_KEYS.has(key),
        stamp: 0,
        list: [],
        counts: { int: 0, float: 0, nan: 0, other: 0, bool: 0, null: 0, string: 0, list: 0, object: 0 },
        children: undefined,
      };
      if (bucket === undefined) {
        bucket = [];
        this.byHash.set(hash, bucket);
      }
      bucket.push(entry);
      this.byKey.set(key, entry);
      this.size++;
    }
    this.previous[index] = entry;
    return entry;
  }
}

/** FNV-1a hash of `buf[start, end)`. */
function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i], 16777619);
  return hash;
}

function sameBytes(bytes: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (bytes.length !== end - start) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== buf[start + i]) return false;
  return true;
}

const utf8Slice = Buffer.prototype.utf8Slice as (this: Uint8Array, start: number, end: number) => string;

/**
 * Recently decoded short strings, by a hash of their bytes: validator logs repeat the same few
 * (status messages per uid, task names, hotkeys), and returning the string made before saves
 * making it again (and hashing it again in every map it is looked up in). One slot per hash,
 * overwritten on a miss.
 */
const INTERN_BYTES = 32;
const INTERN_SLOTS = 1024;
const internBytes = new Array<Uint8Array | undefined>(INTERN_SLOTS);
const internStrings = new Array<string>(INTERN_SLOTS).fill('');

/** A JSON string's value from its bytes `buf[open, close]` (quotes included at both ends). */
function decodeString(buf: Uint8Array, open: number, closeAfter: number, escaped: boolean): string {
  if (escaped) return JSON.parse(utf8Slice.call(buf, open, closeAfter)) as string;
  const start = open + 1;
  const end = closeAfter - 1;
  if (end - start > INTERN_BYTES) return utf8Slice.call(buf, start, end);
  const hash = hashBytes(buf, start, end);
  const slot = (hash ^ (hash >>> 15)) & (INTERN_SLOTS - 1);
  const bytes = internBytes[slot];
  if (bytes !== undefined && sameBytes(bytes, buf, start, end)) return internStrings[slot];
  const text = utf8Slice.call(buf, start, end);
  internBytes[slot] = Uint8Array.prototype.slice.call(buf, start, end);
  internStrings[slot] = text;
  return text;
}

/**
 * Bytes that can occur in a string Number() reads as a number or that trim() empties: digits, signs,
 * '.', the letters of hex digits, exponents, radix prefixes and "Infinity", space, the escape
 * sequences that can stand for spaces or digits (\t, \r, \u…; \/ and \" too) and UTF-8 bytes
 * (Unicode spaces). A string with any other byte is text that is not a number.
 */
const MAYBE_NUMBER = (() => {
  const table = new Uint8Array(256);
  for (const c of '0123456789+-.abcdefABCDEFxXoOIinty \\ru/"') table[c.charCodeAt(0)] = 1;
  table.fill(1, 0x80);
  return table;
})();

/** The textClass of a JSON string `buf[open, closeAfter)` (quotes included), decoding it only when it might be a number or blank. */
function classifyString(buf: Uint8Array, open: number, closeAfter: number, escaped: boolean): TextClass {
  if (closeAfter - open === 2) return '';
  for (let i = open + 1; i < closeAfter - 1; i++) if (MAYBE_NUMBER[buf[i]] === 0) return 'x';
  return textClass(decodeString(buf, open, closeAfter, escaped));
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.prototype.latin1Slice.call(buf, start, end) as string;
}

const NUMBER = 0;
const TRUE = 1;
const FALSE = 2;
const NULL = 3;
const STRING = 4;
const ARRAY = 5;
const OBJECT = 6;
const LIST_PLACEHOLDER: readonly unknown[] = Object.freeze([]);
const OBJECT_PLACEHOLDER = Object.freeze({});
const MAX_EXACT = 2 ** 53;
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
