import { stripBom } from './byte-source.js';
import { parseJsonRecord } from './json-record.js';
import { describe, MAX_LINE_BYTES, reason } from './read-json-lines.js';
import { snippet } from './problems.js';
import { isPlainObject, type RecordBatches, type ReportProblem, type SourceRecord } from './record.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
/** Bytes that change nothing for the scanner inside a record's nested values (all but " { } [ ] and newline). */
const PLAIN = (() => {
  const table = new Uint8Array(256).fill(1);
  for (const c of [QUOTE, NEWLINE, 0x7b, 0x7d, 0x5b, 0x5d]) table[c] = 0;
  return table;
})();

/**
 * JSON documents that are not one-object-per-line: a top-level array of records (any indentation,
 * the RL `stats_*.json` files), or objects spread over several lines, one after another. A
 * structural scanner finds where each record starts and ends without building anything; only the
 * record's own bytes are decoded and parsed, so memory stays at one record plus one chunk.
 */
export async function* readJsonValues(chunks: AsyncIterable<Buffer>, report: ReportProblem): RecordBatches {
  const scanner = new ValueScanner(report);
  let first = true;
  for await (let chunk of chunks) {
    if (first) {
      chunk = stripBom(chunk);
      first = false;
    }
    const batch = scanner.push(chunk);
    if (batch.length) yield batch;
  }
  const batch = scanner.end();
  if (batch.length) yield batch;
}

class ValueScanner {
  private buffer: Buffer = Buffer.alloc(0);
  private pos = 0;
  private depth = 0;
  private inString = false;
  /** Depth at which records live: 1 inside a top-level array, 0 for objects one after another. */
  private recordDepth = -1;
  private recordStart = -1;
  private recordLine = 0;
  private line = 1;
  private arrayClosed = false;
  private trailingReported = false;

  constructor(private readonly report: ReportProblem) {}

  push(chunk: Buffer): SourceRecord[] {
    const keepFrom = this.recordStart >= 0 ? this.recordStart : this.pos;
    const rest = this.buffer.subarray(keepFrom);
    this.buffer = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    this.pos -= keepFrom;
    if (this.recordStart >= 0) this.recordStart -= keepFrom;
    const batch: SourceRecord[] = [];
    this.scan(batch);
    if (this.recordStart >= 0 && this.pos - this.recordStart > MAX_LINE_BYTES) {
      this.report({
        line: this.recordLine,
        kind: 'too-long',
        message: `record is longer than ${MAX_LINE_BYTES >> 20} MB; the rest of the file cannot be read as records`,
      });
      this.recordStart = -1;
      this.pos = this.buffer.length;
      this.arrayClosed = true;
    }
    return batch;
  }

  end(): SourceRecord[] {
    const batch: SourceRecord[] = [];
    if (this.recordStart >= 0) {
      const text = this.buffer.toString('utf8', this.recordStart, this.buffer.length);
      // A scalar record at depth 0 (numbers) ends at end of input; anything else unfinished is cut off.
      if (this.depth === this.recordDepth && !this.inString)
        this.emit(this.recordStart, this.buffer.length, batch);
      else
        this.report({
          line: this.recordLine,
          kind: 'truncated',
          message: `file ends inside a record (${text.length} bytes): the writer crashed or is still writing; skipped`,
        });
    } else if (this.recordDepth === 1 && !this.arrayClosed) {
      this.report({
        line: this.line,
        kind: 'truncated',
        message: 'file ends before the closing "]" of its array; the records before it were read',
      });
    }
    this.buffer = Buffer.alloc(0);
    this.pos = 0;
    this.recordStart = -1;
    return batch;
  }

  private scan(batch: SourceRecord[]): void {
    const buf = this.buffer;
    const n = buf.length;
    let i = this.pos;
    while (i < n) {
      if (this.inString) {
        const quote = buf.indexOf(QUOTE, i);
        if (quote === -1) {
          i = n;
          break;
        }
        let backslashes = 0;
        for (let k = quote - 1; k >= 0 && buf[k] === BACKSLASH; k--) backslashes++;
        i = quote + 1;
        if (backslashes % 2 === 0) {
          this.inString = false;
          if (this.depth === this.recordDepth && this.recordStart >= 0 && this.isScalarRecord()) {
            this.emit(this.recordStart, i, batch);
          }
        }
        continue;
      }
      // Inside a record's nested values, only quotes, brackets and newlines matter.
      if (this.recordStart >= 0 && this.depth > this.recordDepth) {
        while (i < n && PLAIN[buf[i]] === 1) i++;
        if (i === n) break;
      }
      const c = buf[i];
      if (c === NEWLINE) {
        this.line++;
        i++;
        continue;
      }
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      if (this.recordDepth < 0) {
        // First significant byte decides the layout.
        this.recordDepth = c === 0x5b /* [ */ ? 1 : 0;
        if (this.recordDepth === 1) {
          this.depth = 1;
          i++;
          continue;
        }
      }
      if (this.recordStart < 0) {
        if (this.depth === this.recordDepth && this.recordDepth === 1 && c === 0x2c /* , */) {
          i++;
          continue;
        }
        if (this.depth < this.recordDepth || this.arrayClosed) {
          if (this.recordDepth === 1 && c === 0x5b && this.depth === 0) {
            // Another array follows the first one: read it as more records.
            this.depth = 1;
            this.arrayClosed = false;
            i++;
            continue;
          }
          if (!this.trailingReported) {
            this.report({
              line: this.line,
              kind: 'corrupt',
              message: 'unexpected data after the end of the array; ignored',
            });
            this.trailingReported = true;
          }
          i++;
          continue;
        }
        if (this.recordDepth === 1 && c === 0x5d /* ] */) {
          this.depth = 0;
          this.arrayClosed = true;
          i++;
          continue;
        }
        this.recordStart = i;
        this.recordLine = this.line;
      }
      if (c === QUOTE) {
        this.inString = true;
        i++;
        continue;
      }
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        this.depth++;
        i++;
        continue;
      }
      if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (this.depth === this.recordDepth) {
          // Either the enclosing array closes right after a scalar record, or a stray bracket.
          if (this.recordStart === i) i++;
          this.emit(this.recordStart, i, batch);
          continue;
        }
        this.depth--;
        i++;
        if (this.depth === this.recordDepth) this.emit(this.recordStart, i, batch);
        continue;
      }
      if (c === 0x2c /* , */ && this.depth === this.recordDepth) {
        if (this.recordStart === i) i++;
        this.emit(this.recordStart, i, batch);
        continue;
      }
      i++;
    }
    this.pos = i;
  }

  private isScalarRecord(): boolean {
    const first = this.buffer[this.recordStart];
    return first === QUOTE;
  }

  private emit(start: number, end: number, batch: SourceRecord[]): void {
    const line = this.recordLine;
    this.recordStart = -1;
    const text = this.buffer.toString('utf8', start, end);
    let value: unknown;
    try {
      value = parseJsonRecord(text);
    } catch (error) {
      this.report({ line, kind: 'corrupt', message: `not valid JSON (${reason(error)}): ${snippet(text)}` });
      return;
    }
    if (!isPlainObject(value)) {
      this.report({
        line,
        kind: 'not-an-object',
        message: `expected a JSON object, found ${describe(value)}`,
      });
      return;
    }
    batch.push({ value, line });
  }
}
