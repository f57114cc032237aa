import { fromWhere, type Dialect, type ViewName } from './dialect.js';
import type { QueryableRun } from './queryable.js';
import { columnsByParts, runSpans } from './range-state.js';
import { ident, sql, type Sql } from './sql.js';

/** The rows with a finite value of `expr` (not NULL, not NaN or ±Infinity), as a DOUBLE. */
export function finiteCountSql(d: Dialect, expr: Sql): Sql {
  return sql`CAST(${d.countIf(sql`${expr} IS NOT NULL AND ${d.isFinite(expr)}`)} AS DOUBLE)`;
}

/**
 * Rows of `table` with a finite value of each column: in one scan (of the stored rows, without the
 * join that gives x), or on a large run range of x by range of x (each kept while its rows stay the
 * same) plus the rows without a finite x.
 */
export async function finiteCounts(
  run: QueryableRun,
  table: 'events' | 'uid_events',
  columns: readonly string[],
  pieceRows?: number,
): Promise<number[]> {
  const d = run.dialect;
  const stored = table === 'events' ? 'rows' : 'uid_rows';
  const counts = (from: ViewName, where: Sql[]) =>
    sql`SELECT ${columns.map((c, i) => sql`${finiteCountSql(d, ident(c))} AS ${ident(`c${i}`)}`)} ${fromWhere(d, from, where)}`
      .text;
  const spans = await runSpans(run, table === 'events' ? run.ingest.rows : run.ingest.uidRows, pieceRows);
  if (!spans) {
    const found = await run.answers.one<Record<string, number>>(counts(stored, []));
    return columns.map((_, i) => found?.[`c${i}`] ?? 0);
  }
  const parts = await columnsByParts(run, spans, [], (where) => counts(table, where));
  return columns.map((_, i) => parts.reduce((sum, p) => sum + Number(p[`c${i}`]?.[0] ?? 0), 0));
}
