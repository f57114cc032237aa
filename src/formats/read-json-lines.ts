import { stripBom } from './byte-source.js';
import { parseJsonRecord } from './json-record.js';
import { snippet } from './problems.js';
import { isPlainObject, type RecordBatches, type ReportProblem, type SourceRecord } from './record.js';

export const MAX_LINE_BYTES = 256 << 20;

/**
 * JSON lines: one object per line. CRLF and a BOM are accepted, blank lines skipped; a line that
 * does not parse is reported as corrupt (file:line) and skipped; a last line without its newline
 * that does not parse is reported as truncated (a writer crashed or is still writing).
 */
export interface LinePosition {
  /** Bytes consumed: up to and including the last complete line's newline. */
  offset: number;
  /** Lines consumed. */
  line: number;
}

export interface JsonLinesOptions {
  /** Where the stream starts in the file (bytes and lines already consumed); updated as lines are read. */
  position?: LinePosition;
  /** Live reading: an unterminated last line is held back (not read, not reported) until it is complete. */
  holdPartial?: boolean;
}

export async function* readJsonLines(
  chunks: AsyncIterable<Buffer>,
  report: ReportProblem,
  options: JsonLinesOptions = {},
): RecordBatches {
  const position = options.position ?? { offset: 0, line: 0 };
  let carry: Buffer | undefined;
  let lineNumber = position.line;
  let first = position.offset === 0;
  let skippingLongLine = false;
  for await (const chunk of chunks) {
    let buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    if (first) {
      const stripped = stripBom(buffer);
      position.offset += buffer.length - stripped.length;
      buffer = stripped;
      first = false;
    }
    const batch: SourceRecord[] = [];
    let start = 0;
    let newline: number;
    while ((newline = buffer.indexOf(10, start)) !== -1) {
      lineNumber++;
      if (skippingLongLine) skippingLongLine = false;
      else parseLine(buffer, start, newline, lineNumber, false, batch, report);
      position.offset += newline + 1 - start;
      position.line = lineNumber;
      start = newline + 1;
    }
    carry = start < buffer.length ? buffer.subarray(start) : undefined;
    if (carry && carry.length > MAX_LINE_BYTES && !skippingLongLine) {
      report({
        line: lineNumber + 1,
        kind: 'too-long',
        message: `line is longer than ${MAX_LINE_BYTES >> 20} MB; skipped (is this really a JSON lines file?)`,
      });
      skippingLongLine = true;
    }
    if (skippingLongLine) carry = undefined;
    if (batch.length) yield batch;
  }
  if (carry && !skippingLongLine && !options.holdPartial) {
    const batch: SourceRecord[] = [];
    parseLine(carry, 0, carry.length, lineNumber + 1, true, batch, report);
    if (batch.length) yield batch;
  }
}

function parseLine(
  buffer: Buffer,
  start: number,
  end: number,
  line: number,
  isUnterminatedLast: boolean,
  batch: SourceRecord[],
  report: ReportProblem,
): void {
  if (end > start && buffer[end - 1] === 13) end--;
  while (start < end && isSpace(buffer[start])) start++;
  if (start === end) return;
  const text = buffer.toString('utf8', start, end);
  let value: unknown;
  try {
    value = parseJsonRecord(text);
  } catch (error) {
    if (isUnterminatedLast) {
      report({
        line,
        kind: 'truncated',
        message: `last line is incomplete (${end - start} bytes, no newline): the writer crashed or is still writing; skipped`,
      });
    } else {
      report({ line, kind: 'corrupt', message: `not valid JSON (${reason(error)}): ${snippet(text)}` });
    }
    return;
  }
  if (!isPlainObject(value)) {
    report({ line, kind: 'not-an-object', message: `expected a JSON object, found ${describe(value)}` });
    return;
  }
  batch.push({ value, line });
}

function isSpace(byte: number): boolean {
  return byte === 32 || byte === 9 || byte === 13 || byte === 10;
}

export function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const short = message.replace(/\s+/g, ' ').replace(/, ".*" is not valid JSON$/, '');
  return short.length > 80 ? `${short.slice(0, 80)}…` : short;
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
