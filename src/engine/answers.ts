import { createHash } from 'node:crypto';
import type { QuerySession, Row, Session } from './session.js';
import { ident, lit, sql } from './sql.js';

/**
 * Answers kept in the index: what an aggregate's query returned, stored beside the rows it was
 * computed from, so that the next look at an unchanged run (a second `plot`, a dashboard restart)
 * reads the answer instead of scanning every row again. An answer is keyed by its query's text and
 * found only while the index is in the state it was computed in: the state names the index's
 * generation (a new one with every change of its rows) and the text of the views the query reads.
 * A query whose answer is missing runs as usual; nothing else changes.
 */

/** Larger answers are not kept (a 50 000-point sample is ~3 MB). */
const KEEP_CHARS = 32 * 1024 * 1024;

export const ANSWERS_TABLE = 'runlens_answers';

type Kind = 'rows' | 'columns';

/** A QuerySession over the run's session that keeps its slow queries' answers in the index. */
export class Answers implements QuerySession {
  /** Queries faster than this are not worth a write to the index (tests set 0 to keep every one). */
  static keepSeconds = 0.05;

  constructor(
    private readonly session: Session,
    /** The index's state now (generation and views); undefined: answers are not kept. */
    private readonly state: () => string | undefined,
  ) {}

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
    const kept = await this.session
      .one<{ value: string }>(
        sql`SELECT value FROM ${ident(ANSWERS_TABLE)} WHERE key = ${lit(key)} AND state = ${lit(state)} LIMIT 1`
          .text,
      )
      .catch(() => undefined);
    if (kept) return decodeAnswer(kept.value) as T;
    const started = performance.now();
    const value = await compute();
    // Kept only when the index did not change while the query ran (a dashboard reads a live run).
    if ((performance.now() - started) / 1000 >= Answers.keepSeconds && this.state() === state)
      await this.keep(key, state, value);
    return value;
  }

  private async keep(key: string, state: string, value: unknown): Promise<void> {
    const encoded = encodeAnswer(value);
    if (encoded === undefined || encoded.length > KEEP_CHARS) return;
    // Best effort: another connection of the dashboard may be writing the same answer. Answers of
    // earlier states go: the index keeps those of its present state only.
    const table = ident(ANSWERS_TABLE);
    try {
      await this.session.run(
        sql`DELETE FROM ${table} WHERE state <> ${lit(state)} OR key = ${lit(key)}`.text,
      );
      await this.session.run(
        sql`INSERT INTO ${table} VALUES (${lit(key)}, ${lit(state)}, ${lit(encoded)})`.text,
      );
    } catch {
      // Not kept: the query runs again next time.
    }
  }
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
