import type { Run } from '../engine/run.js';
import { and, ident, join, lit, litList, sql, type Sql } from '../engine/sql.js';

/** Scalars that would clash with the per-uid rows' own columns (left out of exports). */
export const UID_ROW_NAMES: ReadonlySet<string> = new Set(['uid', 'uids', 'pos']);

/**
 * The two views an export reads, in the run's file and record order:
 * - `export_events`: one row per event, every field and list of `rows`, plus `ord`, `x`, `task`;
 * - `export_uid_events`: one row per (event, position of its integer `uids` list): the event's
 *   fields and other lists, `ord`, `x`, `task`, `pos`, `uid` and each per-uid vector's value there.
 * They are built from `rows` by projections, filters, UNION ALL and unnest only, which DuckDB keeps
 * in read order (with preserve_insertion_order); a join does not (the `events` view joins each
 * file's first ordinal in, and its rows came out of order), so the ordinal is computed here.
 * The session must preserve insertion order. Returns whether the rows had to be read file by file
 * (the index's chunks held them out of file order).
 */
export async function createExportViews(run: Run): Promise<{ byFile: boolean }> {
  const files = await run.session.all<{ file_id: number; first_ord: number }>(
    'SELECT file_id, CAST(first_ord AS DOUBLE) AS first_ord FROM files',
  );
  const firstOrd: (number | null)[] = [];
  for (const f of files) firstOrd[f.file_id] = f.first_ord;
  const offsets = litList(Array.from(firstOrd, (n) => n ?? null));
  const define = (source: Sql) =>
    run.session.run(
      sql`CREATE OR REPLACE TEMP VIEW export_events AS
      SELECT *, ${xOf(run)} AS x, ${taskOf(run)} AS task
      FROM (SELECT * EXCLUDE (line), CAST(rec + ${offsets}[file_id + 1] AS BIGINT) AS ord FROM ${source})`
        .text,
    );
  await define(sql`rows`);
  // The index holds files out of order when one grew after a later one was read (its new records
  // sit in a later chunk) or when JSON array files were read side by side (their rows interleave).
  const byFile = !(await inReadOrder(run));
  if (byFile) {
    const ordered = [...run.ingest.files].sort((a, b) => a.order - b.order);
    await define(
      sql`(${join(
        ordered.map((f) => sql`SELECT * FROM rows WHERE file_id = ${lit(f.fileId)}`),
        ' UNION ALL ',
      )})`,
    );
  }
  await run.session.run(sql`CREATE OR REPLACE TEMP VIEW export_uid_events AS ${uidRowsOf(run)}`.text);
  return { byFile };
}

/**
 * Do `export_events` come out in ordinal order? A window with an empty OVER sees rows in read
 * order when the session preserves insertion order (as exports do).
 */
async function inReadOrder(run: Run): Promise<boolean> {
  const row = await run.session.one<{ n: number }>(
    'SELECT CAST(count(*) AS DOUBLE) AS n FROM (SELECT ord - lag(ord) OVER () AS step FROM export_events) WHERE step <= 0',
  );
  return (row?.n ?? 0) === 0;
}

/** x as the run's `events` view defines it: the chosen field as a number, or the ordinal. */
function xOf(run: Run): Sql {
  const column = run.x.column;
  if (column === undefined) return sql`CAST(ord AS DOUBLE)`;
  const type = run.columns.scalars.get(column);
  if (type === undefined) return sql`CAST(NULL AS DOUBLE)`;
  return type === 'DOUBLE'
    ? sql`CAST(${ident(column)} AS DOUBLE)`
    : sql`TRY_CAST(${ident(column)} AS DOUBLE)`;
}

function taskOf(run: Run): Sql {
  return run.taskColumn === undefined
    ? sql`CAST(NULL AS VARCHAR)`
    : sql`CAST(${ident(run.taskColumn)} AS VARCHAR)`;
}

/** The per-uid vectors of the run (lists aligned with `uids`), in stored order. */
export function perUidNames(run: Run): string[] {
  return hasUidsList(run) ? [...run.columns.perUid.keys()].filter((n) => !UID_ROW_NAMES.has(n)) : [];
}

/** Does the run have a numeric `uids` list (the per-uid rows come from it)? */
export function hasUidsList(run: Run): boolean {
  return run.columns.lists.get('uids') === 'DOUBLE';
}

/** An event has per-uid rows when its `uids` is a non-empty list of integers. */
export const UIDS_ARE_INTEGERS = sql`len(uids) > 0 AND list_bool_and(list_transform(uids, u -> u IS NOT NULL AND isfinite(u) AND u = round(u)))`;

/**
 * The per-uid long form (as the index defines it): a row per position of an integer `uids` list,
 * with each vector's value there when the vector is as long as `uids`, NULL otherwise.
 */
function uidRowsOf(run: Run): Sql {
  const scalarClashes = [...run.columns.scalars.keys()].filter((n) => UID_ROW_NAMES.has(n));
  const hidden = [...perUidNames(run), ...scalarClashes].map((n) => ident(n));
  const exclude = hidden.length ? sql` EXCLUDE (${hidden})` : sql``;
  if (!hasUidsList(run))
    return sql`SELECT *${exclude}, CAST(NULL AS INTEGER) AS pos, CAST(NULL AS INTEGER) AS uid FROM export_events WHERE false`;
  const vectors = perUidNames(run).map((n) => ident(n));
  const unnested = vectors.map((v) => sql`, unnest(CASE WHEN len(${v}) = len(uids) THEN ${v} END) AS ${v}`);
  const listed = join(
    vectors.map((v) => sql`, ${v}`),
    '',
  );
  return sql`SELECT * EXCLUDE (__pos, __uid${listed}), CAST(__pos AS INTEGER) AS pos, CAST(__uid AS INTEGER) AS uid${listed}
    FROM (SELECT *${exclude}, unnest(range(len(uids))) AS __pos, unnest(uids) AS __uid${join(unnested, '')}
          FROM export_events WHERE ${UIDS_ARE_INTEGERS})`;
}

/**
 * For each event, the 1-based positions of its `uids` where `conditions` (SQL over the per-uid
 * columns `uid`, `pos`, the vectors, and the event's fields) hold: each per-uid name the
 * conditions mention is bound, by a nested lambda, to its value at the position. Row by row, so
 * the events keep their order (a join back from the per-uid rows would not).
 */
export function matchingPositions(vectors: readonly string[], conditions: readonly Sql[]): Sql {
  const text = conditions.map((c) => c.text.toLowerCase()).join(' ');
  const values: [string, Sql][] = [
    ['uid', sql`CAST(uids[__i] AS INTEGER)`],
    ['pos', sql`CAST(__i - 1 AS INTEGER)`],
    ...vectors.map((n): [string, Sql] => [
      n,
      sql`CASE WHEN len(${ident(n)}) = len(uids) THEN ${ident(n)}[__i] END`,
    ]),
  ];
  let body = and(conditions);
  for (const [name, value] of values.filter(([n]) => text.includes(n.toLowerCase())).reverse())
    body = sql`list_transform([${value}], ${ident(name)} -> ${body})[1]`;
  return sql`list_filter(range(1, len(uids) + 1), __i -> coalesce(${body}, false))`;
}
