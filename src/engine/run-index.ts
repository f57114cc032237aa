import type { LogFile } from '../formats/log-file.js';
import { probeFile } from '../formats/probe.js';
import { emptyShape, mergeShape, shapeAt, shapeFromJson, shapeToJson, type Shape } from '../formats/shape.js';
import { withByteRanges, type ByteRange } from './byte-feed.js';
import { memberKeysSql, memberValuesSql, wholeRecords } from './normalize-sql.js';
import type { ProblemKind, ReadProblem } from '../formats/problems.js';
import { parseJsonRecord } from '../formats/json-record.js';
import { toCanonical } from './canonical-sql.js';
import {
  IndexDb,
  INDEX_FORMAT,
  type ChunkPart,
  type IndexColumn,
  type IndexedFile,
  type OrderRow,
} from './index-db.js';
import { eventsChunk, uidChunk, type ChunkResult, type NamedColumn } from './index-read.js';
import { X_CANDIDATES } from './candidates.js';
import type { OutputColumn, StoredType } from './normalize-sql.js';
import type { Session } from './session.js';
import { ident, join, lit, sql } from './sql.js';
import { uidRowsSelect } from './uid-rows-sql.js';
import { randomUUID } from 'node:crypto';
import { answerState } from './answers.js';
import { RangeStates, type Part, type ViewShape, type XSpan } from './range-state.js';
import { identity } from './file-identity.js';
import { UpdateReader } from './index-update.js';
import { planUpdate } from './index-plan.js';

export interface IndexProgress {
  fileIndex: number;
  fileCount: number;
  fileName: string;
  bytesDone: number;
  bytesTotal: number;
  rows: number;
}

export interface UpdateOptions {
  /** A run still being written: a partial last line is held back, not reported. */
  live?: boolean;
  onProgress?: (progress: IndexProgress) => void;
  /**
   * Read plain JSON lines files larger than this in parts of about this many bytes, and smaller
   * files in batches of at most this many bytes (GROUP_BYTES at most), each committed as it is read
   * (so what is indexed so far can be shown while a large run is read).
   */
  chunkBytes?: number;
  /** Called after each part is committed, between reads. */
  onChunk?: () => Promise<void>;
}

/** What an update read. */
export interface IndexChange {
  newRows: number;
  newFiles: string[];
  /** Files read again from the start (rewritten, truncated). */
  reread: string[];
  /** Files of which only the appended bytes were read. */
  appended: string[];
  /** Files gone since the last look (their rows are dropped). */
  dropped: string[];
  /** Bytes read from the logs. */
  bytesRead: number;
}

/** A file's last line that is not complete (the writer crashed or is still writing). */
export interface PartialLine {
  fileId: number;
  line: number;
  bytes: number;
}

/** A stored chunk table's columns: name → stored type. */
type ChunkColumns = Map<string, StoredType>;

/** A file's bytes whose records' members are to be checked (RunIndex.checkMembers). */
type MemberCheck = { entry: IndexedFile; range: ByteRange };

/**
 * A run's index: its files' records normalised into chunk tables of a DuckDB database (the
 * user's cache, or a temporary one), with the bookkeeping that lets a later look read only what
 * changed: new files, bytes appended to JSON lines files; a file rewritten or truncated is read
 * again, a file gone is dropped. DuckDB reads the files (normalize-sql.ts); the JS readers read
 * only what it cannot (a byte order mark, a corrupt record, CSV, pretty-printed objects).
 */
export class RunIndex {
  private constructor(
    readonly session: Session,
    private readonly db: IndexDb,
    private files: Map<number, IndexedFile>,
    private chunks: ChunkPart[],
    private columns: IndexColumn[],
    private chunkColumns: Map<string, ChunkColumns>,
    /** Partial last lines seen by the last update (not stored: they may be complete next time). */
    private partial: Map<number, PartialLine>,
  ) {
    this.ranges = new RangeStates();
  }

  /** Names the index's rows as they are now: a new one with every change of them (answers.ts). */
  private generationId = '';
  /** Hash of the text of the views over the chunks (set by createViews). */
  viewsFingerprint = '';
  /** The views' shape for range answers (set by createViews; undefined where x is the ordinal). */
  viewShape: ViewShape | undefined;
  /** Each chunk's token, made when it is written (range-state.ts). */
  private chunkTokens = new Map<number, string>();
  private readonly ranges: RangeStates;
  /** DuckDB's version, read at open: an answer kept by another version holds only for it. */
  private engineVersion = '';

  /**
   * The state the answers kept in the index are valid for (answers.ts): the layout, DuckDB's
   * version, the generation of the rows and the views' text.
   */
  answerState(): string {
    return answerState([INDEX_FORMAT, this.engineVersion, this.generationId, this.viewsFingerprint]);
  }

  /**
   * The state of the rows with x in a range, for answers read from those rows alone: it holds
   * while no row with x in the range is added or removed (range-state.ts). Undefined where x is the
   * row ordinal.
   */
  rangeState(span: XSpan, session: Session = this.session): Promise<string | undefined> {
    return this.ranges.state(
      span,
      this.viewShape,
      (part) =>
        this.chunkTokens.get(part.chunk) === part.token &&
        this.chunks.some((c) => c.chunk === part.chunk && c.fileId === part.fileId),
      [INDEX_FORMAT, this.engineVersion],
      session,
    );
  }

  /** The parts of some chunks now, named by their chunk's token. */
  partsOf(chunks: readonly number[]): Part[] {
    return this.chunks
      .filter((c) => chunks.includes(c.chunk) && this.chunkTokens.has(c.chunk))
      .map((c) => ({ chunk: c.chunk, token: this.chunkTokens.get(c.chunk)!, fileId: c.fileId }));
  }

  /** A chunk was written (a new token), or is gone. */
  private async renewToken(chunk: number, gone = false): Promise<void> {
    const token = gone ? undefined : randomUUID();
    await this.db.setChunkToken(chunk, token);
    if (token === undefined) this.chunkTokens.delete(chunk);
    else this.chunkTokens.set(chunk, token);
  }

  /** The rows changed: what was computed from them before no longer holds. */
  private async newGeneration(): Promise<void> {
    this.generationId = randomUUID();
    await this.db.setMeta('generation', this.generationId);
  }

  static async open(session: Session): Promise<RunIndex> {
    const db = new IndexDb(session);
    await db.create();
    const format = await db.meta('format');
    if (format !== undefined && format !== INDEX_FORMAT) {
      await dropEverything(session);
      await db.create();
    }
    if (format !== INDEX_FORMAT) await db.setMeta('format', INDEX_FORMAT);
    const index = new RunIndex(session, db, new Map(), [], [], new Map(), new Map());
    const version = await session.one<{ v: string }>('SELECT library_version AS v FROM pragma_version()');
    index.engineVersion = version?.v ?? '';
    await index.load();
    return index;
  }

  private async load(): Promise<void> {
    const generation = await this.db.meta('generation');
    if (generation === undefined) await this.newGeneration();
    else this.generationId = generation;
    this.files = new Map((await this.db.files()).map((f) => [f.fileId, f]));
    this.chunks = await this.db.chunks();
    this.chunkTokens = await this.db.chunkTokens();
    for (const chunk of new Set(this.chunks.map((c) => c.chunk)))
      if (!this.chunkTokens.has(chunk)) await this.renewToken(chunk);
    // Chunk tables no bookkeeping refers to: a command stopped between writing and recording them.
    const recorded = new Set(this.chunks.map((c) => c.chunk));
    const tables = await this.session.all<{ table_name: string }>(
      `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'
         AND regexp_full_match(table_name, '(ev|uid)_[0-9]+')`,
    );
    for (const { table_name: table } of tables)
      if (!recorded.has(Number(table.split('_')[1])))
        await this.session.run(sql`DROP TABLE IF EXISTS ${ident(table)}`.text);
    this.columns = await this.db.columns();
    const rows = await this.session.all<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM duckdb_columns()
       WHERE database_name = current_database() AND schema_name = 'main'
         AND regexp_full_match(table_name, '(ev|uid)_[0-9]+')`,
    );
    this.chunkColumns = new Map();
    for (const r of rows) {
      let columns = this.chunkColumns.get(r.table_name);
      if (!columns) this.chunkColumns.set(r.table_name, (columns = new Map()));
      columns.set(r.column_name, r.data_type as StoredType);
    }
  }

  /** The files indexed, by id. */
  indexedFiles(): IndexedFile[] {
    return [...this.files.values()];
  }

  indexColumns(): readonly IndexColumn[] {
    return this.columns;
  }

  chunkParts(): readonly ChunkPart[] {
    return this.chunks;
  }

  /** The stored columns of a chunk table (ev_N or uid_N). */
  columnsOf(table: string): ChunkColumns | undefined {
    return this.chunkColumns.get(table);
  }

  partialLines(): PartialLine[] {
    return [...this.partial.values()];
  }

  async problems(limit: number): Promise<(Omit<ReadProblem, 'file'> & { fileId: number })[]> {
    return this.db.problems(limit);
  }

  async orderRows(): Promise<OrderRow[]> {
    return this.db.orderRows();
  }

  async extraShape(path: string): Promise<Shape | undefined> {
    const json = await this.db.extraShape(path);
    return json === undefined ? undefined : shapeFromJson(JSON.parse(json));
  }

  setMemberChecked(fileId: number, bytes: number): Promise<void> {
    return this.db.setMemberChecked(fileId, bytes);
  }

  /**
   * Checks every record of the files read with declared columns (whose members came from a probe
   * of some of their records) for members the index has no column for: DuckDB reads each record
   * whole and lists the member names of its objects. A file with such members is dropped, with
   * their shape kept, so the next update reads it again declaring them. Returns the paths found,
   * each once. Bytes checked are remembered: a later check reads only what was appended.
   */
  async checkMembers(files: readonly LogFile[]): Promise<string[]> {
    const known = new Set(this.columns.map((c) => c.path));
    const objects = new Set<string>();
    for (const path of known) {
      const keys = path.split('.');
      for (let i = 1; i < keys.length; i++) objects.add(keys.slice(0, i).join('.'));
    }
    const objectPaths = [...objects].map((p) => p.split('.'));
    const isKnown = (path: string) => known.has(path) || objects.has(path);
    // What is left to check of each file, by how its records are read.
    const groups = new Map<string, { layout: 'jsonl' | 'array'; loguru: boolean; todo: MemberCheck[] }>();
    for (const entry of [...this.files.values()]) {
      const file = files.find((f) => f.path === entry.path);
      const checked = await this.db.memberChecked(entry.fileId);
      if (!file || checked >= entry.indexedBytes || (entry.layout !== 'jsonl' && entry.layout !== 'array'))
        continue;
      const probe = await probeFile(file);
      const start = checked > 0 ? checked : probe.bom ? 3 : 0;
      if (entry.layout === 'array' && start > 0) continue;
      const key = `${entry.layout} ${probe.loguru}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { layout: entry.layout, loguru: probe.loguru, todo: [] }));
      group.todo.push({ entry, range: { path: entry.path, start, end: entry.indexedBytes } });
    }
    const found = new Set<string>();
    for (const { layout, loguru, todo } of groups.values()) {
      // Every file of a layout in one query: DuckDB reads several files at once (an array file
      // is read by one thread), and a query per file paid its start-up each time.
      const unknown = await withByteRanges(
        todo.map((t) => t.range),
        async (paths) => {
          const rows = await this.session.all<{ f: string; k: (string[] | null)[] | null }>(
            memberKeysSql(wholeRecords(paths, layout, loguru), objectPaths).text,
          );
          const byFile = paths.map(() => new Set<string>());
          const index = new Map(paths.map((p, i) => [p, i]));
          for (const row of rows) {
            const members = byFile[index.get(row.f) ?? -1];
            if (!members) throw new Error(`member check: a record of ${row.f}, which was not asked for`);
            [[], ...objectPaths].forEach((prefix, i) => {
              for (const key of row.k?.[i] ?? []) {
                const member = [...prefix, key].join('.');
                if (!isKnown(member)) members.add(member);
              }
            });
          }
          const out: { paths: string[]; shapes: Shape[] }[] = [];
          for (const [i, members] of byFile.entries()) {
            // Members of members found (a new object's own members are in its values' shape).
            const fresh = [...members].filter((p) => ![...members].some((q) => p.startsWith(`${q}.`)));
            const shapes: Shape[] = [];
            for (const member of fresh) {
              const keys = member.split('.');
              const values = await this.session.all<{ v: string }>(
                memberValuesSql(wholeRecords([paths[i]], layout, loguru), keys, 400).text,
              );
              shapes.push(
                shapeAt(
                  keys,
                  values.map((r) => parseJsonRecord(r.v)),
                ),
              );
            }
            out.push({ paths: fresh, shapes });
          }
          return out;
        },
      );
      for (const [i, { entry }] of todo.entries()) {
        const { paths, shapes } = unknown[i];
        if (!paths.length) {
          await this.db.setMemberChecked(entry.fileId, entry.indexedBytes);
          continue;
        }
        const extra = (await this.extraShape(entry.path)) ?? emptyShape();
        for (const shape of shapes) mergeShape(extra, shape);
        await this.db.setExtraShape(entry.path, JSON.stringify(shapeToJson(extra)));
        for (const p of paths) found.add(p);
        await this.dropFile(entry.fileId);
      }
    }
    return [...found];
  }

  /** Marks files as checked up to what is indexed of them (read again with every member declared). */
  async markMembersChecked(paths: readonly string[]): Promise<void> {
    for (const f of this.files.values())
      if (paths.includes(f.path)) await this.db.setMemberChecked(f.fileId, f.indexedBytes);
  }

  chunkStats(chunk: number): Promise<unknown[] | undefined> {
    return this.db.chunkStats(chunk);
  }

  putChunkStats(chunk: number, stats: readonly unknown[]): Promise<void> {
    return this.db.putChunkStats(chunk, stats);
  }

  /** Reads what changed in the run's files since the last update. */
  async update(files: readonly LogFile[], options: UpdateOptions = {}): Promise<IndexChange> {
    const change: IndexChange = {
      newRows: 0,
      newFiles: [],
      reread: [],
      appended: [],
      dropped: [],
      bytesRead: 0,
    };
    const plan = planUpdate(this.files, files, change, (fileId) => this.partial.delete(fileId));
    // New files take ids above every id the index holds now, before any is dropped and reused.
    plan.nextFileId = this.nextFileId();
    for (const fileId of plan.drop) await this.dropFile(fileId);
    const reader = new UpdateReader(this, files, plan, options, change);
    await reader.run();
    return change;
  }

  /** Removes a file's rows from every chunk holding them. */
  async dropFile(fileId: number): Promise<void> {
    for (const part of this.chunks.filter((c) => c.fileId === fileId)) {
      const others = this.chunks.some((c) => c.chunk === part.chunk && c.fileId !== fileId);
      if (!others) await this.renewToken(part.chunk, true);
      for (const table of [eventsChunk(part.chunk), uidChunk(part.chunk)]) {
        if (!this.chunkColumns.has(table)) continue;
        if (others)
          await this.session.run(sql`DELETE FROM ${ident(table)} WHERE file_id = ${lit(fileId)}`.text);
        else {
          await this.session.run(sql`DROP TABLE ${ident(table)}`.text);
          this.chunkColumns.delete(table);
        }
      }
      await this.db.removeChunkPart(part.chunk, fileId);
      await this.db.putChunkStats(part.chunk, undefined);
    }
    this.chunks = this.chunks.filter((c) => c.fileId !== fileId);
    this.files.delete(fileId);
    this.partial.delete(fileId);
    await this.db.removeFile(fileId);
    await this.newGeneration();
  }

  nextChunk(): number {
    let next = 0;
    for (const c of this.chunks) next = Math.max(next, c.chunk + 1);
    for (const table of this.chunkColumns.keys()) next = Math.max(next, Number(table.split('_')[1]) + 1);
    return next;
  }

  nextFileId(): number {
    let next = 0;
    for (const id of this.files.keys()) next = Math.max(next, id + 1);
    return next;
  }

  /** Names new fields' columns (unique when case is ignored) and records their first kinds. */
  async nameColumns(output: readonly OutputColumn[]): Promise<NamedColumn[]> {
    const byPath = new Map(this.columns.map((c) => [`${c.role === 'scalar' ? 's' : 'l'}:${c.path}`, c]));
    const taken = new Set(this.columns.map((c) => c.name.toLowerCase()));
    const added: IndexColumn[] = [];
    const named: NamedColumn[] = [];
    for (const column of output) {
      const key = `${column.role === 'scalar' ? 's' : 'l'}:${column.path}`;
      let known = byPath.get(key);
      if (!known) {
        let name = column.path;
        for (let n = 2; taken.has(name.toLowerCase()) || RESERVED.has(name.toLowerCase()); n++)
          name = `${column.path}~${n}`;
        taken.add(name.toLowerCase());
        known = { name, path: column.path, role: column.role, firstKind: column.firstKind };
        byPath.set(key, known);
        added.push(known);
      } else if (known.firstKind === undefined && column.firstKind !== undefined) {
        known.firstKind = column.firstKind;
        await this.db.setFirstKind(known.name, column.firstKind);
      }
      named.push({ ...column, name: known.name });
    }
    await this.db.addColumns(added, this.columns.length);
    this.columns.push(...added);
    return named;
  }

  /**
   * A new chunk's per-uid rows, then its bookkeeping with `bookkeeping` (each file's) in one
   * transaction. The chunk tables are written outside it (DuckDB holds a transaction's large
   * writes in memory until it commits); a chunk no bookkeeping refers to — a command interrupted
   * in between — is dropped at the next open, and on a failure here at once.
   */
  async commitChunk(
    result: ChunkResult,
    bookkeeping: (counts: Map<number, { rows: number; uidRows: number }>) => Promise<void>,
  ): Promise<void> {
    try {
      const table = eventsChunk(result.chunk);
      const select = uidRowsSelect(table, result.columns);
      const uidCounts = new Map<number, number>();
      if (select) {
        await this.session.run(sql`CREATE TABLE ${ident(uidChunk(result.chunk))} AS ${select}`.text);
        for (const r of await this.session.all<{ file_id: number; n: number }>(
          sql`SELECT file_id, CAST(count(*) AS DOUBLE) AS n FROM ${ident(uidChunk(result.chunk))} GROUP BY file_id`
            .text,
        ))
          uidCounts.set(r.file_id, r.n);
      }
      const parts: ChunkPart[] = result.parts
        .filter((p) => p.rows > 0)
        .map((p) => ({
          chunk: result.chunk,
          fileId: p.fileId,
          rows: p.rows,
          uidRows: uidCounts.get(p.fileId) ?? 0,
        }));
      await this.transaction(async () => {
        await this.db.putChunkParts(parts);
        await this.newGeneration();
        await this.renewToken(result.chunk);
        this.chunks.push(...parts);
        for (const name of [table, uidChunk(result.chunk)]) await this.loadChunkColumns(name);
        await bookkeeping(new Map(parts.map((p) => [p.fileId, { rows: p.rows, uidRows: p.uidRows }])));
        return { commit: true };
      });
    } catch (error) {
      await this.dropChunkTables(result.chunk);
      throw error;
    }
  }

  /** Drops a chunk's tables (a chunk no bookkeeping refers to). */
  async dropChunkTables(chunk: number): Promise<void> {
    for (const table of [eventsChunk(chunk), uidChunk(chunk)]) {
      await this.session.run(sql`DROP TABLE IF EXISTS ${ident(table)}`.text);
      this.chunkColumns.delete(table);
    }
  }

  private async loadChunkColumns(table: string): Promise<void> {
    const rows = await this.session.all<{ column_name: string; data_type: string }>(
      sql`SELECT column_name, data_type FROM duckdb_columns()
          WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ${lit(table)}`
        .text,
    );
    if (rows.length)
      this.chunkColumns.set(table, new Map(rows.map((r) => [r.column_name, r.data_type as StoredType])));
  }

  /**
   * Order statistics of the x candidates over the new rows of files (each file's rows with
   * rec ≥ its fromRec), merged into what was known of each file: how often each goes down within
   * a file tells a clock from a counter that resets. One query per x candidate for all the files
   * of a read (one per file was 864 statements, 8.5 s, for the 433 files of a 27 GB RL run).
   */
  async updateOrder(files: readonly { fileId: number; fromRec: number }[]): Promise<void> {
    if (!files.length) return;
    const ids = new Set(files.map((f) => f.fileId));
    const all = await this.db.orderRows();
    const previous = (fileId: number, column: string) =>
      all.find((r) => r.fileId === fileId && r.column === column);
    const next = new Map<number, OrderRow[]>(files.map((f) => [f.fileId, []]));
    const chunks = [...new Set(this.chunks.filter((c) => ids.has(c.fileId)).map((c) => c.chunk))];
    const from = sql`(VALUES ${files.map((f) => sql`(${[lit(f.fileId), lit(f.fromRec)]})`)}) AS __from(file_id, from_rec)`;
    for (const column of this.columns.filter((c) => c.role === 'scalar' && X_CANDIDATES.includes(c.path))) {
      const branches = chunks.flatMap((chunk) => {
        const stored = this.chunkColumns.get(eventsChunk(chunk))?.get(column.name);
        if (!stored) return [];
        const value = toCanonical(ident(column.name), stored, 'DOUBLE');
        return [
          sql`SELECT file_id, rec, ${value} AS v FROM ${ident(eventsChunk(chunk))} JOIN ${from} USING (file_id) WHERE rec >= from_rec`,
        ];
      });
      const stats = branches.length
        ? await this.session.all<Omit<OrderRow, 'column'>>(
            sql`SELECT file_id AS "fileId", CAST(count(*) AS DOUBLE) AS present,
              CAST(count(*) FILTER (WHERE v < prev) AS DOUBLE) AS decreases,
              arg_min(v, rec) AS first, arg_max(v, rec) AS last, min(v) AS min, max(v) AS max
              FROM (SELECT file_id, rec, v, lag(v) OVER (PARTITION BY file_id ORDER BY rec) AS prev
                    FROM (${join(branches, ' UNION ALL ')}) WHERE isfinite(v))
              GROUP BY file_id`.text,
          )
        : [];
      const statOf = new Map(stats.map((s) => [s.fileId, s]));
      for (const { fileId, fromRec } of files) {
        const before = previous(fileId, column.path);
        const stat = statOf.get(fileId);
        const rows = next.get(fileId)!;
        if (!stat || stat.present === 0) {
          if (before) rows.push(before);
        } else if (!before || fromRec === 0) rows.push({ ...stat, column: column.path });
        else
          rows.push({
            fileId,
            column: column.path,
            present: before.present + stat.present,
            decreases:
              before.decreases +
              stat.decreases +
              (before.last !== null && stat.first !== null && stat.first < before.last ? 1 : 0),
            first: before.first ?? stat.first,
            last: stat.last,
            min: Math.min(before.min ?? Infinity, stat.min ?? Infinity),
            max: Math.max(before.max ?? -Infinity, stat.max ?? -Infinity),
          });
      }
    }
    for (const [fileId, rows] of next) await this.db.putOrderRows(fileId, rows);
  }

  /**
   * Runs `work` in one transaction: committed when it says so, else rolled back (and what this
   * object holds in memory read again from the database). Throws what `work` throws, rolled back.
   */
  async transaction<T extends { commit: boolean }>(work: () => Promise<T>): Promise<T> {
    await this.session.run('BEGIN TRANSACTION');
    let outcome: T;
    try {
      outcome = await work();
    } catch (error) {
      await this.rollback();
      throw error;
    }
    if (outcome.commit) await this.session.run('COMMIT');
    else await this.rollback();
    return outcome;
  }

  private async rollback(): Promise<void> {
    await this.session.run('ROLLBACK');
    await this.load();
  }

  /** Keeps a file's bookkeeping, with the hashes of the start and end of what was indexed of it. */
  async saveFile(file: IndexedFile): Promise<void> {
    const identified = { ...file, ...identity(file.path, file.indexedBytes) };
    this.files.set(file.fileId, identified);
    await this.db.putFile(identified);
  }

  async addProblems(fileId: number, problems: readonly Omit<ReadProblem, 'file'>[]): Promise<void> {
    await this.db.addProblems(fileId, problems);
  }

  /** The line of a partial last line found before its file's lines were counted. */
  numberPartialLine(fileId: number, line: number): void {
    const partial = this.partial.get(fileId);
    if (partial && partial.line === 0) partial.line = line;
  }

  setPartial(line: PartialLine | undefined, fileId: number): void {
    if (line) this.partial.set(fileId, line);
    else this.partial.delete(fileId);
  }
}

/** Names the index uses for its own columns. */
const RESERVED: ReadonlySet<string> = new Set(['__file', 'file_id', 'rec', 'line', 'ord', 'x', 'task']);

async function dropEverything(session: Session): Promise<void> {
  const tables = await session.all<{ table_name: string }>(
    `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`,
  );
  for (const t of tables) await session.run(sql`DROP TABLE IF EXISTS ${ident(t.table_name)}`.text);
  const views = await session.all<{ view_name: string }>(
    `SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal`,
  );
  for (const v of views) await session.run(sql`DROP VIEW IF EXISTS ${ident(v.view_name)}`.text);
}

export type { ProblemKind };
