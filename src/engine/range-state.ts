import { answerState, columnsOverX, keepsRangeAnswers } from './answers.js';
import { binSpec, xSpans } from './bins.js';
import { expression, type SqlExpression } from './exact-mean.js';
import { eventsChunk } from './index-read.js';
import { toCanonical } from './canonical-sql.js';
import type { StoredType } from './normalize-sql.js';
import type { QueryableRun } from './queryable.js';
import type { Session } from './session.js';
import { ident, lit, sql, type Sql } from './sql.js';

/** A half-open range of x, from ≤ x < to; either end may be infinite. */
export interface XSpan {
  from: number;
  to: number;
}

/** What a range state needs of the views (createViews): undefined where x is the row ordinal. */
export interface ViewShape {
  /**
   * Hash of the views' text without the unions' branches (the chunk tables) and the file order,
   * with the columns and types the unions give.
   */
  fingerprint: string;
  /** Per chunk, the hash of its branches in the views (with the table's name left out). */
  chunkShapes: ReadonlyMap<number, string>;
  /**
   * x's column in the chunk tables, and its stored type in each chunk that has it. Range states
   * are made only where x is a number in every view: then an event's per-uid rows and vectors by
   * uid have its x (the same conversion of the same stored value), so a part's x is its events'.
   */
  xColumn: string;
  xTypes: ReadonlyMap<number, StoredType>;
  /** The parts the views read: each file's rows in a chunk, named by the chunk's token and the file. */
  parts: readonly Part[];
}

/** A file's rows in a chunk. The chunk's token is made when it is written (never reused). */
export interface Part {
  chunk: number;
  token: string;
  fileId: number;
}

/**
 * Rows a query over a range of x reads at most, about: the replayed scores, the samples drawn by
 * ranges and the binned statistics split a run's rows into ranges of this size.
 */
export const RANGE_ROWS = 16_000_000;
/** Bins of the run's x range that ranges not tied to a chart's bins are made of (binSpec's grid). */
const RANGE_BINS = 256;

/**
 * Ranges of x over the run's x range (Run.xRange) of about `pieceRows` of `rows` each, on a round
 * grid that stays put while the run grows; undefined where answers are not kept per range or the
 * rows fit in one range.
 */
export async function runSpans(
  run: QueryableRun,
  rows: number,
  pieceRows = RANGE_ROWS,
): Promise<XSpan[] | undefined> {
  if (rows <= pieceRows || !(await keepsRangeAnswers(run.answers))) return undefined;
  const range = await run.xRange();
  if (range.min === null || range.max === null) return undefined;
  const spans = xSpans(binSpec(range.min, range.max, RANGE_BINS, range.integer), rows, pieceRows);
  return spans.length > 1 ? spans : undefined;
}

/**
 * The filter `where` and a finite x (the run's axis) in [span.from, span.to): a range's state
 * knows the parts by their finite x only.
 */
export function inSpan(where: SqlExpression | undefined, span: XSpan): Sql[] {
  const x = ident('x');
  return [
    ...(where === undefined ? [] : [expression(where)]),
    sql`isfinite(${x})`,
    ...(span.from === -Infinity ? [] : [sql`${x} >= ${lit(span.from)}`]),
    ...(span.to === Infinity ? [] : [sql`${x} < ${lit(span.to)}`]),
  ];
}

/**
 * A query over the rows of `where` asked part by part, for answers that add up over disjoint rows:
 * the rows without a finite x (in no range; kept per generation of the index), then those of each
 * span (kept per range: columnsOverX). `text` makes a part's query from its conditions.
 */
export async function columnsByParts(
  run: QueryableRun,
  spans: readonly XSpan[],
  where: readonly Sql[],
  text: (where: Sql[]) => string,
): Promise<Record<string, unknown[]>[]> {
  const x = ident('x');
  const parts = [await run.answers.columns(text([...where, sql`(${x} IS NULL OR NOT isfinite(${x}))`]))];
  for (const span of spans)
    parts.push(await columnsOverX(run.answers, text([...where, ...inSpan(undefined, span)]), span));
  return parts;
}

type Bounds = { xmin: number; xmax: number } | null;

/**
 * The state of the rows in a range of x, for answers that only read those rows (answers.ts): the
 * views' shape and the parts (a file's rows in a chunk) holding a row with x in the range. A part
 * never changes: rows are added in new chunks, and a file's rows leave with its parts. So the state
 * stays the same exactly while no row with x in the range is added or removed — rows appended past
 * the range, or a file gone that had none in it, leave it as it was. With x from a column, a
 * range's rows keep their values and their order whatever is added elsewhere (the row ordinal
 * only orders); where x is the ordinal there are no range states (an append to an earlier file
 * moves every later x).
 *
 * Each part's least and greatest x are computed once per shape and kept in the index.
 */
export class RangeStates {
  /** The shape whose bounds `bounds` holds (all those kept in the index, and those computed since). */
  private shape = '';
  private bounds = new Map<string, Bounds>();

  /**
   * The state of [span.from, span.to), or undefined without a shape or when a part the views read
   * is gone since they were made (a file dropped while a dashboard reads on: no range answers until
   * the views are made again). `live`: whether a part is in the index now; `base`: what every
   * state names besides (the index's layout, DuckDB's version); `session`: where to query (the
   * connection of the run asking, which may not be the writer's).
   */
  async state(
    span: XSpan,
    shape: ViewShape | undefined,
    live: (part: Part) => boolean,
    base: readonly string[],
    session: Session,
  ): Promise<string | undefined> {
    if (!shape || !shape.parts.every(live)) return undefined;
    const inRange: string[] = [];
    for (const part of shape.parts) {
      const bounds = await this.boundsOf(part, shape, session);
      if (bounds && bounds.xmax >= span.from && bounds.xmin < span.to)
        inRange.push(`${partKey(part)} ${shape.chunkShapes.get(part.chunk) ?? ''}`);
    }
    return answerState([...base, shape.fingerprint, String(span.from), String(span.to), ...inRange.sort()]);
  }

  private async boundsOf(part: Part, shape: ViewShape, session: Session): Promise<Bounds> {
    if (this.shape !== shape.fingerprint) {
      this.shape = shape.fingerprint;
      // Bounds of other shapes (another x) are cheap to compute again: only this shape's are kept.
      await session.run(sql`DELETE FROM runlens_part_x WHERE shape <> ${lit(shape.fingerprint)}`.text);
      const kept = await session.all<{ part: string; xmin: number | null; xmax: number | null }>(
        sql`SELECT part, xmin, xmax FROM runlens_part_x WHERE shape = ${lit(shape.fingerprint)}`.text,
      );
      this.bounds = new Map(
        kept.map((k) => [k.part, k.xmin === null ? null : { xmin: k.xmin, xmax: k.xmax! }]),
      );
    }
    const key = partKey(part);
    if (!this.bounds.has(key)) {
      // Every part of the chunk at once, from its own events table; a part with no finite x (or
      // no x column in its chunk) has none.
      const type = shape.xTypes.get(part.chunk);
      const rows = type
        ? await session.all<{ fileId: number; xmin: number | null; xmax: number | null }>(
            xBoundsSql(eventsChunk(part.chunk), shape.xColumn, type).text,
          )
        : [];
      for (const p of shape.parts.filter((p) => p.chunk === part.chunk)) {
        const row = rows.find((r) => r.fileId === p.fileId);
        const bounds = row && row.xmin !== null ? { xmin: row.xmin, xmax: row.xmax! } : null;
        this.bounds.set(partKey(p), bounds);
        await session.run(
          sql`INSERT INTO runlens_part_x VALUES (${lit(partKey(p))}, ${lit(shape.fingerprint)}, ${lit(bounds?.xmin ?? null)}, ${lit(bounds?.xmax ?? null)})`
            .text,
        );
      }
    }
    return this.bounds.get(key)!;
  }
}

function partKey(part: Part): string {
  return `${part.token}/${part.fileId}`;
}

/** Per file, the least and greatest finite x of a chunk's events (x: `column`, stored as `type`). */
export function xBoundsSql(table: string, column: string, type: StoredType): Sql {
  const x = toCanonical(ident(column), type, 'DOUBLE');
  return sql`SELECT file_id AS "fileId", min(x) AS xmin, max(x) AS xmax
    FROM (SELECT file_id, ${x} AS x FROM ${ident(table)}) WHERE x IS NOT NULL AND isfinite(x) GROUP BY file_id`;
}
