/**
 * Rows buffered column-wise for a DuckDB table, and their encoding into chunks of typed arrays.
 * No DuckDB here: the ingest's worker thread fills these and posts the chunks; `TableWriter`
 * (this thread's DuckDB side) appends them.
 */

export type ColumnType = 'DOUBLE' | 'VARCHAR' | 'INTEGER';

/** Rows per appended data chunk (DuckDB's vector size). */
export const BATCH_ROWS = 2048;

export interface Column {
  name: string;
  type: ColumnType;
  values: (number | string | null)[];
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

  /** The value stored for a column in the current row (undefined: none). */
  valueAt(name: string): number | string | null | undefined {
    return this.columns.get(name)?.values[this.current];
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
    if (value !== null) {
      if (column.type === 'VARCHAR') {
        if (typeof value === 'number') value = String(value);
      } else if (typeof value === 'string') {
        const number = value.trim() === '' ? NaN : Number(value);
        if (Number.isNaN(number)) {
          if (value !== '') this.conflicts.set(column.name, (this.conflicts.get(column.name) ?? 0) + 1);
          return;
        }
        value = column.type === 'INTEGER' ? Math.round(number) : number;
      } else if (column.type === 'INTEGER' && !Number.isInteger(value)) value = Math.round(value);
    }
    column.values[row] = value;
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
    for (const column of this.order) column.values = new Array(BATCH_ROWS);
    this.rowsWritten += total;
    this.rows = 0;
    return chunks;
  }

  /** Drops the buffered rows (after a fatal error). */
  discard(): void {
    this.rows = 0;
  }

  protected addColumn(name: string, type: ColumnType): Column {
    const column: Column = { name, type, values: new Array(BATCH_ROWS), pending: true };
    this.columns.set(name, column);
    this.order.push(column);
    return column;
  }
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
  const values = column.values;
  if (column.type === 'VARCHAR') {
    return dictionaries
      ? encodeStrings(values, start, n)
      : { strings: values.slice(start, start + n) as (string | null)[] };
  }
  const width = column.type === 'DOUBLE' ? 8 : 4;
  const data = new ArrayBuffer(n * width);
  const items = width === 8 ? new Float64Array(data) : new Int32Array(data);
  let mask: Uint8Array<ArrayBuffer> | undefined;
  for (let k = 0; k < n; k++) {
    const value = values[start + k];
    if (typeof value === 'number') items[k] = value;
    else markNull((mask ??= allValid(n)), k);
  }
  return { data, validity: mask?.buffer };
}

/** Distinct values a chunk's text column may have to be sent as a dictionary (see EncodedColumn). */
const MAX_DICTIONARY = 64;

/**
 * `n` values of a VARCHAR column from `start`, which holds strings or null (numbers were
 * converted when stored): as a dictionary while at most MAX_DICTIONARY distinct values occur.
 */
function encodeStrings(values: readonly (number | string | null)[], start: number, n: number): EncodedColumn {
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
      if (dictionary.length === MAX_DICTIONARY)
        return { strings: values.slice(start, start + n) as (string | null)[] };
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
