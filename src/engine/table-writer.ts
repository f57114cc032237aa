import bindings from '@duckdb/node-bindings';
import {
  DOUBLE,
  DuckDBDataChunk,
  INTEGER,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBType,
} from '@duckdb/node-api';
import { quoteIdentifier, type Session } from './session.js';

export type ColumnType = 'DOUBLE' | 'VARCHAR' | 'INTEGER';

const DUCK_TYPES: Record<ColumnType, DuckDBType> = { DOUBLE, VARCHAR, INTEGER };
export const BATCH_ROWS = 2048;

export interface Column {
  name: string;
  type: ColumnType;
  values: (number | string | null)[];
  /** Not yet in the DuckDB table. */
  pending: boolean;
}

/**
 * Appends rows to a DuckDB table whose columns appear as the data reveals them (new metrics in a
 * later file, sparse wandb rows). Rows are buffered column-wise and appended as data chunks.
 * A column's type is fixed by its first non-empty value; later values of another type are
 * converted (numbers to text) or stored as NULL (text that is not a number in a numeric column).
 */
export class TableWriter {
  private readonly columns = new Map<string, Column>();
  private readonly order: Column[] = [];
  private appender: DuckDBAppender | undefined;
  private rows = 0;
  private current = 0;
  /** Values that did not fit their column's type, by column. */
  readonly conflicts = new Map<string, number>();
  rowsWritten = 0;

  constructor(
    private readonly session: Session,
    readonly table: string,
    fixed: { name: string; type: ColumnType }[],
  ) {
    for (const column of fixed) this.addColumn(column.name, column.type);
  }

  async create(): Promise<void> {
    const definitions = this.order.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ');
    await this.session.run(`CREATE OR REPLACE TABLE ${quoteIdentifier(this.table)} (${definitions})`);
    for (const column of this.order) column.pending = false;
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

  async flush(): Promise<void> {
    if (this.rows === 0) return;
    if (this.order.some((c) => c.pending)) await this.addPendingColumns();
    this.appender ??= await this.session.connection.createAppender(this.table);
    const total = this.rows;
    const types = this.order.map((c) => DUCK_TYPES[c.type]);
    for (let start = 0; start < total; start += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, total - start);
      const chunk = DuckDBDataChunk.create(types, n);
      for (let i = 0; i < this.order.length; i++) {
        const column = this.order[i];
        if (column.type !== 'VARCHAR') {
          writeNumbers(chunk, i, column, start, n);
          continue;
        }
        writeStrings(chunk, i, column, start, n);
      }
      this.appender.appendDataChunk(chunk);
    }
    for (const column of this.order) column.values = new Array(BATCH_ROWS);
    this.rowsWritten += total;
    this.rows = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    this.appender?.closeSync();
    this.appender = undefined;
  }

  /** Drops buffered rows and closes the appender without flushing (after a fatal error). */
  abandon(): void {
    this.rows = 0;
    try {
      this.appender?.closeSync();
    } catch {
      // The appender may already be unusable; the session is being closed anyway.
    }
    this.appender = undefined;
  }

  private addColumn(name: string, type: ColumnType): Column {
    const column: Column = { name, type, values: new Array(BATCH_ROWS), pending: true };
    this.columns.set(name, column);
    this.order.push(column);
    return column;
  }

  private async addPendingColumns(): Promise<void> {
    if (this.appender) {
      this.appender.closeSync();
      this.appender = undefined;
    }
    for (const column of this.order) {
      if (!column.pending) continue;
      await this.session.run(
        `ALTER TABLE ${quoteIdentifier(this.table)} ADD COLUMN ${quoteIdentifier(column.name)} ${column.type}`,
      );
      column.pending = false;
    }
  }
}

/**
 * Writes `n` values of a VARCHAR column, from `start`, into a chunk's vector: each string with one
 * call (as node-api's vector does, without its per-item caches and BigInt validity updates), nulls
 * as one validity mask. The column holds strings (numbers were converted when stored) or null.
 */
function writeStrings(chunk: DuckDBDataChunk, index: number, column: Column, start: number, n: number): void {
  const values = column.values;
  const vector = bindings.data_chunk_get_vector(chunk.chunk, index);
  let mask: Uint8Array<ArrayBuffer> | undefined;
  for (let k = 0; k < n; k++) {
    const value = values[start + k];
    if (typeof value === 'string') bindings.vector_assign_string_element(vector, k, value);
    else markNull((mask ??= allValid(n)), k);
  }
  if (mask) writeValidity(vector, mask);
}

/**
 * Copies `n` values of a DOUBLE or INTEGER column, from `start`, into a chunk's vector as one typed
 * array and one validity mask. `setColumnValues` sets each value through the vector's validity,
 * with BigInt operations per value once a chunk holds a null: 11 % of a FileTAO ingest's time,
 * most of it on sparse columns. The column holds numbers (already of its type) or null.
 */
function writeNumbers(chunk: DuckDBDataChunk, index: number, column: Column, start: number, n: number): void {
  const width = column.type === 'DOUBLE' ? 8 : 4;
  const buffer = new ArrayBuffer(n * width);
  const items = width === 8 ? new Float64Array(buffer) : new Int32Array(buffer);
  const values = column.values;
  let mask: Uint8Array<ArrayBuffer> | undefined;
  for (let k = 0; k < n; k++) {
    const value = values[start + k];
    if (typeof value === 'number') items[k] = value;
    else markNull((mask ??= allValid(n)), k);
  }
  const vector = bindings.data_chunk_get_vector(chunk.chunk, index);
  bindings.copy_data_to_vector(vector, 0, buffer, 0, buffer.byteLength);
  if (mask) writeValidity(vector, mask);
}

/** DuckDB's validity for n rows, all valid: one bit per row, set = valid, in 64-bit little-endian words. */
function allValid(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new ArrayBuffer(Math.ceil(n / 64) * 8)).fill(0xff);
}

/** Marks one row null in a validity mask. */
function markNull(mask: Uint8Array, row: number): void {
  mask[row >> 3] &= ~(1 << (row & 7));
}

/** Copies a validity mask into a chunk's vector. */
function writeValidity(
  vector: ReturnType<typeof bindings.data_chunk_get_vector>,
  mask: Uint8Array<ArrayBuffer>,
): void {
  bindings.vector_ensure_validity_writable(vector);
  bindings.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, mask.byteLength);
}
