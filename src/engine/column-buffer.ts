/**
 * Rows buffered column-wise for a DuckDB table, and their encoding into chunks of typed arrays.
 * No DuckDB here: the ingest's worker thread fills these and posts the chunks; `TableWriter`
 * (this thread's DuckDB side) appends them.
 */

export type ColumnType = 'DOUBLE' | 'VARCHAR' | 'INTEGER';

/** Rows per appended data chunk (DuckDB's vector size). */
export const BATCH_ROWS = 2048;

/**
 * A buffered column. Numbers live in a typed array with a presence byte per row (a generic array
 * boxed every double: a FileTAO ingest stores ~100 M values a GB); text in an array.
 */
export interface Column {
  name: string;
  type: ColumnType;
  /** DOUBLE: Float64Array, INTEGER: Int32Array, VARCHAR: unused (empty). Grown as rows are added. */
  numbers: Float64Array | Int32Array;
  /** Numeric columns: 1 where the row has a value (0: null). */
  present: Uint8Array;
  /** VARCHAR columns: the values (holes and null: null). */
  texts: (string | null | undefined)[];
  /** Not yet in the DuckDB table. */
  pending: boolean;
}

export interface ColumnSpec {
  name: string;
  type: ColumnType;
}

/**
 * One column of an encoded chunk: numbers as the bytes of a Float64Array (DOUBLE) or Int32Array
 * (INTEGER) with DuckDB's validity mask when some are null; text as an array (holes are nulls),
 * or, when a chunk's values repeat (task names, status messages), as the distinct values and an
 * Int32Array of indices into them (-1: null), which crosses threads without copying every string.
 */
export type EncodedColumn =
  | { data: ArrayBuffer; validity: ArrayBuffer | undefined }
  | { strings: (string | null | undefined)[] }
  | { codes: ArrayBuffer; dictionary: string[] };

/** Up to BATCH_ROWS rows of every column, in the table's column order. */
export interface EncodedChunk {
  rows: number;
  columns: EncodedColumn[];
}

/**
 * A table's rows, buffered column-wise, whose columns appear as the data reveals them (new
 * metrics in a later file, sparse wandb rows). A column's type is fixed by its first non-empty
 * value; later values of another type are converted (numbers to text) or stored as NULL (text
 * that is not a number in a numeric column) and counted in `conflicts`.
 */
export class ColumnBuffer {
  protected readonly columns = new Map<string, Column>();
  protected readonly order: Column[] = [];
  protected rows = 0;
  private current = 0;
  /** Values that did not fit their column's type, by column. */
  readonly conflicts = new Map<string, number>();
  /** Rows handed on (appended, or posted to be appended). */
  rowsWritten = 0;

  constructor(
    readonly table: string,
    fixed: readonly ColumnSpec[],
  ) {
    for (const column of fixed) this.addColumn(column.name, column.type);
  }

  has(name: string): boolean {
    return this.columns.has(name);
  }

  typeOf(name: string): ColumnType | undefined {
    return this.columns.get(name)?.type;
  }

  /** Rows buffered since the last flush; flush once this passes `BATCH_ROWS`. */
  get buffered(): number {
    return this.rows;
  }

  /** Starts a new row and returns its index in the buffer. */
  beginRow(): number {
    this.current = this.rows++;
    return this.current;
  }

  /** The value stored for a column in the current row (undefined: no such column; null: none). */
  valueAt(name: string): number | string | null | undefined {
    const column = this.columns.get(name);
    if (column === undefined) return undefined;
    return valueOf(column, this.current);
  }

  set(name: string, value: number | string | null, typeHint?: ColumnType): void {
    this.setAt(this.current, name, value, typeHint);
  }

  setAt(row: number, name: string, value: number | string | null, typeHint?: ColumnType): void {
    let column = this.columns.get(name);
    if (column === undefined) {
      if (value === null) return;
      column = this.addColumn(name, typeHint ?? (typeof value === 'number' ? 'DOUBLE' : 'VARCHAR'));
    }
    this.store(column, row, value);
  }

  /** The column for a name, created with the given type when new (for writing many values). */
  column(name: string, type: ColumnType): Column {
    return this.columns.get(name) ?? this.addColumn(name, type);
  }

  /** Stores a value, converting it to the column's type (see the class comment). */
  store(column: Column, row: number, value: number | string | null): void {
    if (column.type === 'VARCHAR') {
      column.texts[row] = typeof value === 'number' ? String(value) : value;
      return;
    }
    if (value === null) {
      if (row < column.present.length) column.present[row] = 0;
      return;
    }
    if (typeof value === 'string') {
      const number = value.trim() === '' ? NaN : Number(value);
      if (Number.isNaN(number)) {
        if (value !== '') this.conflicts.set(column.name, (this.conflicts.get(column.name) ?? 0) + 1);
        return;
      }
      value = number;
    }
    if (row >= column.present.length) grow(column, row + 1);
    column.numbers[row] = column.type === 'INTEGER' && !Number.isInteger(value) ? Math.round(value) : value;
    column.present[row] = 1;
  }

  /**
   * Stores one number (or null) in rows [from, to) of a numeric column (an event's x or line,
   * copied into each of its per-uid rows).
   */
  fillNumber(column: Column, from: number, to: number, value: number | null): void {
    if (column.type === 'VARCHAR') throw new Error(`${column.name} is text`);
    if (to > column.present.length) grow(column, to);
    if (value === null) column.present.fill(0, from, to);
    else {
      column.numbers.fill(column.type === 'INTEGER' ? Math.round(value) : value, from, to);
      column.present.fill(1, from, to);
    }
  }

  /** Stores one text (or null) in rows [from, to) of a VARCHAR column. */
  fillText(column: Column, from: number, to: number, value: string | null): void {
    if (column.type !== 'VARCHAR') throw new Error(`${column.name} is not text`);
    const texts = column.texts;
    for (let row = from; row < to; row++) texts[row] = value;
  }

  /** The columns, in table order. */
  columnSpecs(): ColumnSpec[] {
    return this.order.map((c) => ({ name: c.name, type: c.type }));
  }

  /**
   * Encodes the buffered rows as chunks of at most BATCH_ROWS and empties the buffer (counting
   * them in `rowsWritten`). `dictionaries`: text that repeats as a dictionary (for chunks that
   * cross threads; appended on this thread, it would only cost the lookups).
   */
  takeChunks(dictionaries = false): EncodedChunk[] {
    const total = this.rows;
    const chunks: EncodedChunk[] = [];
    for (let start = 0; start < total; start += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, total - start);
      chunks.push({
        rows: n,
        columns: this.order.map((column) => encodeColumn(column, start, n, dictionaries)),
      });
    }
    for (const column of this.order) clear(column, total);
    this.rowsWritten += total;
    this.rows = 0;
    return chunks;
  }

  /** Drops the buffered rows (after a fatal error). */
  discard(): void {
    this.rows = 0;
  }

  protected addColumn(name: string, type: ColumnType): Column {
    const column: Column = {
      name,
      type,
      numbers: EMPTY_NUMBERS,
      present: EMPTY_PRESENT,
      texts: type === 'VARCHAR' ? new Array<string | null>(BATCH_ROWS) : [],
      pending: true,
    };
    if (type !== 'VARCHAR') grow(column, Math.max(BATCH_ROWS, this.rows));
    this.columns.set(name, column);
    this.order.push(column);
    return column;
  }
}

const EMPTY_NUMBERS = new Float64Array(0);
const EMPTY_PRESENT = new Uint8Array(0);

/** A column's value at a buffered row (null: none). */
function valueOf(column: Column, row: number): number | string | null {
  if (column.type === 'VARCHAR') return column.texts[row] ?? null;
  return row < column.present.length && column.present[row] === 1 ? column.numbers[row] : null;
}

/** Makes a numeric column's arrays hold at least `rows` rows (doubling), keeping what they hold. */
function grow(column: Column, rows: number): void {
  let capacity = Math.max(BATCH_ROWS, column.present.length);
  while (capacity < rows) capacity *= 2;
  if (capacity === column.present.length) return;
  const numbers = column.type === 'INTEGER' ? new Int32Array(capacity) : new Float64Array(capacity);
  numbers.set(column.numbers);
  const present = new Uint8Array(capacity);
  present.set(column.present);
  column.numbers = numbers;
  column.present = present;
}

/** Empties a column's first `rows` rows after they were encoded. */
function clear(column: Column, rows: number): void {
  if (column.type === 'VARCHAR') column.texts = new Array<string | null>(BATCH_ROWS);
  else column.present.fill(0, 0, Math.min(rows, column.present.length));
}

/** The ArrayBuffers of encoded chunks, to transfer them to another thread rather than copy them. */
export function chunkBuffers(chunks: readonly EncodedChunk[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const chunk of chunks) {
    for (const column of chunk.columns) {
      if ('data' in column) {
        buffers.push(column.data);
        if (column.validity) buffers.push(column.validity);
      } else if ('codes' in column) buffers.push(column.codes);
    }
  }
  return buffers;
}

/**
 * `n` values of a column from `start`. Numbers go into one typed array and one validity mask
 * (node-api's `setColumnValues` sets each value through the vector's validity, with BigInt
 * operations per value once a chunk holds a null: 11 % of a FileTAO ingest's time, most of it on
 * sparse columns). The column holds numbers of its type, strings (numbers were converted when
 * stored) or null.
 */
function encodeColumn(column: Column, start: number, n: number, dictionaries: boolean): EncodedColumn {
  if (column.type === 'VARCHAR') {
    return dictionaries
      ? encodeStrings(column.texts, start, n)
      : { strings: column.texts.slice(start, start + n) };
  }
  const width = column.type === 'DOUBLE' ? 8 : 4;
  const data = new ArrayBuffer(n * width);
  const items = width === 8 ? new Float64Array(data) : new Int32Array(data);
  const available = Math.max(0, Math.min(n, column.present.length - start));
  if (available > 0) items.set(column.numbers.subarray(start, start + available));
  const present = column.present;
  let mask: Uint8Array<ArrayBuffer> | undefined;
  for (let k = 0; k < n; k++) {
    if (k >= available || present[start + k] !== 1) {
      markNull((mask ??= allValid(n)), k);
      items[k] = 0;
    }
  }
  return { data, validity: mask?.buffer };
}

/** Distinct values a chunk's text column may have to be sent as a dictionary (see EncodedColumn). */
const MAX_DICTIONARY = 64;

/**
 * `n` values of a VARCHAR column from `start`, which holds strings or null (numbers were
 * converted when stored): as a dictionary while at most MAX_DICTIONARY distinct values occur.
 */
function encodeStrings(
  values: readonly (string | null | undefined)[],
  start: number,
  n: number,
): EncodedColumn {
  const codes = new Int32Array(n);
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    const value = values[start + k];
    if (typeof value !== 'string') {
      codes[k] = -1;
      continue;
    }
    let code = index.get(value);
    if (code === undefined) {
      if (dictionary.length === MAX_DICTIONARY) return { strings: values.slice(start, start + n) };
      code = dictionary.push(value) - 1;
      index.set(value, code);
    }
    codes[k] = code;
  }
  return { codes: codes.buffer, dictionary };
}

/** DuckDB's validity for n rows, all valid: one bit per row, set = valid, in 64-bit little-endian words. */
export function allValid(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new ArrayBuffer(Math.ceil(n / 64) * 8)).fill(0xff);
}

/** Marks one row null in a validity mask. */
export function markNull(mask: Uint8Array, row: number): void {
  mask[row >> 3] &= ~(1 << (row & 7));
}
