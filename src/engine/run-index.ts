import crypto from 'node:crypto';
import fs from 'node:fs';
import type { LogFile } from '../formats/log-file.js';
import { noVotes, probeFile, type FileProbe } from '../formats/probe.js';
import { emptyShape, mergeShape, shapeAt, shapeFromJson, shapeToJson, type Shape } from '../formats/shape.js';
import { withByteRanges } from './byte-feed.js';
import { memberKeysSql, memberValuesSql, wholeRecords } from './normalize-sql.js';
import type { ProblemKind, ReadProblem } from '../formats/problems.js';
import { parseJsonRecord } from '../formats/json-record.js';
import { isPlainObject } from '../formats/record.js';
import type { Profile } from '../formats/profile.js';
import { majorityProfile } from './file-status.js';
import { toCanonical } from './canonical-sql.js';
import {
  IndexDb,
  INDEX_FORMAT,
  type ChunkPart,
  type IndexColumn,
  type IndexedFile,
  type OrderRow,
} from './index-db.js';
import {
  eventsChunk,
  FileReadError,
  readCareful,
  readTyped,
  uidChunk,
  type ChunkResult,
  type NamedColumn,
  type PartResult,
  type ReadPart,
} from './index-read.js';
import { X_CANDIDATES } from './candidates.js';
import type { OutputColumn, StoredType } from './normalize-sql.js';
import type { Session } from './session.js';
import { ident, join, lit, sql } from './sql.js';
import { uidRowsSelect } from './uid-rows-sql.js';

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
   * Read plain JSON lines files larger than this in parts of about this many bytes, each committed
   * as it is read (so what is indexed so far can be shown while a large run is read).
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

const IDENTITY_BYTES = 1024;

/** Byte ranges (not whole files) are read from temporary copies of at most this size. */
const COPY_BYTES = 1 << 30;

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
  ) {}

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
    await index.load();
    return index;
  }

  private async load(): Promise<void> {
    this.files = new Map((await this.db.files()).map((f) => [f.fileId, f]));
    this.chunks = await this.db.chunks();
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
    const found = new Set<string>();
    for (const entry of [...this.files.values()]) {
      const file = files.find((f) => f.path === entry.path);
      const checked = await this.db.memberChecked(entry.fileId);
      if (!file || checked >= entry.indexedBytes || (entry.layout !== 'jsonl' && entry.layout !== 'array'))
        continue;
      const probe = await probeFile(file);
      const start = checked > 0 ? checked : probe.bom ? 3 : 0;
      if (entry.layout === 'array' && start > 0) continue;
      const range = { path: entry.path, start, end: entry.indexedBytes };
      const unknown = await withByteRanges([range], async ([path]) => {
        const records = wholeRecords([path], entry.layout as 'jsonl' | 'array', probe.loguru);
        const rows = await this.session.all<Record<string, string[] | null>>(
          memberKeysSql(records, objectPaths).text,
        );
        const paths = new Set<string>();
        for (const row of rows)
          [[], ...objectPaths].forEach((prefix, i) => {
            for (const key of row[`k${i}`] ?? []) {
              const member = [...prefix, key].join('.');
              if (!isKnown(member)) paths.add(member);
            }
          });
        // Members of members found (a new object's own members are in its values' shape).
        const fresh = [...paths].filter((p) => ![...paths].some((q) => p.startsWith(`${q}.`)));
        const shapes: Shape[] = [];
        for (const member of fresh) {
          const keys = member.split('.');
          const values = await this.session.all<{ v: string }>(memberValuesSql(records, keys, 400).text);
          shapes.push(
            shapeAt(
              keys,
              values.map((r) => parseJsonRecord(r.v)),
            ),
          );
        }
        return { paths: fresh, shapes };
      });
      if (!unknown.paths.length) {
        await this.db.setMemberChecked(entry.fileId, entry.indexedBytes);
        continue;
      }
      const extra = (await this.extraShape(entry.path)) ?? emptyShape();
      for (const shape of unknown.shapes) mergeShape(extra, shape);
      await this.db.setExtraShape(entry.path, JSON.stringify(shapeToJson(extra)));
      for (const p of unknown.paths) found.add(p);
      await this.dropFile(entry.fileId);
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
    const plan = this.plan(files, change);
    // New files take ids above every id the index holds now, before any is dropped and reused.
    plan.nextFileId = this.nextFileId();
    for (const fileId of plan.drop) await this.dropFile(fileId);
    const reader = new UpdateReader(this, files, plan, options, change);
    await reader.run();
    return change;
  }

  /**
   * What to read: for each file found, its known entry when what was indexed of it is still its
   * start (nothing, or the appended bytes, to read), else the entry of a file whose indexed bytes
   * it now begins with (renamed by a rotation), else a new read; entries left unmatched are dropped.
   */
  private plan(files: readonly LogFile[], change: IndexChange): UpdatePlan {
    const byPath = new Map([...this.files.values()].map((f) => [f.path, f]));
    const matched = new Set<number>();
    const plan: UpdatePlan = { drop: [], reads: [] };
    const pending: { file: LogFile; stat: fs.Stats; displaced?: IndexedFile }[] = [];
    for (const file of files) {
      const stat = statOrUndefined(file.path);
      if (!stat) continue;
      const known = byPath.get(file.path);
      if (known && (unchanged(known, stat) || sameStart(known, file, stat))) {
        matched.add(known.fileId);
        this.planKnown(known, file, stat, plan, change);
      } else pending.push({ file, stat, displaced: known });
    }
    const unplaced: typeof pending = [];
    for (const item of pending) {
      const moved = [...this.files.values()].find(
        (f) => !matched.has(f.fileId) && sameStart(f, item.file, item.stat),
      );
      if (!moved) {
        unplaced.push(item);
        continue;
      }
      matched.add(moved.fileId);
      moved.path = item.file.path;
      moved.name = item.file.name;
      plan.reads.push({ kind: 'renamed', file: item.file, stat: item.stat, known: moved });
      this.planKnown(moved, item.file, item.stat, plan, change);
    }
    for (const { file, stat, displaced } of unplaced) {
      if (displaced && !matched.has(displaced.fileId)) {
        // Rewritten or truncated in place: read again under the same id.
        matched.add(displaced.fileId);
        change.reread.push(file.name);
        plan.drop.push(displaced.fileId);
        plan.reads.push({ kind: 'full', file, stat, reuseId: displaced.fileId });
        continue;
      }
      change.newFiles.push(file.name);
      plan.reads.push({ kind: 'full', file, stat });
    }
    for (const f of this.files.values())
      if (!matched.has(f.fileId)) {
        change.dropped.push(f.name);
        plan.drop.push(f.fileId);
      }
    return plan;
  }

  /** An entry whose indexed bytes the file still begins with: read nothing, or what was appended. */
  private planKnown(
    known: IndexedFile,
    file: LogFile,
    stat: fs.Stats,
    plan: UpdatePlan,
    change: IndexChange,
  ): void {
    known.name = file.name;
    const resumable = known.layout === 'jsonl' && !known.gzip;
    if (unchanged(known, stat)) {
      this.partial.delete(known.fileId);
      if (resumable && known.indexedBytes < stat.size) plan.reads.push({ kind: 'append', file, stat, known });
      return;
    }
    if (resumable && stat.size > known.indexedBytes) {
      change.appended.push(file.name);
      plan.reads.push({ kind: 'append', file, stat, known });
    } else if (resumable || stat.size === known.indexedBytes)
      plan.reads.push({ kind: 'touch', file, stat, known });
    else {
      // A file DuckDB reads whole (an array, gzip) that grew: read again.
      change.reread.push(file.name);
      plan.drop.push(known.fileId);
      plan.reads.push({ kind: 'full', file, stat, reuseId: known.fileId });
    }
  }

  /** Removes a file's rows from every chunk holding them. */
  async dropFile(fileId: number): Promise<void> {
    for (const part of this.chunks.filter((c) => c.fileId === fileId)) {
      const others = this.chunks.some((c) => c.chunk === part.chunk && c.fileId !== fileId);
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

  /** Bookkeeping after a chunk was written: its per-uid rows, parts, order statistics. */
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
   * Order statistics of the x candidates over a file's new rows (rec ≥ fromRec), merged into what
   * was known of the file: how often each goes down within the file tells a clock from a counter
   * that resets.
   */
  async updateOrder(fileId: number, fromRec: number): Promise<void> {
    const previous = (await this.db.orderRows()).filter((r) => r.fileId === fileId);
    const next: OrderRow[] = [];
    const chunks = [...new Set(this.chunks.filter((c) => c.fileId === fileId).map((c) => c.chunk))];
    for (const column of this.columns.filter((c) => c.role === 'scalar' && X_CANDIDATES.includes(c.path))) {
      const branches = chunks.flatMap((chunk) => {
        const stored = this.chunkColumns.get(eventsChunk(chunk))?.get(column.name);
        if (!stored) return [];
        const value = toCanonical(ident(column.name), stored, 'DOUBLE');
        return [
          sql`SELECT rec, ${value} AS v FROM ${ident(eventsChunk(chunk))} WHERE file_id = ${lit(fileId)} AND rec >= ${lit(fromRec)}`,
        ];
      });
      const before = previous.find((r) => r.column === column.path);
      if (!branches.length) {
        if (before) next.push(before);
        continue;
      }
      const stat = await this.session.one<Omit<OrderRow, 'fileId' | 'column'>>(
        sql`SELECT CAST(count(*) AS DOUBLE) AS present,
          CAST(count(*) FILTER (WHERE v < prev) AS DOUBLE) AS decreases,
          arg_min(v, rec) AS first, arg_max(v, rec) AS last, min(v) AS min, max(v) AS max
          FROM (SELECT rec, v, lag(v) OVER (ORDER BY rec) AS prev
                FROM (${join(branches, ' UNION ALL ')}) WHERE isfinite(v))`.text,
      );
      if (!stat || stat.present === 0) {
        if (before) next.push(before);
        continue;
      }
      if (!before || fromRec === 0) {
        next.push({ fileId, column: column.path, ...stat });
        continue;
      }
      next.push({
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
    await this.db.putOrderRows(fileId, next);
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

type PlannedRead =
  | { kind: 'full'; file: LogFile; stat: fs.Stats; reuseId?: number }
  | { kind: 'append' | 'touch' | 'renamed'; file: LogFile; stat: fs.Stats; known: IndexedFile };

interface UpdatePlan {
  drop: number[];
  reads: PlannedRead[];
  nextFileId?: number;
}

/** Carries out the reads of one update: typed reads in groups, careful reads one file at a time. */
class UpdateReader {
  private bytesDone = 0;
  private readonly bytesTotal: number;
  private rows = 0;

  constructor(
    private readonly index: RunIndex,
    private readonly files: readonly LogFile[],
    private readonly plan: UpdatePlan,
    private readonly options: UpdateOptions,
    private readonly change: IndexChange,
  ) {
    this.bytesTotal = plan.reads.reduce(
      (sum, r) =>
        sum +
        (r.kind === 'full'
          ? r.stat.size
          : r.kind === 'append'
            ? Math.max(0, r.stat.size - r.known.indexedBytes)
            : 0),
      0,
    );
  }

  private progress(fileName: string, extraBytes = 0): void {
    const fileIndex = Math.max(
      0,
      this.files.findIndex((f) => f.name === fileName),
    );
    this.options.onProgress?.({
      fileIndex,
      fileCount: this.files.length,
      fileName,
      bytesDone: Math.min(this.bytesTotal, this.bytesDone + extraBytes),
      bytesTotal: this.bytesTotal,
      rows: this.rows,
    });
  }

  async run(): Promise<void> {
    const typed: { part: ReadPart; read: PlannedRead; entry: IndexedFile }[] = [];
    const careful: { read: PlannedRead; entry: IndexedFile; startOffset: number }[] = [];
    for (const read of this.plan.reads) {
      if (read.kind === 'renamed' || read.kind === 'touch') {
        const known = read.known;
        await this.index.saveFile({
          ...known,
          size: read.stat.size,
          mtimeMs: read.stat.mtimeMs,
          ino: read.stat.ino,
        });
        continue;
      }
      if (read.kind === 'append') {
        const range = appendRange(read.known, read.stat.size);
        this.index.setPartial(range.partial, read.known.fileId);
        if (range.end <= read.known.indexedBytes) {
          await this.index.saveFile({
            ...read.known,
            size: read.stat.size,
            mtimeMs: read.stat.mtimeMs,
            ino: read.stat.ino,
          });
          continue;
        }
        const probe = await this.probe(read.file);
        typed.push({
          part: {
            fileId: read.known.fileId,
            range: { path: read.file.path, start: read.known.indexedBytes, end: range.end },
            layout: 'jsonl',
            recBase: read.known.rows,
            lineBase: read.known.lines,
            probe: { ...probe, loguru: read.known.layout === 'jsonl' && probe.loguru },
          },
          read,
          entry: { ...read.known, size: read.stat.size, mtimeMs: read.stat.mtimeMs, ino: read.stat.ino },
        });
        continue;
      }
      if (read.kind !== 'full') continue;
      const probe = await this.probe(read.file);
      const entry = newEntry(read, probe, read.reuseId ?? this.nextId());
      const range = fullRange(read.file, read.stat.size, probe);
      this.index.setPartial(range?.partial && { ...range.partial, fileId: entry.fileId }, entry.fileId);
      if (!range || probe.sampled === 0) careful.push({ read, entry, startOffset: 0 });
      else
        typed.push({
          part: {
            fileId: entry.fileId,
            range: range.range,
            layout: range.layout,
            recBase: 0,
            lineBase: 0,
            probe,
          },
          read,
          entry,
        });
    }
    // Large JSON lines files in parts, each committed before the next: when asked (to show what is
    // read so far), and for byte ranges, which are read from copies of at most COPY_BYTES.
    const partBytes = (t: (typeof typed)[number]): number | undefined => {
      const whole = t.part.range.start === 0 && t.part.range.end === t.read.stat.size;
      const limit = Math.min(this.options.chunkBytes ?? Infinity, whole ? Infinity : COPY_BYTES);
      return t.part.layout === 'jsonl' && t.part.range.end - t.part.range.start > limit * 1.5
        ? limit
        : undefined;
    };
    const inParts = typed.filter((t) => partBytes(t) !== undefined);
    // One statement per layout and wrapper: DuckDB reads the group's files in parallel.
    const groups = new Map<string, typeof typed>();
    for (const item of typed.filter((t) => !inParts.includes(t))) {
      const key = `${item.part.layout}:${item.part.probe.loguru}`;
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    for (const group of groups.values()) careful.push(...(await this.readGroup(group)));
    for (const item of inParts) careful.push(...(await this.readInParts(item, partBytes(item)!)));
    for (const item of careful) await this.readOneCarefully(item.read, item.entry, item.startOffset);
  }

  /** Reads one large JSON lines file as consecutive parts, each a chunk of its own. */
  private async readInParts(
    item: { part: ReadPart; read: PlannedRead; entry: IndexedFile },
    limit: number,
  ): Promise<{ read: PlannedRead; entry: IndexedFile; startOffset: number }[]> {
    const { range } = item.part;
    let start = range.start;
    let entry = item.entry;
    let part = item.part;
    while (start < range.end) {
      const end = lineEndAfter(range.path, Math.min(range.end, start + limit), range.end);
      const careful = await this.readGroup([
        { ...item, part: { ...part, range: { ...range, start, end } }, entry },
      ]);
      if (careful.length) return careful;
      entry = this.index.indexedFiles().find((f) => f.fileId === entry.fileId) ?? entry;
      part = { ...part, recBase: entry.rows, lineBase: entry.lines };
      start = end;
    }
    return [];
  }

  /** A file's probe, with the members a check of all its records found beyond an earlier probe. */
  private async probe(file: LogFile): Promise<FileProbe> {
    const probe = await probeFile(file);
    const extra = await this.index.extraShape(file.path);
    if (extra) mergeShape(probe.shape, extra);
    return probe;
  }

  private nextId(): number {
    this.plan.nextFileId ??= this.index.nextFileId();
    return this.plan.nextFileId++;
  }

  /** Reads a group with one typed statement; returns the files to read carefully instead. */
  private async readGroup(
    group: { part: ReadPart; read: PlannedRead; entry: IndexedFile }[],
  ): Promise<{ read: PlannedRead; entry: IndexedFile; startOffset: number }[]> {
    const careful: { read: PlannedRead; entry: IndexedFile; startOffset: number }[] = [];
    let pending = group;
    while (pending.length) {
      const bytes = pending.reduce((sum, g) => sum + g.part.range.end - g.part.range.start, 0);
      const chunk = this.index.nextChunk();
      let result: ChunkResult | undefined;
      let error: unknown;
      try {
        result = await readTyped(
          this.index.session,
          chunk,
          pending.map((g) => g.part),
          (columns) => this.index.nameColumns(columns),
          (fraction) => this.progress(pending[0].read.file.name, fraction * bytes),
        );
      } catch (failure) {
        error = failure;
        await this.index.dropChunkTables(chunk);
      }
      if (result) {
        const group = pending;
        await this.index.commitChunk(result, async (counts) => {
          for (const g of group) {
            const stored = counts.get(g.part.fileId)?.rows ?? 0;
            const entry: IndexedFile = {
              ...g.entry,
              indexedBytes: g.part.range.end,
              rows: g.entry.rows + stored,
              lines: g.part.lineBase + stored,
            };
            await this.finishFile(entry, g.part.recBase, stored, g.part.range.end - g.part.range.start);
          }
        });
        await this.options.onChunk?.();
        return careful;
      }
      if (error === undefined) {
        // Records DuckDB cannot declare (no keys): the JS readers read them.
        careful.push(...pending.map((g) => carefulFrom(g)));
        return careful;
      }
      if (process.env.RUNLENS_DEBUG_INDEX) process.stderr.write(`typed read failed: ${String(error)}\n`);
      const failed =
        error instanceof FileReadError
          ? pending.filter((g) => g.part.range.path === error.path)
          : pending.length === 1
            ? pending
            : [];
      if (!failed.length) {
        // DuckDB did not say which file: halve the group until it does.
        const half = Math.ceil(pending.length / 2);
        careful.push(...(await this.readGroup(pending.slice(0, half))));
        pending = pending.slice(half);
        continue;
      }
      careful.push(...failed.map((g) => carefulFrom(g)));
      pending = pending.filter((g) => !failed.includes(g));
    }
    return careful;
  }

  private async readOneCarefully(read: PlannedRead, entry: IndexedFile, startOffset: number): Promise<void> {
    // From the middle of a file (an append, or a part after the ones already read): what the index
    // holds of it so far comes first.
    const base =
      startOffset > 0 ? this.index.indexedFiles().find((f) => f.fileId === entry.fileId) : undefined;
    const chunk = this.index.nextChunk();
    const result = await readCareful(
      this.index.session,
      chunk,
      {
        fileId: entry.fileId,
        recBase: base?.rows ?? 0,
        lineBase: base?.lines ?? 0,
        file: read.file,
        startOffset: base ? startOffset : 0,
        holdPartial: this.options.live ?? false,
      },
      (columns) => this.index.nameColumns(columns),
    ).catch(async (error: unknown) => {
      await this.index.dropChunkTables(chunk);
      throw error;
    });
    const part: PartResult = result.parts[0];
    const careful = part.careful!;
    const bookkeeping = async (): Promise<void> => {
      const problems = careful.problems.filter((p) => !(p.kind === 'truncated' && this.options.live));
      // A partial last line is not stored as a problem: it may be complete at the next look.
      const truncated = problems.filter(
        (p) => p.kind === 'truncated' && entry.layout === 'jsonl' && !entry.gzip,
      );
      const kept = problems.filter((p) => !truncated.includes(p));
      await this.index.addProblems(entry.fileId, kept);
      const counts = { ...(base?.problems ?? entry.problems) };
      for (const p of kept) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
      const resumable = entry.layout === 'jsonl' && !entry.gzip && careful.position.offset > 0;
      this.index.setPartial(
        truncated[0] && {
          fileId: entry.fileId,
          line: truncated[0].line,
          bytes: read.stat.size - careful.position.offset,
        },
        entry.fileId,
      );
      const end = resumable ? careful.position.offset : read.stat.size;
      const votes = base ? addVotes(entry.votes, careful.votes) : careful.votes;
      const next: IndexedFile = {
        ...entry,
        votes,
        profile: majorityProfile(votes),
        problems: counts,
        indexedBytes: end,
        rows: (base?.rows ?? 0) + part.rows,
        lines: resumable ? careful.position.line : (base?.lines ?? 0) + part.rows,
      };
      await this.finishFile(next, base?.rows ?? 0, part.rows, read.stat.size - (base?.indexedBytes ?? 0));
      // The JS readers saw every record: its shape declared every member.
      await this.index.setMemberChecked(entry.fileId, next.indexedBytes);
    };
    if (result.chunk !== undefined) await this.index.commitChunk(result as ChunkResult, bookkeeping);
    else
      await this.index.transaction(async () => {
        await bookkeeping();
        return { commit: true };
      });
    await this.options.onChunk?.();
  }

  private async finishFile(
    entry: IndexedFile,
    fromRec: number,
    stored: number,
    bytes: number,
  ): Promise<void> {
    await this.index.saveFile(entry);
    this.index.numberPartialLine(entry.fileId, entry.lines + 1);
    await this.index.updateOrder(entry.fileId, fromRec);
    this.rows += stored;
    this.change.newRows += stored;
    this.change.bytesRead += bytes;
    this.bytesDone += bytes;
    this.progress(entry.name);
  }
}

/** A typed read that failed, to read carefully from where it started (a whole file from its start). */
function carefulFrom(g: { part: ReadPart; read: PlannedRead; entry: IndexedFile }) {
  const start = g.part.range.start;
  return { read: g.read, entry: g.entry, startOffset: g.part.recBase === 0 ? 0 : start };
}

function addVotes(a: Record<Profile, number>, b: Record<Profile, number>): Record<Profile, number> {
  const votes = noVotes();
  for (const key of Object.keys(votes) as Profile[]) votes[key] = (a[key] ?? 0) + (b[key] ?? 0);
  return votes;
}

function newEntry(read: PlannedRead, probe: FileProbe, fileId: number): IndexedFile {
  const file = read.file;
  return {
    fileId,
    path: file.path,
    name: file.name,
    container: file.container,
    gzip: file.gzip,
    layout: probe.layout,
    size: read.stat.size,
    mtimeMs: read.stat.mtimeMs,
    ino: read.stat.ino,
    headHash: '',
    indexedBytes: 0,
    tailHash: '',
    rows: 0,
    lines: 0,
    profile: majorityProfile(probe.votes),
    votes: probe.votes,
    problems: {},
  };
}

/**
 * The bytes of a whole file DuckDB reads with a typed read: all of it, after a byte order mark,
 * without a partial last line. Undefined when only the JS readers can read it.
 */
function fullRange(
  file: LogFile,
  size: number,
  probe: FileProbe,
):
  | {
      range: { path: string; start: number; end: number };
      layout: 'jsonl' | 'array';
      partial?: Omit<PartialLine, 'fileId'>;
    }
  | undefined {
  if (probe.layout !== 'jsonl' && probe.layout !== 'array') return undefined;
  if (file.gzip)
    return probe.bom ? undefined : { range: { path: file.path, start: 0, end: size }, layout: probe.layout };
  const start = probe.bom ? 3 : 0;
  if (probe.layout === 'array' || probe.endsWithNewline)
    return { range: { path: file.path, start, end: size }, layout: probe.layout };
  const tail = lastLine(file.path, size);
  if (!tail || isCompleteRecord(tail.text))
    return { range: { path: file.path, start, end: size }, layout: 'jsonl' };
  return {
    range: { path: file.path, start, end: Math.max(start, tail.start) },
    layout: 'jsonl',
    partial: { line: 0, bytes: size - tail.start },
  };
}

/** The bytes appended to a JSON lines file that are complete lines, and a partial last line. */
function appendRange(known: IndexedFile, size: number): { end: number; partial?: PartialLine } {
  const tail = lastLine(known.path, size, known.indexedBytes);
  if (!tail || isCompleteRecord(tail.text)) return { end: size };
  return { end: tail.start, partial: { fileId: known.fileId, line: 0, bytes: size - tail.start } };
}

/** The first offset after a newline at or after `from` (or `end`). */
function lineEndAfter(path: string, from: number, end: number): number {
  if (from >= end) return end;
  const fd = fs.openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    for (let at = from; at < end; at += buffer.length) {
      const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at);
      if (n <= 0) break;
      const newline = buffer.subarray(0, n).indexOf(10);
      if (newline >= 0) return at + newline + 1;
    }
    return end;
  } finally {
    fs.closeSync(fd);
  }
}

/** The text after the last newline of a file (undefined when it ends with one). */
function lastLine(path: string, size: number, from = 0): { start: number; text: string } | undefined {
  const fd = fs.openSync(path, 'r');
  try {
    const block = 1 << 16;
    let end = size;
    const parts: Buffer[] = [];
    while (end > from) {
      const start = Math.max(from, end - block);
      const buffer = Buffer.alloc(end - start);
      fs.readSync(fd, buffer, 0, buffer.length, start);
      const newline = buffer.lastIndexOf(10);
      if (newline >= 0) {
        if (newline === buffer.length - 1 && parts.length === 0) return undefined;
        parts.unshift(buffer.subarray(newline + 1));
        return { start: start + newline + 1, text: Buffer.concat(parts).toString('utf8') };
      }
      parts.unshift(buffer);
      end = start;
      if (size - end > 256 << 20) break;
    }
    return { start: from, text: Buffer.concat(parts).toString('utf8') };
  } finally {
    fs.closeSync(fd);
  }
}

function isCompleteRecord(text: string): boolean {
  try {
    return isPlainObject(parseJsonRecord(text.trim()));
  } catch {
    return false;
  }
}

/** Hashes of the first and last KiB of a file's first `indexed` bytes: what identifies what was read of it. */
function identity(path: string, indexed: number): { headHash: string; tailHash: string } {
  return {
    headHash: hashBytes(path, 0, Math.min(IDENTITY_BYTES, indexed)),
    tailHash: hashBytes(path, Math.max(0, indexed - IDENTITY_BYTES), Math.min(IDENTITY_BYTES, indexed)),
  };
}

/**
 * The same file at another path, or the same path grown: the bytes indexed of it are still its
 * first bytes (the first and last KiB of them unchanged).
 */
function sameStart(known: IndexedFile, file: LogFile, stat: fs.Stats): boolean {
  if (stat.size < known.indexedBytes || known.gzip !== file.gzip) return false;
  const now = identity(file.path, known.indexedBytes);
  return now.headHash === known.headHash && now.tailHash === known.tailHash;
}

function hashBytes(path: string, position: number, length: number): string {
  const fd = fs.openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.max(0, length));
    const n = fs.readSync(fd, buffer, 0, buffer.length, position);
    return crypto.createHash('sha1').update(buffer.subarray(0, n)).digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

/** Same size, modification time and inode as when it was read. */
function unchanged(known: IndexedFile, stat: fs.Stats): boolean {
  return stat.size === known.size && stat.mtimeMs === known.mtimeMs && stat.ino === known.ino;
}

function statOrUndefined(path: string): fs.Stats | undefined {
  try {
    return fs.statSync(path);
  } catch {
    return undefined;
  }
}

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
