import { openByteStream, stripBom } from '../formats/byte-source.js';
import type { LogFile } from '../formats/log-file.js';
import { snippet } from '../formats/problems.js';
import { looksLikeJsonLines } from '../formats/read-records.js';
import { scanJsonValues } from '../formats/read-json-values.js';
import type { ReportProblem } from '../formats/record.js';
import { ExtractError, extractRecord, skipValue } from './extract.js';
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
  const extract = (buffer: Uint8Array, start: number, end: number, line: number, last: boolean): void => {
    try {
      extractRecord(buffer, start, end, trie, values, seen);
    } catch (error) {
      if (!(error instanceof ExtractError)) throw error;
      if (last) {
        report({
          line,
          kind: 'truncated',
          message: `last line is incomplete (${end - start} bytes, no newline): the writer crashed or is still writing; skipped`,
        });
      } else {
        report({
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
  else if (startsIndent2Array(first.value)) await scanIndent2Array(rest, extract, report, tryExtract);
  else
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

/** Python's `json.dump(records, f, indent=2)`: "[\n  {\n    ...\n  },\n  {...". */
function startsIndent2Array(head: Buffer): boolean {
  const body = stripBom(head);
  return body.subarray(0, INDENT2_OPEN.length).equals(INDENT2_OPEN);
}

/**
 * Frames an indent=2 array by searching for its record-closing lines ("\n  }") natively. A raw
 * newline cannot occur inside a JSON string, so in this layout that sequence only closes a
 * record; each record is still walked in full, so a file that breaks the layout is reported
 * record by record, never misread.
 */
async function scanIndent2Array(
  chunks: AsyncIterable<Buffer>,
  extract: (buffer: Uint8Array, start: number, end: number, line: number, last: boolean) => void,
  report: ReportProblem,
  tryExtract: (buffer: Uint8Array, start: number, end: number, line: number) => boolean,
): Promise<void> {
  let carry: Buffer | undefined;
  let line = 1;
  let first = true;
  let closed = false;
  for await (const chunk of chunks) {
    let buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    if (first) {
      buffer = stripBom(buffer);
      first = false;
    }
    let pos = 0;
    for (;;) {
      // Between records: whitespace, commas, and finally the closing "]".
      let start = pos;
      while (start < buffer.length) {
        const c = buffer[start];
        if (c === 0x0a) line++;
        else if (c !== 0x20 && c !== 0x2c && c !== 0x0d && c !== 0x09 && c !== 0x5b) break;
        start++;
      }
      pos = start;
      if (start >= buffer.length) break;
      if (buffer[start] === 0x5d) {
        closed = true;
        pos = buffer.length;
        break;
      }
      const close = buffer.indexOf(INDENT2_CLOSE, start);
      if (close === -1) break;
      const end = close + INDENT2_CLOSE.length;
      if (!tryExtract(buffer, start, end, line)) splitRegion(buffer, start, end, line, extract);
      for (let i = start; i < end; i++) if (buffer[i] === 0x0a) line++;
      pos = end;
    }
    carry = pos < buffer.length ? buffer.subarray(pos) : undefined;
  }
  if (carry && !isBlank(carry, 0, carry.length)) {
    report({
      line,
      kind: 'truncated',
      message: `file ends inside a record (${carry.length} bytes): the writer crashed or is still writing; skipped`,
    });
  } else if (!closed) {
    report({
      line,
      kind: 'truncated',
      message: 'file ends before the closing "]" of its array; the records before it were read',
    });
  }
}

/**
 * A framed region that is not one record (the file left the indent=2 layout, or a record is
 * corrupt): split it into top-level values by structure and read each, so no good record is lost.
 */
function splitRegion(
  buffer: Uint8Array,
  start: number,
  end: number,
  line: number,
  extract: (buffer: Uint8Array, start: number, end: number, line: number, last: boolean) => void,
): void {
  let pos = start;
  while (pos < end) {
    while (pos < end) {
      const c = buffer[pos];
      if (c === 0x0a) line++;
      else if (c !== 0x20 && c !== 0x2c && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    if (pos >= end) return;
    let valueEnd: number;
    try {
      valueEnd = skipValue(buffer, pos, end);
    } catch {
      extract(buffer, pos, end, line, false); // reports it as corrupt
      return;
    }
    extract(buffer, pos, valueEnd, line, false);
    for (let i = pos; i < valueEnd; i++) if (buffer[i] === 0x0a) line++;
    pos = valueEnd;
  }
}
