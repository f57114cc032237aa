import fs from 'node:fs';
import zlib from 'node:zlib';
import { parseJsonRecord } from './json-record.js';
import type { LogFile } from './log-file.js';
import { profileOfEvent, unwrapLoguru, type Profile } from './profile.js';
import { looksLikeJsonLines } from './read-records.js';
import { readJsonValues } from './read-json-values.js';
import { isPlainObject } from './record.js';
import { addValue, emptyShape, type Shape } from './shape.js';

/**
 * How a file's records are laid out: one JSON object per line (DuckDB reads these), one top-level
 * JSON array (DuckDB too), pretty-printed objects one after another or CSV (read by the JS readers).
 */
export type Layout = 'jsonl' | 'array' | 'values' | 'csv';

export interface FileProbe {
  layout: Layout;
  /** Starts with a UTF-8 byte order mark (DuckDB rejects those). */
  bom: boolean;
  /** Why the file is not a text log (NUL bytes or invalid UTF-8 in its first KiB); not read then. */
  notText?: string;
  /** Records are loguru lines whose event is `record.extra`. */
  loguru: boolean;
  /** Plain files: the last byte is a newline (otherwise the last line may be partial). */
  endsWithNewline: boolean;
  /** Shape of the sampled events (after the loguru unwrap). */
  shape: Shape;
  /** Records sampled. */
  sampled: number;
  votes: Record<Profile, number>;
}

/** Bytes read from the start of a file. */
const HEAD_BYTES = 1 << 20;
/** Bytes read from the end of a plain JSON lines file. */
const TAIL_BYTES = 256 << 10;
/**
 * Windows read inside plain JSON lines files larger than WINDOW_MIN_FILE, evenly spaced: a field
 * that a fraction of a large file's records hold is met in some window (and then declared); one
 * that a single stretch between windows holds is not.
 */
const WINDOWS = 64;
const WINDOW_BYTES = 32 << 10;
const WINDOW_MIN_FILE = 8 << 20;
/** Records parsed from each place read. */
const RECORDS_PER_PLACE = 400;

export function noVotes(): Record<Profile, number> {
  return { filetao: 0, openvalidators: 0, rl: 0, generic: 0 };
}

/**
 * Samples a file's records where they are cheap to reach: the start of every file, and for plain
 * JSON lines also the end and eight places in between. Decides the layout and the shape DuckDB's
 * columns are declared from. Reads at most a few MB whatever the file size.
 */
export async function probeFile(file: Pick<LogFile, 'path' | 'gzip' | 'container'>): Promise<FileProbe> {
  const head = file.gzip ? await gunzipHead(file.path, HEAD_BYTES) : readAt(file.path, 0, HEAD_BYTES);
  const size = file.gzip ? head.length : fs.statSync(file.path).size;
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const probe: FileProbe = {
    layout: 'jsonl',
    bom,
    loguru: false,
    endsWithNewline: true,
    shape: emptyShape(),
    sampled: 0,
    votes: noVotes(),
  };
  probe.notText = notText(bom ? head.subarray(3) : head);
  if (probe.notText) return probe;
  if (file.container === 'csv') {
    probe.layout = 'csv';
    return probe;
  }
  if (!file.gzip && size > 0) probe.endsWithNewline = readAt(file.path, size - 1, 1)[0] === 0x0a;
  const complete = file.gzip ? head.length < HEAD_BYTES : size <= HEAD_BYTES;
  const body = bom ? head.subarray(3) : head;
  if (body.length === 0) return probe;
  if (!looksLikeJsonLines(body)) {
    let i = 0;
    while (i < body.length && (body[i] === 32 || body[i] === 9 || body[i] === 10 || body[i] === 13)) i++;
    probe.layout = body[i] === 0x5b ? 'array' : 'values';
    for (const record of await valueRecords(body, RECORDS_PER_PLACE)) addEvent(probe, record);
    return probe;
  }
  let loguru = 0;
  const sample = (buffer: Buffer, skipFirst: boolean, keepLast: boolean): void => {
    for (const record of lineRecords(buffer, skipFirst, keepLast, RECORDS_PER_PLACE))
      if (addEvent(probe, record)) loguru++;
  };
  sample(body, false, complete);
  if (!file.gzip && !complete) {
    if (size > WINDOW_MIN_FILE)
      for (let w = 1; w <= WINDOWS; w++) {
        const at = Math.floor((size * w) / (WINDOWS + 1));
        sample(readAt(file.path, at, WINDOW_BYTES), true, false);
      }
    const tailStart = Math.max(HEAD_BYTES, size - TAIL_BYTES);
    sample(readAt(file.path, tailStart, size - tailStart), true, true);
  }
  probe.loguru = loguru > probe.sampled / 2;
  return probe;
}

/** Bytes of a file's start that decide whether it is text. */
const TEXT_CHECK_BYTES = 1024;

/**
 * Why `head` (a file's first bytes, after a byte order mark) is not the start of a text log: a NUL
 * byte or invalid UTF-8 in its first KiB (a character cut at the end of that KiB does not count);
 * undefined when it is text.
 */
export function notText(head: Uint8Array): string | undefined {
  const start = head.subarray(0, TEXT_CHECK_BYTES);
  if (start.includes(0)) return 'NUL bytes in its first KiB';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(start, { stream: true });
  } catch {
    return 'invalid UTF-8 in its first KiB';
  }
  return undefined;
}

/**
 * Bytes per record at the start of a plain JSON lines file (its first MiB's lines; the whole MiB when
 * no line ends in it), or undefined for other layouts.
 */
export function headRecordBytes(file: Pick<LogFile, 'path' | 'gzip' | 'container'>): number | undefined {
  if (file.gzip || file.container === 'csv') return undefined;
  const head = readAt(file.path, 0, HEAD_BYTES);
  if (!looksLikeJsonLines(head)) return undefined;
  let lines = 0;
  let last = -1;
  for (let i = head.indexOf(0x0a); i >= 0; i = head.indexOf(0x0a, i + 1)) {
    lines++;
    last = i;
  }
  return lines > 0 ? (last + 1) / lines : head.length;
}

/** Adds a sampled record's event to the probe; true when it was a loguru line. */
function addEvent(probe: FileProbe, record: unknown): boolean {
  if (!isPlainObject(record)) return false;
  const extra = unwrapLoguru(record);
  const event = extra ?? record;
  probe.sampled++;
  probe.votes[profileOfEvent(event)]++;
  addValue(probe.shape, event);
  return extra !== undefined;
}

/** Complete lines of a buffer parsed as records (lines that do not parse are left to the read). */
function* lineRecords(
  buffer: Buffer,
  skipFirst: boolean,
  keepLast: boolean,
  max: number,
): Generator<unknown> {
  let start = 0;
  if (skipFirst) {
    const first = buffer.indexOf(10);
    if (first < 0) return;
    start = first + 1;
  }
  let taken = 0;
  while (start < buffer.length && taken < max) {
    let end = buffer.indexOf(10, start);
    if (end < 0) {
      if (!keepLast) return;
      end = buffer.length;
    }
    const text = buffer.toString('utf8', start, end).trim();
    start = end + 1;
    if (!text) continue;
    try {
      yield parseJsonRecord(text);
      taken++;
    } catch {
      // A bad line is the read's to report, with its place.
    }
  }
}

/** Records at the start of a JSON array or of pretty-printed objects (a cut last one is left out). */
async function valueRecords(buffer: Buffer, max: number): Promise<unknown[]> {
  const records: unknown[] = [];
  const chunks = (async function* () {
    yield buffer;
  })();
  for await (const batch of readJsonValues(chunks, () => undefined)) {
    for (const record of batch) {
      if (records.length >= max) return records;
      records.push(record.value);
    }
  }
  return records;
}

function readAt(path: string, position: number, length: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    return buffer.subarray(0, fs.readSync(fd, buffer, 0, length, position));
  } finally {
    fs.closeSync(fd);
  }
}

/** The first `max` decompressed bytes of a gzip file (fewer when it is shorter or corrupt). */
async function gunzipHead(path: string, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  const source = fs.createReadStream(path, { highWaterMark: 256 << 10 });
  const gunzip = zlib.createGunzip();
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      parts.push(chunk);
      total += chunk.length;
      if (total >= max) break;
    }
  } catch {
    // Corrupt or cut gzip data: the read reports it; the probe keeps what it got.
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  return Buffer.concat(parts).subarray(0, max);
}
