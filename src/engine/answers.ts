import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { QuerySession, Row, Session } from './session.js';
import type { XSpan } from './range-state.js';
import { ident, lit, sql } from './sql.js';

/**
 * Answers kept in the index: what an aggregate's query returned, stored beside the rows it was
 * computed from, so that the next look at an unchanged run (a second `plot`, a dashboard restart)
 * reads the answer instead of scanning every row again. An answer is keyed by its query's text and
 * found only while the index is in the state it was computed in: the state names the index's
 * generation (a new one with every change of its rows) and the text of the views the query reads.
 * A query whose answer is missing runs as usual; nothing else changes.
 */

/** Larger answers are not kept (a 50 000-point sample is ~3 MB of JSON, kept gzipped: toKeep). */
const KEEP_CHARS = 32 * 1024 * 1024;
/** Range answers kept at most, newest first (they outlive generations: an append keeps most). */
const RANGE_KEEP_CHARS = 128 * 1024 * 1024;

export const ANSWERS_TABLE = 'runlens_answers';
export const RANGE_ANSWERS_TABLE = 'runlens_range_answers';

/**
 * Whether a session keeps answers per range of x: a cached run's whose x is a number (not a
 * temporary index's, a fleet's, or where x is the row ordinal).
 */
export async function keepsRangeAnswers(session: QuerySession): Promise<boolean> {
  return session instanceof Answers && (await session.keepsRanges());
}

/**
 * A query that reads only the rows with x in a range can be answered from what it returned while
 * those rows were the same, whatever changed elsewhere: after an append, every range before the
 * appended rows keeps its answer (range-state.ts says when the rows of a range are the same).
 */
export function columnsOverX(
  session: QuerySession,
  text: string,
  span: XSpan,
): Promise<Record<string, unknown[]>> {
  return session instanceof Answers ? session.columnsOverX(text, span) : session.columns(text);
}

type Kind = 'rows' | 'columns';

/** A QuerySession over the run's session that keeps its slow queries' answers in the index. */
export class Answers implements QuerySession {
  /** Queries faster than this are not worth a write to the index (tests set 0 to keep every one). */
  static keepSeconds = 0.05;

  /** Unreferenced answer files younger than this are left (another connection may be keeping one). */
  static sweepSeconds = 60;

  constructor(
    private readonly session: Session,
    /** The index's state now (generation and views); undefined: answers are not kept. */
    private readonly state: () => string | undefined,
    /** The state of the rows in a range of x; undefined: range answers are not kept. */
    private readonly rangeState?: (span: XSpan) => Promise<string | undefined>,
    /** The index's directory: large answers are kept in files there (answers/), not in DuckDB. */
    private readonly dir?: string,
  ) {}

  async keepsRanges(): Promise<boolean> {
    if (this.rangeState === undefined || this.state() === undefined) return false;
    return (await this.rangeState({ from: -Infinity, to: Infinity })) !== undefined;
  }

  /** columns(), for a query that reads only the rows with x in `span`: see columnsOverX. */
  async columnsOverX(text: string, span: XSpan): Promise<Record<string, unknown[]>> {
    const state = this.state() === undefined ? undefined : await this.rangeState?.(span);
    if (state === undefined) return this.columns(text);
    const key = answerKey('columns', text);
    const kept = await this.kept(RANGE_ANSWERS_TABLE, key, state);
    if (kept) return kept.value as Record<string, unknown[]>;
    const started = performance.now();
    const value = await this.session.columns(text);
    const encoded = toKeep(started, value);
    // Kept only when the range's rows did not change while the query ran (a dashboard reads a
    // live run); one answer per query, the newest up to RANGE_KEEP_CHARS in all.
    if (encoded === undefined || (await this.rangeState?.(span)) !== state) return value;
    const table = ident(RANGE_ANSWERS_TABLE);
    try {
      const stored = this.store(encoded, key, state);
      await this.session.run(
        sql`INSERT INTO ${table} SELECT ?, ?, coalesce(max(seq), 0) + 1, ?, ? FROM ${table}`.text,
        [key, state, stored.value, stored.chars],
      );
      await this.session.run(
        sql`DELETE FROM ${table} WHERE key = ${lit(key)} AND seq < (SELECT max(seq) FROM ${table} WHERE key = ${lit(key)})`
          .text,
      );
      await this.session.run(
        sql`DELETE FROM ${table} WHERE seq IN (
              SELECT seq FROM (SELECT seq, sum(chars) OVER (ORDER BY seq DESC) AS total FROM ${table})
              WHERE total > ${lit(RANGE_KEEP_CHARS)})`.text,
      );
      await this.sweep();
    } catch (error) {
      // Not kept: the query runs again next time.
      debugAnswer('a range answer not kept', error);
    }
    return value;
  }

  all<T extends Row = Row>(text: string): Promise<T[]> {
    return this.answer('rows', text, () => this.session.all<T>(text));
  }

  async one<T extends Row = Row>(text: string): Promise<T | undefined> {
    return (await this.all<T>(text))[0];
  }

  columns(text: string): Promise<Record<string, unknown[]>> {
    return this.answer('columns', text, () => this.session.columns(text));
  }

  private async answer<T>(kind: Kind, text: string, compute: () => Promise<T>): Promise<T> {
    const state = this.state();
    if (state === undefined) return compute();
    const key = answerKey(kind, text);
    const kept = await this.kept(ANSWERS_TABLE, key, state);
    if (kept) return kept.value as T;
    const started = performance.now();
    const value = await compute();
    const encoded = toKeep(started, value);
    // Kept only when the index did not change while the query ran (a dashboard reads a live run).
    if (encoded !== undefined && this.state() === state) await this.keep(key, state, encoded);
    return value;
  }

  /** The answer kept in `table` for a query's key in a state, if any. */
  private async kept(table: string, key: string, state: string): Promise<{ value: unknown } | undefined> {
    try {
      const row = await this.session.one<{ value: string }>(
        sql`SELECT value FROM ${ident(table)} WHERE key = ${lit(key)} AND state = ${lit(state)} LIMIT 1`.text,
      );
      return row && { value: this.unpack(row.value) };
    } catch (error) {
      return debugAnswer('a kept answer not read', error);
    }
  }

  private async keep(key: string, state: string, encoded: string): Promise<void> {
    // Best effort: another connection of the dashboard may be writing the same answer. Answers of
    // earlier states go: the index keeps those of its present state only.
    const table = ident(ANSWERS_TABLE);
    try {
      await this.session.run(
        sql`DELETE FROM ${table} WHERE state <> ${lit(state)} OR key = ${lit(key)}`.text,
      );
      await this.session.run(sql`INSERT INTO ${table} VALUES (?, ?, ?)`.text, [
        key,
        state,
        this.store(encoded, key, state).value,
      ]);
      await this.sweep();
    } catch (error) {
      // Not kept: the query runs again next time.
      debugAnswer('an answer not kept', error);
    }
  }

  /**
   * An answer as its row holds it: inline up to FILE_CHARS; larger, gzipped in a file of the
   * index's directory named by its row's key and state (`file:NAME`; written whole before its row
   * is), so that DuckDB neither holds it in its buffers nor rewrites it at each checkpoint.
   * `chars`: what it takes (the eviction of range answers adds these up).
   */
  private store(encoded: string, key: string, state: string): { value: string; chars: number } {
    if (encoded.length <= FILE_CHARS) return { value: encoded, chars: encoded.length };
    const packed = gzipSync(encoded, { level: 1 });
    if (!this.dir) {
      const inline = PACKED + packed.toString('base64');
      return { value: inline, chars: inline.length };
    }
    const name = fileName(key, state);
    const dir = path.join(this.dir, ANSWERS_DIR);
    const file = path.join(dir, name);
    fs.mkdirSync(dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, packed);
    fs.renameSync(temp, file);
    return { value: IN_FILE + name, chars: packed.length };
  }

  /** An answer as kept (store) back to its value; a file gone is an error (not kept, then). */
  private unpack(kept: string): unknown {
    if (kept.startsWith(IN_FILE)) {
      if (!this.dir) throw new Error('an answer kept in a file, read without the index directory');
      const name = path.basename(kept.slice(IN_FILE.length));
      return decodeAnswer(gunzipSync(fs.readFileSync(path.join(this.dir, ANSWERS_DIR, name))).toString());
    }
    return unpack(kept);
  }

  /**
   * Removes the answer files no row names any more (older than sweepSeconds). Rows are read by key
   * and state only: reading their values would bring every kept answer into DuckDB's buffers.
   */
  private async sweep(): Promise<void> {
    if (!this.dir) return;
    const dir = path.join(this.dir, ANSWERS_DIR);
    const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    if (!names.length) return;
    const rows = await this.session.all<{ key: string; state: string }>(
      sql`SELECT key, state FROM ${ident(ANSWERS_TABLE)} UNION ALL SELECT key, state FROM ${ident(RANGE_ANSWERS_TABLE)}`
        .text,
    );
    const named = new Set(rows.map((r) => fileName(r.key, r.state)));
    const before = Date.now() - Answers.sweepSeconds * 1000;
    for (const name of names) {
      if (named.has(name)) continue;
      const file = path.join(dir, name);
      try {
        if (fs.statSync(file).mtimeMs <= before) fs.rmSync(file, { force: true });
      } catch {
        // Gone already (another connection swept it).
      }
    }
  }
}

/**
 * An answer computed since `started` as it is kept, or undefined when it is not worth keeping:
 * computed faster than Answers.keepSeconds, larger than KEEP_CHARS, or not a plain value.
 */
function toKeep(started: number, value: unknown): string | undefined {
  if ((performance.now() - started) / 1000 < Answers.keepSeconds) return undefined;
  const encoded = encodeAnswer(value);
  if (encoded === undefined || encoded.length > KEEP_CHARS) return undefined;
  return encoded;
}

/**
 * Answers longer than this are kept gzipped (a 50 000-row sample's 3.4 MB of JSON is 1 MB; 33 ms
 * to pack, 13 ms to unpack), in a file beside the index (`file:` names it) or, without one, in the
 * row (`gz:`, base64). JSON never starts with either.
 */
const FILE_CHARS = 64 * 1024;
const IN_FILE = 'file:';
const PACKED = 'gz:';
/** The index directory's subdirectory of answer files. */
export const ANSWERS_DIR = 'answers';

/** The file of the answer kept for a query's key in a state (the same answer, whoever writes it). */
function fileName(key: string, state: string): string {
  return `${createHash('sha256').update(`${key}\0${state}`).digest('hex').slice(0, 32)}.json.gz`;
}

/**
 * RUNLENS_DEBUG_SQL=1: why an answer was not kept or read (the command goes on either way, and
 * computes it again next time: a look after an append that recomputes everything shows why here).
 */
function debugAnswer(what: string, error: unknown): undefined {
  if (process.env.RUNLENS_DEBUG_SQL === '1')
    process.stderr.write(`[answers] ${what}: ${error instanceof Error ? error.message : String(error)}\n`);
  return undefined;
}

/** An answer kept in its row back to its value. */
function unpack(kept: string): unknown {
  return decodeAnswer(
    kept.startsWith(PACKED) ? gunzipSync(Buffer.from(kept.slice(PACKED.length), 'base64')).toString() : kept,
  );
}

/** The key of a query's answer: its kind and text. */
export function answerKey(kind: Kind, text: string): string {
  return createHash('sha256').update(`${kind}\0${text}`).digest('hex');
}

/** A state string from its parts (index generation, views' text, versions). */
export function answerState(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/**
 * A query's answer as JSON that decodes to the same values: numbers that JSON lacks (NaN, ±∞,
 * −0), bigints, dates and bytes are tagged; so is every object, so no field name can be mistaken
 * for a tag.
 */
export function encodeAnswer(value: unknown): string | undefined {
  try {
    return JSON.stringify(tag(value));
  } catch {
    return undefined;
  }
}

export function decodeAnswer(text: string): unknown {
  return untag(JSON.parse(text) as unknown);
}

function tag(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number')
    return Number.isFinite(value) && !Object.is(value, -0)
      ? value
      : { n: String(Object.is(value, -0) ? '-0' : value) };
  if (typeof value === 'bigint') return { b: value.toString() };
  if (value instanceof Date) return { d: value.getTime() };
  if (value instanceof Uint8Array) return { u: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(tag);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return { o: Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, tag(v)]) };
  throw new Error(`an answer holds a value that is not kept: ${Object.prototype.toString.call(value)}`);
}

function untag(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(untag);
  const tagged = value as { n?: string; b?: string; d?: number; u?: string; o?: [string, unknown][] };
  if (tagged.n !== undefined) return tagged.n === '-0' ? -0 : Number(tagged.n);
  if (tagged.b !== undefined) return BigInt(tagged.b);
  if (tagged.d !== undefined) return new Date(tagged.d);
  if (tagged.u !== undefined) return new Uint8Array(Buffer.from(tagged.u, 'base64'));
  return Object.fromEntries((tagged.o ?? []).map(([k, v]) => [k, untag(v)]));
}
