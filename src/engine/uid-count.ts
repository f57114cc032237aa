import type { QueryableRun } from './queryable.js';
import { columnsByParts, runSpans } from './range-state.js';
import { and, sql, type Sql } from './sql.js';

/**
 * The run's distinct uids (of its uid rows and its vectors by uid) and how many values its vectors
 * by uid hold: in one query, or on a large run range of x by range of x (each range's uids kept
 * while its rows stay the same) plus the rows without a finite x, the ranges' uids united.
 * `pieceRows`: uid rows per range (tests).
 */
export async function uidCount(
  run: QueryableRun,
  pieceRows?: number,
): Promise<{ uids: number; indexedValues: number }> {
  const spans = await runSpans(run, run.ingest.uidRows, pieceRows);
  if (!spans) {
    const row = await run.answers.one<{ n: number; indexed: number }>(
      `SELECT CAST(count(DISTINCT uid) AS DOUBLE) AS n,
              CAST(count(*) FILTER (WHERE source = 1) AS DOUBLE) AS indexed
       FROM (SELECT uid, 0 AS source FROM uid_rows UNION ALL SELECT uid, 1 AS source FROM uid_indexed)`,
    );
    return { uids: row?.n ?? 0, indexedValues: row?.indexed ?? 0 };
  }
  const where = (conditions: Sql[]) => (conditions.length ? sql` WHERE ${and(conditions)}` : sql``);
  const parts = await columnsByParts(
    run,
    spans,
    [],
    (conditions) =>
      sql`SELECT list(DISTINCT uid ORDER BY uid) FILTER (WHERE uid IS NOT NULL) AS uids,
                 CAST(count(*) FILTER (WHERE source = 1) AS DOUBLE) AS indexed
          FROM (SELECT uid, 0 AS source FROM uid_events${where(conditions)}
                UNION ALL SELECT uid, 1 AS source FROM uid_indexed_events${where(conditions)})`.text,
  );
  const uids = new Set<number>();
  let indexedValues = 0;
  for (const part of parts) {
    for (const uid of (part.uids?.[0] as readonly number[] | null) ?? []) uids.add(Number(uid));
    indexedValues += Number(part.indexed?.[0] ?? 0);
  }
  return { uids: uids.size, indexedValues };
}
