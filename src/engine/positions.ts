import { duckdb, fromWhere, type Dialect } from './dialect.js';
import type { QueryableRun } from './queryable.js';
import { ident, join, sql, type Sql } from './sql.js';

export interface PositionCounts {
  map: number[];
  x: number[];
  y: number[];
  visits: number[];
  total: number;
}

export const POSITION_COLUMNS = { map: 'position.map', x: 'position.x', y: 'position.y' } as const;

/** Visits per (map, x, y) over every row with all three, ordered by map, y, x. */
export function positionCountsSql(d: Dialect = duckdb): Sql {
  const [map, x, y] = [POSITION_COLUMNS.map, POSITION_COLUMNS.x, POSITION_COLUMNS.y].map((c) => ident(c));
  const [m, px, py] = ['map', 'x', 'y'].map((c) => ident(c));
  return join(
    [
      sql`SELECT CAST(${map} AS INTEGER) AS ${m}, CAST(${x} AS INTEGER) AS ${px},`,
      sql`CAST(${y} AS INTEGER) AS ${py}, CAST(count(*) AS DOUBLE) AS ${ident('visits')}`,
      fromWhere(
        d,
        'rows',
        [map, x, y].map((c) => sql`${c} IS NOT NULL`),
      ),
      sql`GROUP BY ${m}, ${px}, ${py} ORDER BY ${m}, ${py}, ${px}`,
    ],
    ' ',
  );
}

/** Exact visit counts per (map, x, y) over every row (old flat x/y/map are normalised to position.*). */
export async function positionCounts(run: QueryableRun): Promise<PositionCounts | undefined> {
  const { map, x, y } = POSITION_COLUMNS;
  if (![map, x, y].every((c) => run.storedColumns('rows').has(c))) return undefined;
  const columns = await run.answers.columns(positionCountsSql(run.dialect).text);
  const visits = columns.visits as number[];
  return {
    map: columns.map as number[],
    x: columns.x as number[],
    y: columns.y as number[],
    visits,
    total: visits.reduce((a, b) => a + b, 0),
  };
}
