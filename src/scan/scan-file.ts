import { openByteStream, stripBom } from '../formats/byte-source.js';
import type { LogFile } from '../formats/log-file.js';
import { snippet, type ReadProblem } from '../formats/problems.js';
import { looksLikeJsonLines } from '../formats/read-records.js';
import { scanJsonValues } from '../formats/read-json-values.js';
import type { ReportProblem } from '../formats/record.js';
import { ExtractError, extractFramedRecord, extractRecord, valueExtent } from './extract.js';
import type { TrieNode } from './path-trie.js';

/** Called for each good record with its extracted values (valid only during the call). */
export type ScannedRecordHandler = (values: Float64Array, seen: Uint8Array, line: number) => void;

export class UnsupportedLayout extends Error {
  override name = 'UnsupportedLayout';
}

/**
 * Reads one file and extracts the trie's numeric paths from every record, without building
 * objects: JSON lines or JSON arrays/values, plain or gzip. Bad records are reported with their
 * line, like the full readers do; CSV is not handled here (the caller falls back to the full path).
 */
export async function scanFile(
  file: Pick<LogFile, 'path' | 'gzip' | 'container'>,
  trie: TrieNode,
  slots: number,
  report: ReportProblem,
  onRecord: ScannedRecordHandler,
): Promise<void> {
  if (file.container === 'csv') throw new UnsupportedLayout('CSV is read by the full reader');
  const values = new Float64Array(slots);
  const seen = new Uint8Array(slots);
  /** Where problems go; the indent=2 path defers them (a negative line encodes a byte offset). */
  let deliver: ReportProblem = report;
  const deferred: Omit<ReadProblem, 'file'>[] = [];
  const extract = (buffer: Uint8Array, start: number, end: number, line: number, last: boolean): void => {
    try {
      extractRecord(buffer, start, end, trie, values, seen);
    } catch (error) {
      if (!(error instanceof ExtractError)) throw error;
      if (last) {
        deliver({
          line,
          kind: 'truncated',
          message: `last line is incomplete (${end - start} bytes, no newline): the writer crashed or is still writing; skipped`,
        });
      } else {
        deliver({
          line,
          kind: 'corrupt',
          message: `not valid JSON (${error.message}): ${snippet(Buffer.from(buffer.subarray(start, Math.min(end, start + 80))).toString('utf8'))}`,
        });
      }
      return;
    }
    onRecord(values, seen, line);
  };
  /** Extracts a record that is expected to be well formed; false (nothing reported) when it is not. */
  const tryExtract = (buffer: Uint8Array, start: number, end: number, line: number): boolean => {
    try {
      extractRecord(buffer, start, end, trie, values, seen);
    } catch (error) {
      if (error instanceof ExtractError) return false;
      throw error;
    }
    onRecord(values, seen, line);
    return true;
  };
  /** Walks a well-formed indent=2 record to its end; -1 (nothing reported) when it cannot. */
  const walkFramed = (buffer: Uint8Array, start: number): number => {
    const end = extractFramedRecord(buffer, start, buffer.length, trie, values, seen);
    if (end >= 0) onRecord(values, seen, 0);
    return end;
  };
  const iterator = openByteStream(file)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const rest: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    },
  };
  if (looksLikeJsonLines(first.value)) await scanJsonLines(rest, extract);
  else if (startsIndent2Array(first.value)) {
    // Line numbers are only needed for bad records: record byte offsets while scanning and turn
    // them into lines afterwards, re-reading the file only when something was wrong.
    deliver = (problem) => {
      deferred.push(problem);
    };
    await scanIndent2Array(rest, extract, deliver, tryExtract, walkFramed);
    if (deferred.length) await reportWithLines(file, deferred, report);
  } else
    await scanJsonValues(rest, report, (buffer, start, end, line) => {
      extract(buffer, start, end, line, false);
    });
}

async function scanJsonLines(
  chunks: AsyncIterable<Buffer>,
  extract: (buffer: Uint8Array, start: number, end: number, line: number, last: boolean) => void,
): Promise<void> {
  let carry: Buffer | undefined;
  let line = 0;
  let first = true;
  for await (const chunk of chunks) {
    let buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    if (first) {
      buffer = stripBom(buffer);
      first = false;
    }
    let start = 0;
    let newline: number;
    while ((newline = buffer.indexOf(10, start)) !== -1) {
      line++;
      let end = newline;
      if (end > start && buffer[end - 1] === 13) end--;
      if (!isBlank(buffer, start, end)) extract(buffer, start, end, line, false);
      start = newline + 1;
    }
    carry = start < buffer.length ? buffer.subarray(start) : undefined;
  }
  if (carry && !isBlank(carry, 0, carry.length)) extract(carry, 0, carry.length, line + 1, true);
}

function isBlank(buffer: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buffer[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

const INDENT2_OPEN = Buffer.from('[\n  {\n    "');
const INDENT2_CLOSE = Buffer.from('\n  }');
/** How much of the next chunk is joined with a record cut by the chunk boundary. */
const JOIN_BYTES = 1 << 16;

/** Python's `json.dump(records, f, indent=2)`: "[\n  {\n    ...\n  },\n  {...". */
function startsIndent2Array(head: Buffer): boolean {
  const body = stripBom(head);
  return body.subarray(0, INDENT2_OPEN.length).equals(INDENT2_OPEN);
}

/**
 * Frames an indent=2 array by its record-closing lines ("\n  }"). A raw newline cannot occur
 * inside a JSON string, so in this layout that sequence only closes a record. The walk of a
 * record finds its end itself when it can prove the framing (`extractFramedRecord`); otherwise
 * the record is framed by a native search and walked in full, so a file that breaks the layout
 * is reported record by record, never misread.
 */
async function scanIndent2Array(
  chunks: AsyncIterable<Buffer>,
  extract: (buffer: Uint8Array, start: number, end: number, line: number, last: boolean) => void,
  report: ReportProblem,
  tryExtract: (buffer: Uint8Array, start: number, end: number, line: number) => boolean,
  walkFramed: (buffer: Uint8Array, start: number) => number,
): Promise<void> {
  let carry: Buffer | undefined;
  /** Byte offset in the file of the buffer's first byte. */
  let base = 0;
  let first = true;
  let closed = false;
  const at = (pos: number): number => -(base + pos) - 1;
  /** Set by `scan` when it stopped at the closing "]" (the rest of its buffer is ignored). */
  let sawClose = false;
  /**
   * Reads the records of `buffer` from `pos` until its bytes run out (or a record starting at or
   * after `stopAt` is next); returns where it stopped.
   */
  const scan = (buffer: Buffer, pos: number, stopAt: number): number => {
    sawClose = false;
    while (pos < stopAt) {
      // Between records: whitespace, commas, and finally the closing "]".
      let start = pos;
      while (start < buffer.length) {
        const c = buffer[start];
        if (c !== 0x20 && c !== 0x0a && c !== 0x2c && c !== 0x0d && c !== 0x09 && c !== 0x5b) break;
        start++;
      }
      pos = start;
      if (start >= buffer.length) break;
      if (buffer[start] === 0x5d) {
        closed = true;
        sawClose = true;
        return buffer.length;
      }
      const walked = walkFramed(buffer, start);
      if (walked >= 0) {
        pos = walked;
        continue;
      }
      const close = buffer.indexOf(INDENT2_CLOSE, start);
      if (close === -1) break;
      const end = close + INDENT2_CLOSE.length;
      if (!tryExtract(buffer, start, end, 0)) splitRegion(buffer, start, end, at, extract);
      pos = end;
    }
    return pos;
  };
  for await (const next of chunks) {
    let chunk = next;
    if (first) {
      const stripped = stripBom(chunk);
      base += chunk.length - stripped.length;
      chunk = stripped;
      first = false;
    }
    let buffer = chunk;
    let pos = 0;
    if (carry && chunk.length > JOIN_BYTES) {
      // The records that straddle the chunks: read them from the carry joined with the start of
      // the chunk only, then go on in the chunk itself, rather than copying all of it.
      const joined = Buffer.concat([carry, chunk.subarray(0, JOIN_BYTES)]);
      const stop = scan(joined, 0, carry.length);
      if (sawClose) {
        base += carry.length + chunk.length;
        carry = undefined;
        continue;
      }
      if (stop >= carry.length) {
        base += carry.length;
        pos = stop - carry.length;
      } else {
        // A record longer than the joined bytes: join it with the whole chunk.
        base += stop;
        buffer = Buffer.concat([carry.subarray(stop), chunk]);
      }
    } else if (carry) buffer = Buffer.concat([carry, chunk]);
    pos = scan(buffer, pos, Infinity);
    base += pos;
    carry = pos < buffer.length ? buffer.subarray(pos) : undefined;
  }
  if (carry && !isBlank(carry, 0, carry.length)) {
    const skip = carry.findIndex((c) => c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x2c);
    report({
      line: at(Math.max(0, skip)),
      kind: 'truncated',
      message: `file ends inside a record (${carry.length} bytes): the writer crashed or is still writing; skipped`,
    });
  } else if (!closed) {
    report({
      line: at(carry?.length ?? 0),
      kind: 'truncated',
      message: 'file ends before the closing "]" of its array; the records before it were read',
    });
  }
}

/**
 * Problems found with byte offsets (line = −offset − 1) reported with their line numbers: the file
 * is read again up to the last offset, counting newlines.
 */
async function reportWithLines(
  file: Pick<LogFile, 'path' | 'gzip'>,
  problems: Omit<ReadProblem, 'file'>[],
  report: ReportProblem,
): Promise<void> {
  const offsets = problems.map((p) => (p.line < 0 ? -p.line - 1 : -1));
  const order = offsets.map((_, i) => i).sort((a, b) => offsets[a] - offsets[b]);
  const lines = new Array<number>(problems.length);
  let next = 0;
  for (; next < order.length && offsets[order[next]] < 0; next++)
    lines[order[next]] = problems[order[next]].line;
  let base = 0;
  let line = 1;
  for await (const chunk of openByteStream(file)) {
    let pos = 0;
    while (next < order.length) {
      const target = offsets[order[next]] - base;
      if (target >= chunk.length) break;
      for (; pos < target; pos++) if (chunk[pos] === 0x0a) line++;
      lines[order[next++]] = line;
    }
    if (next >= order.length) break;
    for (; pos < chunk.length; pos++) if (chunk[pos] === 0x0a) line++;
    base += chunk.length;
  }
  while (next < order.length) lines[order[next++]] = line;
  problems.forEach((problem, i) => report({ ...problem, line: lines[i] }));
}

/**
 * A framed region that is not one record (the file left the indent=2 layout, or a record is
 * corrupt): split it into top-level values by structure and read each, so no good record is lost.
 */
function splitRegion(
  buffer: Uint8Array,
  start: number,
  end: number,
  lineAt: (pos: number) => number,
  extract: (buffer: Uint8Array, start: number, end: number, line: number, last: boolean) => void,
): void {
  let pos = start;
  while (pos < end) {
    while (pos < end) {
      const c = buffer[pos];
      if (c !== 0x20 && c !== 0x0a && c !== 0x2c && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    if (pos >= end) return;
    let valueEnd: number;
    try {
      valueEnd = valueExtent(buffer, pos, end);
    } catch {
      extract(buffer, pos, end, lineAt(pos), false); // reports it as corrupt
      return;
    }
    extract(buffer, pos, valueEnd, lineAt(pos), false);
    pos = valueEnd;
  }
}
