import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { carefulRead, LINE_KEY, type CarefulRead } from '../formats/careful-read.js';
import type { FileProbe } from '../formats/probe.js';
import { mergeShape, emptyShape } from '../formats/shape.js';
import { trackTemp, untrackTemp } from '../temp-files.js';
import { withByteRanges, type ByteRange } from './byte-feed.js';
import {
  declaredColumns,
  outputColumns,
  typedRead,
  type OutputColumn,
  type ReadShape,
} from './normalize-sql.js';
import type { Session } from './session.js';
import { ident, lit, sql, trusted, type Sql } from './sql.js';

/** One file's part of a read: which bytes, where its records and lines start. */
export interface ReadPart {
  fileId: number;
  /** What DuckDB reads of the file (the whole file, or a range fed through a pipe). */
  range: ByteRange;
  layout: 'jsonl' | 'array';
  /** rec of the first record read (rows already stored for the file). */
  recBase: number;
  /** Lines before the first record read. */
  lineBase: number;
  probe: FileProbe;
}

/** What a read stored for one file. */
export interface PartResult {
  fileId: number;
  rows: number;
  /** Careful reads: problems found, votes over every record, where the read stopped. */
  careful?: Pick<CarefulRead, 'problems' | 'votes' | 'position'>;
}

export interface ChunkResult {
  chunk: number;
  /** The chunk's columns, each with its column name in the index. */
  columns: NamedColumn[];
  parts: PartResult[];
}

export type NamedColumn = OutputColumn & { name: string };

/** Gives each column of a new chunk its name in the index (registering new fields). */
export type NameColumns = (columns: readonly OutputColumn[]) => Promise<NamedColumn[]>;

/** The index's chunk tables: events and their per-uid rows. */
export const eventsChunk = (chunk: number): string => `ev_${chunk}`;
export const uidChunk = (chunk: number): string => `uid_${chunk}`;

/** The read failed because of this file (DuckDB names it): read it carefully instead. */
export class FileReadError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads files that DuckDB can read on its own (JSON lines and JSON arrays) into one chunk table,
 * in one statement: the records normalised by SQL (normalize-sql.ts), each with its file, rec (its
 * place among the file's records) and line. Throws FileReadError naming the file DuckDB could not
 * read, so the caller reads that one carefully and the rest again.
 */
export async function readTyped(
  session: Session,
  chunk: number,
  parts: readonly ReadPart[],
  nameColumns: NameColumns,
  onProgress?: (fraction: number) => void,
): Promise<ChunkResult | undefined> {
  const shape: ReadShape = { event: emptyShape(), loguru: parts.every((p) => p.probe.loguru) };
  for (const part of parts) mergeShape(shape.event, part.probe.shape);
  const declared = declaredColumns(shape);
  if (!declared) return undefined;
  const columns = await nameColumns(outputColumns(shape));
  if (!columns.length) return undefined;
  const layout = parts[0].layout;
  return withByteRanges(
    parts.map((p) => p.range),
    async (paths) => {
      const partOf = new Map<string, ReadPart & { piece: number }>();
      paths.forEach((p, i) => partOf.set(p, { ...parts[i], piece: 0 }));
      const read = typedRead(paths, layout, declared, { multiple: paths.length > 1 });
      // DuckDB splits a JSON lines file among its threads: its rows keep their order only when
      // insertion order is kept. A JSON array is read front to back by one thread, and keeping the
      // order of all files costs twice the time: each file's rows are numbered by a window.
      const ordered = layout === 'jsonl';
      const kept = await createChunk(session, chunk, columns, read, undefined, ordered, onProgress).catch(
        (error: unknown) => {
          throw fileError(error, partOf) ?? error;
        },
      );
      const rows = await numberRows(session, chunk, partOf, ordered);
      return {
        chunk,
        columns: kept,
        parts: parts.map((p) => ({ fileId: p.fileId, rows: rows.get(p.fileId) ?? 0 })),
      };
    },
  );
}

/**
 * Reads one file with the JS readers (a byte order mark and a corrupt record handled, CSV,
 * pretty-printed objects), writes its good records as JSON lines and has DuckDB read those into a
 * chunk, with the declared shape of every record (nothing is left undeclared).
 */
export async function readCareful(
  session: Session,
  chunk: number,
  part: Omit<ReadPart, 'range' | 'layout' | 'probe'> & {
    file: { path: string; gzip: boolean; container: 'jsonl' | 'json' | 'csv' };
    startOffset: number;
    holdPartial: boolean;
  },
  nameColumns: NameColumns,
): Promise<ChunkResult | { chunk: undefined; parts: PartResult[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-careful-'));
  trackTemp(dir);
  try {
    const target = path.join(dir, 'records.jsonl');
    const careful = await carefulRead(part.file, target, {
      position: { offset: part.startOffset, line: part.lineBase },
      holdPartial: part.holdPartial,
    });
    const result: PartResult = { fileId: part.fileId, rows: careful.records, careful };
    if (careful.records === 0) return { chunk: undefined, parts: [result] };
    const shape: ReadShape = { event: careful.shape, loguru: false };
    const columns = await nameColumns(outputColumns(shape).filter((c) => c.path !== LINE_KEY));
    const declared = declaredColumns(shape)!;
    const read = typedRead([target], 'jsonl', declared, { multiple: false });
    const kept = await createChunk(
      session,
      chunk,
      columns,
      read,
      sql`CAST(${ident('src')}.${ident(LINE_KEY)} AS INTEGER)`,
      true,
    );
    const partOf = new Map([
      [target, { fileId: part.fileId, recBase: part.recBase, lineBase: -1, piece: 0 }],
    ]);
    await numberRows(session, chunk, partOf, true);
    return { chunk, columns: kept, parts: [result] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    untrackTemp(dir);
  }
}

/**
 * CREATE TABLE ev_<chunk> from a read (rec and line are set by numberRows). `ordered`: the rows are
 * stored in the order they were read, so a file's rows are one run in order. Without it (JSON
 * arrays, which DuckDB reads one file per thread, and where keeping the order of all files costs
 * twice the time) each file's rows still come in order, but interleaved with other files' rows.
 */
async function createChunk(
  session: Session,
  chunk: number,
  columns: readonly NamedColumn[],
  read: Sql,
  line: Sql | undefined,
  ordered: boolean,
  onProgress?: (fraction: number) => void,
): Promise<NamedColumn[]> {
  const select = sql`SELECT ${ident('src')}.filename AS __file, CAST(NULL AS INTEGER) AS file_id,
    CAST(NULL AS INTEGER) AS rec, ${line ?? trusted('CAST(NULL AS INTEGER)')} AS line,
    ${columns.map((c) => sql`${c.expr} AS ${ident(c.name)}`)}
    FROM ${read} AS src`;
  const create = () =>
    session.runWithProgress(sql`CREATE TABLE ${ident(eventsChunk(chunk))} AS ${select}`.text, onProgress);
  await (ordered ? session.withInsertionOrder(create) : create());
  // A field with no value in this chunk gets no column here (as a field only becomes a column
  // with its first value): old flat RL names in nested records, keys that only ever held null.
  const counts = await session.one<Record<string, number>>(
    sql`SELECT ${columns.map((c, i) => sql`CAST(count(${ident(c.name)}) AS DOUBLE) AS ${ident(`n${i}`)}`)} FROM ${ident(eventsChunk(chunk))}`
      .text,
  );
  const kept: NamedColumn[] = [];
  for (const [i, c] of columns.entries())
    if ((counts?.[`n${i}`] ?? 0) === 0)
      await session.run(sql`ALTER TABLE ${ident(eventsChunk(chunk))} DROP COLUMN ${ident(c.name)}`.text);
    else kept.push(c);
  return kept;
}

/**
 * Sets file_id, rec and line of a new chunk from its row order: each path read (a file, or a piece
 * of a file's range) holds its records in order, as one run in path order (`ordered`) or
 * interleaved with other paths' rows (numbered by a window over each path's rows, pieces of one
 * file following each other).
 */
async function numberRows(
  session: Session,
  chunk: number,
  partOf: ReadonlyMap<string, { fileId: number; recBase: number; lineBase: number; piece: number }>,
  ordered: boolean,
): Promise<Map<number, number>> {
  const table = ident(eventsChunk(chunk));
  const files = [...partOf].map(
    ([file, p]) => sql`(${[lit(file), lit(p.piece), lit(p.fileId), lit(p.recBase), lit(p.lineBase)]})`,
  );
  await session.run(
    'CREATE OR REPLACE TEMP TABLE chunk_files (__file VARCHAR, piece INTEGER, file_id INTEGER, rec_base BIGINT, line_base BIGINT)',
  );
  await session.run(sql`INSERT INTO chunk_files VALUES ${files}`.text);
  // Rows before each path's first one among its file's paths.
  await session.run(
    sql`CREATE OR REPLACE TEMP TABLE chunk_pieces AS
    SELECT f.*, c.n, c.first_row,
      coalesce(sum(c.n) OVER (PARTITION BY f.file_id ORDER BY f.piece ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM chunk_files f LEFT JOIN (SELECT __file, count(*) AS n, min(rowid) AS first_row FROM ${table} GROUP BY __file) c USING (__file)`
      .text,
  );
  const line = (k: string) =>
    sql`CASE WHEN p.line_base < 0 THEN ${table}.line ELSE ${trusted(k)} + p.line_base + 1 END`;
  if (ordered)
    await session.run(
      sql`UPDATE ${table} SET file_id = p.file_id,
        rec = ${table}.rowid - p.first_row + p.before + p.rec_base,
        line = ${line(`${table.text}.rowid - p.first_row + p.before`)}
      FROM chunk_pieces p WHERE ${table}.__file = p.__file`.text,
    );
  else {
    await session.run(
      sql`CREATE OR REPLACE TEMP TABLE chunk_order AS
      SELECT c.rowid AS row_id, row_number() OVER (PARTITION BY c.__file ORDER BY c.rowid) - 1 AS k
      FROM ${table} c`.text,
    );
    await session.run(
      sql`UPDATE ${table} SET file_id = p.file_id, rec = o.k + p.before + p.rec_base,
        line = ${line('o.k + p.before')}
      FROM chunk_order o, chunk_pieces p WHERE ${table}.rowid = o.row_id AND ${table}.__file = p.__file`.text,
    );
    await session.run('DROP TABLE chunk_order');
  }
  const counts = await session.all<{ file_id: number; n: number }>(
    'SELECT file_id, CAST(sum(coalesce(n, 0)) AS DOUBLE) AS n FROM chunk_pieces GROUP BY file_id',
  );
  await session.run('DROP TABLE chunk_files');
  await session.run('DROP TABLE chunk_pieces');
  return new Map(counts.map((c) => [c.file_id, c.n]));
}

/** DuckDB's message names the file it could not read (Malformed JSON / JSON transform error in file "…"). */
function fileError(
  error: unknown,
  partOf: ReadonlyMap<string, ReadPart & { piece: number }>,
): FileReadError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const named = /in file "([^"]+)"/.exec(message)?.[1];
  if (named === undefined) return undefined;
  const part = partOf.get(named) ?? [...partOf].find(([p]) => p.endsWith(named) || named.endsWith(p))?.[1];
  return part ? new FileReadError(part.range.path, message) : undefined;
}
