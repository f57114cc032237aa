import { StringDecoder } from 'node:string_decoder';
import { parseJsonRecord } from './json-record.js';
import type { RecordBatches, ReportProblem, SourceRecord } from './record.js';

/**
 * CSV with a header row (wandb history exports, generic metrics). Quoted fields may hold commas,
 * quotes and newlines; CRLF and a BOM are accepted. Cells become numbers where they are numbers
 * (`NaN`, `inf`, `-inf` included), lists where they hold a JSON list, null when empty, else text.
 */
export async function* readCsv(chunks: AsyncIterable<Buffer>, report: ReportProblem): RecordBatches {
  const decoder = new StringDecoder('utf8');
  const parser = new CsvParser(report);
  let first = true;
  for await (const chunk of chunks) {
    let text = decoder.write(chunk);
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    const batch = parser.push(text, false);
    if (batch.length) yield batch;
  }
  const batch = parser.push(decoder.end(), true);
  if (batch.length) yield batch;
}

class CsvParser {
  private header: string[] | undefined;
  private field = '';
  private fields: string[] = [];
  private quoted = false;
  private inQuotes = false;
  private pendingQuote = false;
  private line = 1;
  private recordLine = 1;

  constructor(private readonly report: ReportProblem) {}

  push(text: string, last: boolean): SourceRecord[] {
    const batch: SourceRecord[] = [];
    const input = text;
    for (let i = 0; i < input.length; i++) {
      const c = input[i];
      if (this.inQuotes) {
        if (this.pendingQuote) {
          this.pendingQuote = false;
          if (c === '"') {
            this.field += '"';
            continue;
          }
          this.inQuotes = false;
        } else if (c === '"') {
          this.pendingQuote = true;
          continue;
        } else {
          if (c === '\n') this.line++;
          this.field += c;
          continue;
        }
      }
      if (c === '"' && this.field === '' && !this.quoted) {
        this.inQuotes = true;
        this.quoted = true;
      } else if (c === ',') {
        this.endField();
      } else if (c === '\n') {
        this.endRow(batch);
        this.line++;
        this.recordLine = this.line;
      } else if (c !== '\r') {
        this.field += c;
      }
    }
    if (last) {
      if (this.inQuotes && !this.pendingQuote) {
        this.report({
          line: this.recordLine,
          kind: 'truncated',
          message: 'file ends inside a quoted field: the writer crashed or is still writing; skipped',
        });
      } else if (this.field !== '' || this.fields.length > 0) {
        this.endRow(batch);
      }
    }
    return batch;
  }

  private endField(): void {
    this.fields.push(this.quoted ? `\u0001${this.field}` : this.field);
    this.field = '';
    this.quoted = false;
  }

  private endRow(batch: SourceRecord[]): void {
    this.endField();
    const fields = this.fields;
    this.fields = [];
    this.inQuotes = false;
    this.pendingQuote = false;
    if (fields.length === 1 && fields[0] === '') return;
    if (!this.header) {
      this.header = fields.map((f) => (f.startsWith('\u0001') ? f.slice(1) : f).trim());
      return;
    }
    if (fields.length !== this.header.length) {
      this.report({
        line: this.recordLine,
        kind: 'corrupt',
        message: `expected ${this.header.length} fields (as in the header), found ${fields.length}; skipped`,
      });
      return;
    }
    const value: Record<string, unknown> = {};
    for (let k = 0; k < fields.length; k++) {
      const cell = cellValue(fields[k]);
      if (cell !== null) value[this.header[k]] = cell;
    }
    batch.push({ value, line: this.recordLine });
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function cellValue(raw: string): unknown {
  if (raw.startsWith('\u0001')) {
    const text = raw.slice(1);
    return text.startsWith('[') || text.startsWith('{') ? (tryJson(text) ?? text) : text;
  }
  const text = raw.trim();
  if (text === '') return null;
  if (NUMBER.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === 'infinity' || lower === '+inf') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (text.startsWith('[')) return tryJson(text) ?? text;
  return text;
}

function tryJson(text: string): unknown {
  try {
    return parseJsonRecord(text);
  } catch {
    return undefined;
  }
}
