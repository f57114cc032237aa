import type * as NodeApiModule from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBType } from '@duckdb/node-api';
import type BindingsModule from '@duckdb/node-bindings';
import {
  allValid,
  ColumnBuffer,
  markNull,
  type ColumnSpec,
  type ColumnType,
  type EncodedChunk,
} from './column-buffer.js';
import { quoteIdentifier, type Session } from './session.js';

export { BATCH_ROWS, type Column, type ColumnType } from './column-buffer.js';

/**
 * DuckDB's modules, loaded with the first table written (a Session has loaded them by then, see
 * session.ts): commands answered by the scanners never load DuckDB (~150 ms of their start-up).
 */
let nodeApi: typeof NodeApiModule | undefined;
let bindings: typeof BindingsModule;
let duckTypes: Record<ColumnType, DuckDBType>;

async function loadDuckDb(): Promise<typeof NodeApiModule> {
  if (nodeApi === undefined) {
    const [api, nodeBindings] = await Promise.all([
      import('@duckdb/node-api'),
      import('@duckdb/node-bindings'),
    ]);
    bindings = nodeBindings.default;
    duckTypes = { DOUBLE: api.DOUBLE, VARCHAR: api.VARCHAR, INTEGER: api.INTEGER };
    nodeApi = api;
  }
  return nodeApi;
}

/**
 * Appends rows to a DuckDB table whose columns appear as the data reveals them (see
 * ColumnBuffer): rows buffered here (`flush`), or encoded elsewhere, e.g. on the ingest's worker
 * thread (`appendChunks`), go in as data chunks; a column new to the table is added first.
 */
export class TableWriter extends ColumnBuffer {
  private appender: DuckDBAppender | undefined;
  /** Bytes (as DuckDB's vectors hold them) and rows given to the appender since its last flush. */
  private appenderBytes = 0;
  private appenderRows = 0;

  constructor(
    private readonly session: Session,
    table: string,
    fixed: readonly ColumnSpec[],
  ) {
    super(table, fixed);
  }

  async create(): Promise<void> {
    const definitions = this.order.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ');
    await this.session.run(`CREATE OR REPLACE TABLE ${quoteIdentifier(this.table)} (${definitions})`);
    for (const column of this.order) column.pending = false;
  }

  async flush(): Promise<void> {
    if (this.rows === 0) return;
    await this.appendChunks(this.columnSpecs(), this.takeChunks());
  }

  /**
   * Appends encoded chunks whose columns are `columns`, in that order: any of this table's columns,
   * in any order (those missing are null), and new ones, which are added to the table first. A
   * column whose type differs from the table's is refused (ColumnTypeMismatch), before anything
   * is appended.
   */
  async appendChunks(columns: readonly ColumnSpec[], chunks: readonly EncodedChunk[]): Promise<void> {
    const positions = new Array<number>(columns.length);
    for (let i = 0; i < columns.length; i++) {
      const spec = columns[i];
      const known = this.columns.get(spec.name);
      if (known === undefined) positions[i] = this.order.indexOf(this.addColumn(spec.name, spec.type));
      else if (known.type !== spec.type)
        throw new ColumnTypeMismatch(this.table, spec.name, known.type, spec.type);
      else positions[i] = this.order.indexOf(known);
    }
    if (this.order.some((c) => c.pending)) await this.addPendingColumns();
    if (chunks.length === 0) return;
    this.appender ??= await this.session.connection.createAppender(this.table);
    const { DuckDBDataChunk } = await loadDuckDb();
    const types = this.order.map((c) => duckTypes[c.type]);
    const absent = this.order.map((_, k) => k).filter((k) => !positions.includes(k));
    for (const encoded of chunks) {
      const chunk = DuckDBDataChunk.create(types, encoded.rows);
      let bytes = 0;
      for (let i = 0; i < encoded.columns.length; i++) {
        const column = encoded.columns[i];
        const vector = bindings.data_chunk_get_vector(chunk.chunk, positions[i]);
        if ('strings' in column) bytes += writeStrings(vector, column.strings, encoded.rows);
        else if ('codes' in column) {
          bytes += writeDictionary(vector, new Int32Array(column.codes), column.dictionary);
        } else {
          bindings.copy_data_to_vector(vector, 0, column.data, 0, column.data.byteLength);
          if (column.validity) writeValidity(vector, column.validity);
          bytes += column.data.byteLength;
        }
      }
      for (const k of absent) {
        const vector = bindings.data_chunk_get_vector(chunk.chunk, k);
        writeValidity(vector, new ArrayBuffer(Math.ceil(encoded.rows / 64) * 8));
        bytes += 16 * encoded.rows;
      }
      this.appender.appendDataChunk(chunk);
      this.appenderBytes += bytes;
      this.appenderRows += encoded.rows;
      if (this.appenderBytes >= APPENDER_BYTES && this.appenderBytes > this.appenderRows * WIDE_ROW_BYTES) {
        this.appender.flushSync();
        this.appenderBytes = 0;
        this.appenderRows = 0;
      }
    }
  }

  /** The table's column names, in its order. */
  columnNames(): string[] {
    return this.order.map((c) => c.name);
  }

  async close(): Promise<void> {
    await this.flush();
    this.closeAppender();
  }

  /** Drops buffered rows and closes the appender without flushing (after a fatal error). */
  abandon(): void {
    this.discard();
    try {
      this.closeAppender();
    } catch {
      // The appender may already be unusable; the session is being closed anyway.
    }
  }

  /** Closes the appender (which writes what it holds) and starts its byte count afresh. */
  private closeAppender(): void {
    const appender = this.appender;
    this.appender = undefined;
    this.appenderBytes = 0;
    this.appenderRows = 0;
    appender?.closeSync();
  }

  private async addPendingColumns(): Promise<void> {
    this.closeAppender();
    for (const column of this.order) {
      if (!column.pending) continue;
      await this.session.run(
        `ALTER TABLE ${quoteIdentifier(this.table)} ADD COLUMN ${quoteIdentifier(column.name)} ${column.type}`,
      );
      column.pending = false;
    }
  }
}

/** A chunk's column has another type than the table's column of that name. */
export class ColumnTypeMismatch extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    readonly tableType: ColumnType,
    readonly chunkType: ColumnType,
  ) {
    super(`${table}: column ${column} is ${tableType}, the chunk has it as ${chunkType}`);
    this.name = 'ColumnTypeMismatch';
  }
}

/**
 * DuckDB's appender holds what it is given, outside DuckDB's memory limit, until it has 204 800
 * rows. Narrow rows fill that soon (OpenValidators' per-uid rows, ~330 bytes each: ~68 MB, after
 * ~60 MB of input), wide ones only after gigabytes: OpenValidators' events (the `rows` table, ~860
 * bytes a row with the prompt) held ~57 MB at 1 GB of input and ~176 MB at 3.1 GB, and a 10 GB
 * ingest peaked at 850 MB against 608–654 MB for 1 GB. So a table whose rows average more than
 * WIDE_ROW_BYTES is flushed every APPENDER_BYTES instead (the same 10 GB ingest: 670 MB, against
 * 615–633 MB for 1 GB). Narrow tables are left to DuckDB: flushing them sooner slowed the 1 GB
 * ingest from 16 s to 18–21 s.
 */
const APPENDER_BYTES = 32 * 1024 * 1024;
const WIDE_ROW_BYTES = 512;

type Vector = ReturnType<typeof BindingsModule.data_chunk_get_vector>;

/**
 * Writes `n` strings into a chunk's VARCHAR vector, each with one call (as node-api's vector does,
 * without its per-item caches and BigInt validity updates), anything else as null, in one
 * validity mask. Returns the bytes the vector holds: 16 a value, plus the text when longer than 12.
 */
function writeStrings(vector: Vector, values: readonly (string | null | undefined)[], n: number): number {
  let mask: Uint8Array<ArrayBuffer> | undefined;
  let bytes = 16 * n;
  for (let k = 0; k < n; k++) {
    const value = values[k];
    if (typeof value === 'string') {
      bindings.vector_assign_string_element(vector, k, value);
      bytes += textBytes(value);
    } else markNull((mask ??= allValid(n)), k);
  }
  if (mask) writeValidity(vector, mask.buffer);
  return bytes;
}

/**
 * Writes dictionary-encoded strings into a chunk's VARCHAR vector (code -1: null); as writeStrings.
 * Entries of at most 12 UTF-8 bytes, which DuckDB stores inline in the vector's 16-byte slot, are
 * laid out here (`inlineSlot`) and copied in one call; longer ones are assigned one by one. A
 * FileTAO ingest copies its event's task into every per-uid row: one native call per row cost ~7 s
 * of the main thread's time at 1 GB.
 */
function writeDictionary(vector: Vector, codes: Int32Array, dictionary: readonly string[]): number {
  let mask: Uint8Array<ArrayBuffer> | undefined;
  const n = codes.length;
  const slots = inlineSlotsWork() ? dictionary.map(inlineSlot) : [];
  let words: Uint32Array<ArrayBuffer> | undefined;
  const assigned: number[] = [];
  for (let k = 0; k < n; k++) {
    const code = codes[k];
    if (code < 0) {
      markNull((mask ??= allValid(n)), k);
      continue;
    }
    const slot = slots[code];
    if (slot === undefined) {
      assigned.push(k);
      continue;
    }
    words ??= new Uint32Array(n * 4);
    const at = k * 4;
    words[at] = slot[0];
    words[at + 1] = slot[1];
    words[at + 2] = slot[2];
    words[at + 3] = slot[3];
  }
  // The copy covers every slot: the longer texts are assigned after it.
  if (words) bindings.copy_data_to_vector(vector, 0, words.buffer, 0, words.byteLength);
  let bytes = 16 * n;
  for (const k of assigned) {
    const value = dictionary[codes[k]];
    bindings.vector_assign_string_element(vector, k, value);
    bytes += textBytes(value);
  }
  if (mask) writeValidity(vector, mask.buffer);
  return bytes;
}

/** Longest text DuckDB keeps inside a string's 16-byte slot (its string_t::INLINE_LENGTH). */
const INLINE_BYTES = 12;
const utf8 = new TextEncoder();

/**
 * A string's 16-byte slot in a VARCHAR vector, as four 32-bit words, when DuckDB stores it inline:
 * its length in UTF-8 bytes, then the bytes, zero-padded (DuckDB compares inline strings by these
 * 16 bytes). Undefined for longer text, which lives in the vector's heap.
 */
function inlineSlot(value: string): Uint32Array | undefined {
  if (value.length > INLINE_BYTES) return undefined;
  const slot = new Uint8Array(16);
  const { read, written } = utf8.encodeInto(value, slot.subarray(4));
  if (read !== value.length || written > INLINE_BYTES) return undefined;
  const words = new Uint32Array(slot.buffer);
  words[0] = written;
  return words;
}

let inlineSlotsChecked: boolean | undefined;

/**
 * Whether inlineSlot matches DuckDB's own layout, checked once: strings assigned by DuckDB into a
 * vector are read back and compared (a platform or DuckDB version that differs falls back to
 * assigning every string).
 */
export function inlineSlotsWork(): boolean {
  if (inlineSlotsChecked !== undefined) return inlineSlotsChecked;
  const samples = ['', 'a', 'Success', 'naïve', '123456789012'];
  const chunk = bindings.create_data_chunk([bindings.create_logical_type(bindings.Type.VARCHAR)]);
  bindings.data_chunk_set_size(chunk, samples.length);
  const vector = bindings.data_chunk_get_vector(chunk, 0);
  samples.forEach((text, k) => bindings.vector_assign_string_element(vector, k, text));
  const actual = new Uint32Array(bindings.vector_get_data(vector, samples.length * 16).slice().buffer);
  inlineSlotsChecked = samples.every((text, k) => {
    const slot = inlineSlot(text);
    return slot !== undefined && slot.every((word, i) => word === actual[k * 4 + i]);
  });
  return inlineSlotsChecked;
}

/**
 * Bytes a string takes beyond its 16-byte slot in a VARCHAR vector: none up to 12 (stored inline),
 * else its text (counted in UTF-16 units, one a byte for ASCII: close enough for the flush rule).
 */
function textBytes(value: string): number {
  return value.length > 12 ? value.length : 0;
}

/** Copies a validity mask (one bit per row, set = valid) into a chunk's vector. */
function writeValidity(vector: Vector, mask: ArrayBuffer): void {
  bindings.vector_ensure_validity_writable(vector);
  bindings.copy_data_to_vector_validity(vector, 0, mask, 0, mask.byteLength);
}
