import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { trackTemp, untrackTemp } from '../temp-files.js';

export interface SessionOptions {
  /** A database file for large runs (data spills to disk); in memory when omitted. */
  databasePath?: string;
  /** DuckDB's memory limit, e.g. '512MB'. Bounds the engine's memory whatever the input size. */
  memoryLimit?: string;
  threads?: number;
  tempDirectory?: string;
  /** Keep the database file when the session closes (a cached run index). */
  keep?: boolean;
  /** Rows per row group of a database file's tables (rowGroupRows); DuckDB's 122,880 when omitted. */
  rowGroupSize?: number;
}

/** DuckDB's own row group size: the largest a table gets. */
const MAX_ROW_GROUP_ROWS = 122_880;
/** JSON text a row group of the index holds at most, about (see rowGroupRows). */
const ROW_GROUP_JSON_BYTES = 128 << 20;
/** The name a session's database file is attached under. */
const DATABASE = 'runlens_index';

/**
 * Rows per row group for records of about `recordBytes` of JSON: DuckDB keeps a table's row group
 * in memory until it is full (at 122,880 rows), so wide records need fewer. An OpenValidators 1 GB
 * log (66 k records of 15 kB) was one row group: its read peaked at 0.8–1.0 GB RSS under a 320 MB
 * limit in 17 s; in groups of 8,192 rows, 0.54 GB in 11–12 s.
 */
export function rowGroupRows(recordBytes: number): number {
  const rows = Math.floor(ROW_GROUP_JSON_BYTES / Math.max(1, recordBytes) / 2048) * 2048;
  return Math.max(2048, Math.min(MAX_ROW_GROUP_ROWS, rows));
}

export type Row = Record<string, unknown>;

/** What an aggregate needs of where its SQL runs: the run's DuckDB, or a ClickHouse fleet. */
export interface QuerySession {
  all<T extends Row = Row>(sql: string): Promise<T[]>;
  one<T extends Row = Row>(sql: string): Promise<T | undefined>;
  /** The result as one array per column. */
  columns(sql: string): Promise<Record<string, unknown[]>>;
}

/**
 * DuckDB's memory limit for work over large runs (on-disk sessions, export's final writer):
 * 320 MB, or `RUNLENS_MEMORY_LIMIT` on machines with memory to spare.
 */
export function boundedMemoryLimit(): string {
  return process.env.RUNLENS_MEMORY_LIMIT ?? '320MB';
}

/** One embedded DuckDB database and connection. Heavy work happens here, in SQL. */
export class Session {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    private readonly ownedFiles: string[],
    private readonly memoryLimit: string,
    private readonly onDisk: boolean,
    /** A second connection to another session's database (see fork): closing it closes only it. */
    private readonly forked = false,
  ) {}

  /**
   * Another connection to the same database, for queries that run while this session works (the
   * dashboard charts what is indexed so far while the rest is read). It sees what is committed.
   */
  async fork(): Promise<Session> {
    const connection = await this.instance.connect();
    if (this.onDisk) await connection.run(`USE ${DATABASE}`);
    return new Session(this.instance, connection, [], this.memoryLimit, this.onDisk, true);
  }

  static async create(options: SessionOptions = {}): Promise<Session> {
    const owned: string[] = [];
    // Each session spills to its own directory: closing one must never delete another's files.
    const tempDirectory = options.tempDirectory ?? fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-spill-'));
    const config: Record<string, string> = {
      memory_limit: options.memoryLimit ?? process.env.RUNLENS_MEMORY_LIMIT ?? '512MB',
      threads: String(options.threads ?? Math.max(1, Math.min(os.availableParallelism(), 4))),
      temp_directory: tempDirectory,
      preserve_insertion_order: 'false',
      // DuckDB keeps what it reads from external files (logs, export's staged parquet files) in its
      // buffer pool, up to the memory limit, for a re-read that never comes: every file here is
      // read once.
      enable_external_file_cache: 'false',
    };
    // Loaded here, not at the top: commands answered by the scanners never open a session.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    if (options.databasePath) {
      // Attached rather than opened, so that its row group size can be set.
      const rows = options.rowGroupSize ?? MAX_ROW_GROUP_ROWS;
      try {
        await connection.run(
          `ATTACH ${quoteString(options.databasePath)} AS ${DATABASE} (ROW_GROUP_SIZE ${Math.round(rows)})`,
        );
        await connection.run(`USE ${DATABASE}`);
      } catch (error) {
        connection.closeSync();
        instance.closeSync();
        throw error;
      }
    }
    if (options.databasePath && !options.keep)
      owned.push(options.databasePath, `${options.databasePath}.wal`);
    owned.push(tempDirectory);
    for (const file of owned) trackTemp(file);
    // Progress of long statements (an index read) is polled, never printed by DuckDB.
    await connection.run('SET enable_progress_bar = true');
    await connection.run('SET enable_progress_bar_print = false');
    return new Session(instance, connection, owned, config.memory_limit, Boolean(options.databasePath));
  }

  /** A session backed by a temporary database file, removed on close: for runs larger than memory. */
  static async createOnDisk(options: Omit<SessionOptions, 'databasePath'> = {}): Promise<Session> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-'));
    trackTemp(dir);
    const session = await Session.create({
      // Peak RSS is about DuckDB's limit plus ~600 MB (Node, results, DuckDB memory outside its
      // buffer pool); 320 MB keeps large runs under 1 GB (a 1 GB FileTAO report: 1.15 GB at 512 MB,
      // 0.80 GB at 256 MB). RUNLENS_MEMORY_LIMIT raises it on machines with memory to spare.
      memoryLimit: boundedMemoryLimit(),
      ...options,
      databasePath: path.join(dir, 'run.duckdb'),
      tempDirectory: path.join(dir, 'tmp'),
    });
    // The file is deleted on close: a checkpoint at shutdown would only cost time and memory
    // (a 2 GB FileTAO run: 2.3 s and +300 MB RSS, the peak of the whole `inspect`).
    await session.run('PRAGMA disable_checkpoint_on_shutdown');
    return session;
  }

  /**
   * Hands memory back to the system between heavy steps of a database-file session: DuckDB evicts
   * its cached blocks (they are in the file) when its limit drops, and the process shrinks with it
   * (measured on a 2 GB FileTAO run: 570 → 210 MB after indexing). Without this, what one query
   * leaves behind adds to the next one's peak. The next query reads the blocks it needs again, from
   * the page cache. In-memory sessions keep their data: there is nothing to evict to.
   */
  async releaseMemory(): Promise<void> {
    // A fork shares the database's one limit with a session at work: it leaves it alone.
    if (!this.onDisk || this.forked) return;
    // Best effort: while another connection of the database holds memory (a part's query while
    // the rest is read), DuckDB refuses the low limit ("could not free up enough memory").
    await this.connection.run(`SET memory_limit = '16MB'`).catch(() => undefined);
    await this.connection.run(`SET memory_limit = ${quoteString(this.memoryLimit)}`);
  }

  /**
   * A statement; `values` bind its `?` parameters (text passed as a parameter is not parsed: a
   * long literal in the SQL text costs DuckDB's parser memory outside its limit).
   */
  async run(sql: string, values?: (string | number | boolean | null)[]): Promise<void> {
    const started = DEBUG_SQL ? performance.now() : 0;
    await this.connection.run(sql, values).catch((error: unknown) => failed(error, sql));
    if (DEBUG_SQL) debugSql(sql, started);
  }

  /** `run`, telling `onProgress` the fraction done (DuckDB's estimate) every 200 ms. */
  async runWithProgress(sql: string, onProgress?: (fraction: number) => void): Promise<void> {
    if (!onProgress) return this.run(sql);
    const timer = setInterval(() => {
      const percentage = this.connection.progress.percentage;
      if (percentage >= 0) onProgress(Math.min(1, percentage / 100));
    }, 200);
    try {
      await this.run(sql);
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * `work` with DuckDB keeping the order rows are read in (the index numbers records by it); off
   * otherwise, which lets aggregates and writes run freely on all threads.
   */
  async withInsertionOrder<T>(work: () => Promise<T>): Promise<T> {
    await this.connection.run('SET preserve_insertion_order = true');
    try {
      return await work();
    } finally {
      await this.connection.run('SET preserve_insertion_order = false');
    }
  }

  /** Rows as plain objects. Cast BIGINT/HUGEINT to DOUBLE or INTEGER in SQL to get numbers. */
  async all<T extends Row = Row>(sql: string): Promise<T[]> {
    const started = DEBUG_SQL ? performance.now() : 0;
    const reader = await this.connection.runAndReadAll(sql).catch((error: unknown) => failed(error, sql));
    if (DEBUG_SQL) debugSql(sql, started);
    return reader.getRowObjectsJS() as T[];
  }

  async one<T extends Row = Row>(sql: string): Promise<T | undefined> {
    return (await this.all<T>(sql))[0];
  }

  /** Column-major result, for larger results headed to charts. */
  async columns(sql: string): Promise<Record<string, unknown[]>> {
    const started = DEBUG_SQL ? performance.now() : 0;
    const reader = await this.connection.runAndReadAll(sql).catch((error: unknown) => failed(error, sql));
    if (DEBUG_SQL) debugSql(sql, started);
    return reader.getColumnsObjectJS() as Record<string, unknown[]>;
  }

  close(): void {
    try {
      this.connection.closeSync();
      if (this.forked) return;
      this.instance.closeSync();
    } catch (error) {
      failed(error, 'closing the database (its last checkpoint)');
    }
    for (const file of this.ownedFiles) {
      fs.rmSync(file, { recursive: true, force: true });
      untrackTemp(file);
    }
    const dir = this.ownedFiles[0] ? path.dirname(this.ownedFiles[0]) : undefined;
    if (dir && path.basename(dir).startsWith('runlens-')) {
      fs.rmSync(dir, { recursive: true, force: true });
      untrackTemp(dir);
    }
  }
}

/** Quotes an identifier for SQL (column names are dotted paths like `rewards.components.heal`). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The statement an engine error came from, on the error (`statement`) for its report. */
function failed(error: unknown, sql: string): never {
  if (error instanceof Error && !('statement' in error))
    Object.assign(error, { statement: sql.replace(/\s+/g, ' ').slice(0, 240) });
  throw error;
}

/** RUNLENS_DEBUG_SQL=1: every statement and its seconds on stderr. */
const DEBUG_SQL = process.env.RUNLENS_DEBUG_SQL === '1';

function debugSql(sql: string, started: number): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(3);
  process.stderr.write(
    `[sql ${seconds} s] ${sql.replace(/\s+/g, ' ').slice(0, Number(process.env.RUNLENS_DEBUG_SQL_CHARS ?? 160))}\n`,
  );
}
