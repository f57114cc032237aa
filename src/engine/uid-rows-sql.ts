import { WEIGHT_KEYS } from '../formats/profile.js';
import { TASK_CANDIDATES, X_CANDIDATES } from './candidates.js';
import { asList, toCanonical } from './canonical-sql.js';
import type { NamedColumn } from './index-read.js';
import { ident, sql, type Sql } from './sql.js';

/**
 * The per-uid long form, in SQL: an event whose `uids` is a list of integers gives one row per
 * position in it, with the uid and, for every list of the same length (at any depth), that
 * position's value; lists of other lengths give nothing. An event that sets weights (a
 * `set_weights`/`neuron_weights` as long as its `uids`, which then index that vector) gives no rows:
 * a per-uid row is one call to one uid. Each row carries copies of its event's x candidates and task fields, so
 * per-uid queries need no join with the events.
 */

/** Prefix of the copied event fields in the per-uid rows (not fields of the log). */
export const COPY_PREFIX = '__copy.';

/** Names a per-uid vector cannot take (the per-uid rows' own columns). */
export const UID_ROW_COLUMNS: ReadonlySet<string> = new Set(['file_id', 'rec', 'line', 'pos', 'uid']);

/** The event fields copied into per-uid rows: x candidates (as DOUBLE) and task fields (VARCHAR). */
export function copiedFields(
  columns: readonly NamedColumn[],
): { column: NamedColumn; as: 'DOUBLE' | 'VARCHAR' }[] {
  const scalar = (path: string) => columns.find((c) => c.path === path && c.role === 'scalar');
  return [
    ...X_CANDIDATES.map((p) => scalar(p)).flatMap((c) => (c ? [{ column: c, as: 'DOUBLE' as const }] : [])),
    ...TASK_CANDIDATES.map((p) => scalar(p)).flatMap((c) =>
      c ? [{ column: c, as: 'VARCHAR' as const }] : [],
    ),
  ];
}

/** The per-uid vectors a chunk can have: its lists other than `uids` and the uid-indexed ones. */
export function perUidColumns(columns: readonly NamedColumn[]): NamedColumn[] {
  return columns.filter((c) => c.role === 'list' && !UID_ROW_COLUMNS.has(c.name));
}

/**
 * SELECT of a chunk's per-uid rows from its events table; undefined when its events have no
 * `uids` list. Values stay as stored (the views convert them).
 */
export function uidRowsSelect(eventsTable: string, columns: readonly NamedColumn[]): Sql | undefined {
  const uids = columns.find((c) => c.role === 'uids');
  if (!uids) return undefined;
  const list = uids.stored === 'DOUBLE[]' ? ident(uids.name) : sql`TRY_CAST(${ident(uids.name)} AS DOUBLE[])`;
  const vectors = perUidColumns(columns);
  const copies = copiedFields(columns);
  const unnested = vectors.map((v) => {
    const value = asList(ident(v.name), v.stored);
    return sql`unnest(CASE WHEN len(${value}) = len(__uids) THEN ${value} END) AS ${ident(v.name)}`;
  });
  const copied = copies.map(
    ({ column, as }) =>
      sql`${toCanonical(ident(column.name), column.stored, as)} AS ${ident(COPY_PREFIX + column.name)}`,
  );
  const inner = [
    sql`file_id`,
    sql`rec`,
    sql`line`,
    ...copied,
    sql`unnest(range(len(__uids))) AS __pos`,
    sql`unnest(__uids) AS __uid`,
    ...unnested,
  ];
  const outer = [
    sql`file_id`,
    sql`rec`,
    sql`line`,
    sql`CAST(__pos AS INTEGER) AS pos`,
    sql`CAST(__uid AS INTEGER) AS uid`,
    ...copies.map(({ column }) => ident(COPY_PREFIX + column.name)),
    ...vectors.map((v) => ident(v.name)),
  ];
  const weights = columns
    .filter((c) => c.role === 'uid-indexed' && WEIGHT_KEYS.has(c.path))
    .map((c) => sql` AND coalesce(len(${asList(ident(c.name), c.stored)}), -1) <> len(__uids)`);
  return sql`SELECT ${outer} FROM (SELECT ${inner} FROM (SELECT *, ${list} AS __uids FROM ${ident(eventsTable)})
    WHERE len(__uids) > 0 AND list_bool_and(list_transform(__uids, u -> u IS NOT NULL AND isfinite(u) AND u = round(u)))${weights})`;
}
