import type { Layout } from '../formats/probe.js';
import type { ProblemKind, ReadProblem } from '../formats/problems.js';
import type { Profile } from '../formats/profile.js';
import type { ValueKind } from '../formats/shape.js';
import type { ColumnRole } from './normalize-sql.js';
import type { Session } from './session.js';
import { ident, lit, sql, type Sql } from './sql.js';

/**
 * The run index's bookkeeping, in tables of the index database beside its chunks: the files read
 * (with their identity, so a later look reads only what changed), the chunks holding their rows,
 * the problems found, the columns (each field's column name and first type) and the order
 * statistics of the x candidates. Read into memory at open, written as the index changes.
 */

/** Version of the index layout; an index of another version is built again. */
export const INDEX_FORMAT = '3';

export interface IndexedFile {
  fileId: number;
  path: string;
  /** Path relative to the run root, as shown to the user. */
  name: string;
  container: 'jsonl' | 'json' | 'csv';
  gzip: boolean;
  layout: Layout;
  size: number;
  mtimeMs: number;
  ino: number;
  /** Hash of the first KiB: finds the file again after a rotation renamed it. */
  headHash: string;
  /** Bytes read (for JSON lines, up to the end of the last complete line read). */
  indexedBytes: number;
  /** Hash of the KiB before indexedBytes: tells an append from a rewrite. */
  tailHash: string;
  /** Good records stored (their rec is 0 … rows − 1). */
  rows: number;
  /** Lines consumed (JSON lines): the next record starts after this line. */
  lines: number;
  profile: Profile;
  votes: Record<Profile, number>;
  problems: Partial<Record<ProblemKind, number>>;
}

export interface ChunkPart {
  chunk: number;
  fileId: number;
  rows: number;
  uidRows: number;
}

export interface IndexColumn {
  /** Column name in the index (unique when case is ignored, as DuckDB requires). */
  name: string;
  /** The field's dotted path. */
  path: string;
  role: ColumnRole;
  /** Kind of the first value that decided a type (for lists: of their items). */
  firstKind: ValueKind | undefined;
}

export interface OrderRow {
  fileId: number;
  column: string;
  present: number;
  decreases: number;
  first: number | null;
  last: number | null;
  min: number | null;
  max: number | null;
}

const TABLES: Sql[] = [
  sql`CREATE TABLE IF NOT EXISTS runlens_meta (key VARCHAR, value VARCHAR)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_files (file_id INTEGER, path VARCHAR, name VARCHAR, container VARCHAR,
    gzip BOOLEAN, layout VARCHAR, size DOUBLE, mtime_ms DOUBLE, ino DOUBLE, head_hash VARCHAR,
    indexed_bytes DOUBLE, tail_hash VARCHAR, rows DOUBLE, lines DOUBLE, profile VARCHAR, votes VARCHAR,
    problems VARCHAR)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_chunks (chunk INTEGER, file_id INTEGER, rows DOUBLE, uid_rows DOUBLE)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_problems (file_id INTEGER, line DOUBLE, kind VARCHAR, message VARCHAR)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_columns (seq INTEGER, name VARCHAR, path VARCHAR, role VARCHAR, first_kind VARCHAR)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_chunk_stats (chunk INTEGER, stats VARCHAR)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_member_checks (file_id INTEGER, bytes DOUBLE)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_extra_shapes (path VARCHAR, shape VARCHAR)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_answers (key VARCHAR, state VARCHAR, value VARCHAR)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_range_answers (key VARCHAR, state VARCHAR, seq BIGINT, value VARCHAR, chars BIGINT)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_chunk_tokens (chunk INTEGER, token VARCHAR)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_part_x (part VARCHAR, shape VARCHAR, xmin DOUBLE, xmax DOUBLE)`,
  sql`CREATE TABLE IF NOT EXISTS runlens_order (file_id INTEGER, "column" VARCHAR, present DOUBLE,
    decreases DOUBLE, first DOUBLE, last DOUBLE, min DOUBLE, max DOUBLE)`,
];

/** Problems kept with their details per file (all are counted). */
export const PROBLEM_DETAILS_PER_FILE = 200;

export class IndexDb {
  constructor(private readonly session: Session) {}

  async create(): Promise<void> {
    for (const statement of TABLES) await this.session.run(statement.text);
  }

  async meta(key: string): Promise<string | undefined> {
    const row = await this.session.one<{ value: string }>(
      sql`SELECT value FROM runlens_meta WHERE key = ${lit(key)}`.text,
    );
    return row?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.session.run(sql`DELETE FROM runlens_meta WHERE key = ${lit(key)}`.text);
    await this.session.run(sql`INSERT INTO runlens_meta VALUES (${lit(key)}, ${lit(value)})`.text);
  }

  async files(): Promise<IndexedFile[]> {
    const rows = await this.session.all<Record<string, unknown>>(
      'SELECT * FROM runlens_files ORDER BY file_id',
    );
    return rows.map((r) => ({
      fileId: r.file_id as number,
      path: r.path as string,
      name: r.name as string,
      container: r.container as IndexedFile['container'],
      gzip: r.gzip as boolean,
      layout: r.layout as Layout,
      size: r.size as number,
      mtimeMs: r.mtime_ms as number,
      ino: r.ino as number,
      headHash: r.head_hash as string,
      indexedBytes: r.indexed_bytes as number,
      tailHash: r.tail_hash as string,
      rows: r.rows as number,
      lines: r.lines as number,
      profile: r.profile as Profile,
      votes: JSON.parse(r.votes as string) as Record<Profile, number>,
      problems: JSON.parse(r.problems as string) as IndexedFile['problems'],
    }));
  }

  async putFile(f: IndexedFile): Promise<void> {
    await this.session.run(sql`DELETE FROM runlens_files WHERE file_id = ${lit(f.fileId)}`.text);
    await this.session.run(
      sql`INSERT INTO runlens_files VALUES (${[
        lit(f.fileId),
        lit(f.path),
        lit(f.name),
        lit(f.container),
        lit(f.gzip),
        lit(f.layout),
        lit(f.size),
        lit(f.mtimeMs),
        lit(f.ino),
        lit(f.headHash),
        lit(f.indexedBytes),
        lit(f.tailHash),
        lit(f.rows),
        lit(f.lines),
        lit(f.profile),
        lit(JSON.stringify(f.votes)),
        lit(JSON.stringify(f.problems)),
      ]})`.text,
    );
  }

  async removeFile(fileId: number): Promise<void> {
    for (const table of ['runlens_files', 'runlens_problems', 'runlens_order', 'runlens_member_checks'])
      await this.session.run(sql`DELETE FROM ${ident(table)} WHERE file_id = ${lit(fileId)}`.text);
  }

  async chunks(): Promise<ChunkPart[]> {
    const rows = await this.session.all<{ chunk: number; file_id: number; rows: number; uid_rows: number }>(
      'SELECT * FROM runlens_chunks ORDER BY chunk, file_id',
    );
    return rows.map((r) => ({ chunk: r.chunk, fileId: r.file_id, rows: r.rows, uidRows: r.uid_rows }));
  }

  async putChunkParts(parts: readonly ChunkPart[]): Promise<void> {
    if (!parts.length) return;
    await this.session.run(
      sql`INSERT INTO runlens_chunks VALUES ${parts.map((p) => sql`(${[lit(p.chunk), lit(p.fileId), lit(p.rows), lit(p.uidRows)]})`)}`
        .text,
    );
  }

  async removeChunkPart(chunk: number, fileId: number): Promise<void> {
    await this.session.run(
      sql`DELETE FROM runlens_chunks WHERE chunk = ${lit(chunk)} AND file_id = ${lit(fileId)}`.text,
    );
  }

  /** Each chunk's token, made when it is written (range answers, range-state.ts). */
  async chunkTokens(): Promise<Map<number, string>> {
    const rows = await this.session.all<{ chunk: number; token: string }>(
      'SELECT chunk, token FROM runlens_chunk_tokens',
    );
    return new Map(rows.map((r) => [r.chunk, r.token]));
  }

  async setChunkToken(chunk: number, token: string | undefined): Promise<void> {
    const before = await this.session.one<{ token: string }>(
      sql`SELECT token FROM runlens_chunk_tokens WHERE chunk = ${lit(chunk)}`.text,
    );
    // The x bounds of the chunk's parts go with its token.
    if (before)
      await this.session.run(
        sql`DELETE FROM runlens_part_x WHERE starts_with(part, ${lit(`${before.token}/`)})`.text,
      );
    await this.session.run(sql`DELETE FROM runlens_chunk_tokens WHERE chunk = ${lit(chunk)}`.text);
    if (token !== undefined)
      await this.session.run(
        sql`INSERT INTO runlens_chunk_tokens VALUES (${lit(chunk)}, ${lit(token)})`.text,
      );
  }

  async problems(limit: number): Promise<(Omit<ReadProblem, 'file'> & { fileId: number })[]> {
    const rows = await this.session.all<{ file_id: number; line: number; kind: string; message: string }>(
      sql`SELECT * FROM runlens_problems ORDER BY file_id, line LIMIT ${lit(limit)}`.text,
    );
    return rows.map((r) => ({
      fileId: r.file_id,
      line: r.line,
      kind: r.kind as ProblemKind,
      message: r.message,
    }));
  }

  async addProblems(fileId: number, problems: readonly Omit<ReadProblem, 'file'>[]): Promise<void> {
    const kept = await this.session.one<{ n: number }>(
      sql`SELECT CAST(count(*) AS INTEGER) AS n FROM runlens_problems WHERE file_id = ${lit(fileId)}`.text,
    );
    const room = Math.max(0, PROBLEM_DETAILS_PER_FILE - (kept?.n ?? 0));
    const rows = problems.slice(0, room);
    if (!rows.length) return;
    await this.session.run(
      sql`INSERT INTO runlens_problems VALUES ${rows.map((p) => sql`(${[lit(fileId), lit(p.line), lit(p.kind), lit(p.message)]})`)}`
        .text,
    );
  }

  async columns(): Promise<IndexColumn[]> {
    const rows = await this.session.all<{
      name: string;
      path: string;
      role: string;
      first_kind: string | null;
    }>('SELECT name, path, role, first_kind FROM runlens_columns ORDER BY seq');
    return rows.map((r) => ({
      name: r.name,
      path: r.path,
      role: r.role as ColumnRole,
      firstKind: (r.first_kind ?? undefined) as ValueKind | undefined,
    }));
  }

  async addColumns(columns: readonly IndexColumn[], firstSeq: number): Promise<void> {
    if (!columns.length) return;
    await this.session.run(
      sql`INSERT INTO runlens_columns VALUES ${columns.map(
        (c, i) =>
          sql`(${[lit(firstSeq + i), lit(c.name), lit(c.path), lit(c.role), lit(c.firstKind ?? null)]})`,
      )}`.text,
    );
  }

  async setFirstKind(name: string, kind: ValueKind): Promise<void> {
    await this.session.run(
      sql`UPDATE runlens_columns SET first_kind = ${lit(kind)} WHERE name = ${lit(name)} AND first_kind IS NULL`
        .text,
    );
  }

  /** Bytes of a file whose every record's members were checked against the index's columns. */
  async memberChecked(fileId: number): Promise<number> {
    const row = await this.session.one<{ bytes: number }>(
      sql`SELECT bytes FROM runlens_member_checks WHERE file_id = ${lit(fileId)}`.text,
    );
    return row?.bytes ?? 0;
  }

  async setMemberChecked(fileId: number, bytes: number): Promise<void> {
    await this.session.run(sql`DELETE FROM runlens_member_checks WHERE file_id = ${lit(fileId)}`.text);
    await this.session.run(
      sql`INSERT INTO runlens_member_checks VALUES (${lit(fileId)}, ${lit(bytes)})`.text,
    );
  }

  /** Members found in a file's records beyond what its probe saw (see RunIndex.checkMembers). */
  async extraShape(path: string): Promise<string | undefined> {
    const row = await this.session.one<{ shape: string }>(
      sql`SELECT shape FROM runlens_extra_shapes WHERE path = ${lit(path)}`.text,
    );
    return row?.shape;
  }

  async setExtraShape(path: string, shape: string): Promise<void> {
    await this.session.run(sql`DELETE FROM runlens_extra_shapes WHERE path = ${lit(path)}`.text);
    await this.session.run(sql`INSERT INTO runlens_extra_shapes VALUES (${lit(path)}, ${lit(shape)})`.text);
  }

  /** A chunk's field statistics (field-catalog.ts), as kept; undefined when not counted yet. */
  async chunkStats(chunk: number): Promise<unknown[] | undefined> {
    const row = await this.session.one<{ stats: string }>(
      sql`SELECT stats FROM runlens_chunk_stats WHERE chunk = ${lit(chunk)}`.text,
    );
    return row ? (JSON.parse(row.stats) as unknown[]) : undefined;
  }

  async putChunkStats(chunk: number, stats: readonly unknown[] | undefined): Promise<void> {
    await this.session.run(sql`DELETE FROM runlens_chunk_stats WHERE chunk = ${lit(chunk)}`.text);
    if (stats)
      await this.session.run(
        sql`INSERT INTO runlens_chunk_stats VALUES (${lit(chunk)}, ${lit(JSON.stringify(stats))})`.text,
      );
  }

  async orderRows(): Promise<OrderRow[]> {
    const rows = await this.session.all<Record<string, number | string | null>>(
      'SELECT * FROM runlens_order',
    );
    return rows.map((r) => ({
      fileId: r.file_id as number,
      column: r.column as string,
      present: r.present as number,
      decreases: r.decreases as number,
      first: r.first as number | null,
      last: r.last as number | null,
      min: r.min as number | null,
      max: r.max as number | null,
    }));
  }

  async putOrderRows(fileId: number, rows: readonly OrderRow[]): Promise<void> {
    await this.session.run(sql`DELETE FROM runlens_order WHERE file_id = ${lit(fileId)}`.text);
    if (!rows.length) return;
    await this.session.run(
      sql`INSERT INTO runlens_order VALUES ${rows.map(
        (r) =>
          sql`(${[lit(r.fileId), lit(r.column), lit(r.present), lit(r.decreases), lit(r.first), lit(r.last), lit(r.min), lit(r.max)]})`,
      )}`.text,
    );
  }
}
