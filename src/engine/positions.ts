import type { Run } from './run.js';
import { and, ident, join, sql, type Sql } from './sql.js';

export interface PositionCounts {
  map: number[];
  x: number[];
  y: number[];
  visits: number[];
  total: number;
}

export const POSITION_COLUMNS = { map: 'position.map', x: 'position.x', y: 'position.y' } as const;

/** Visits per (map, x, y) over every row with all three, ordered by map, y, x. */
export function positionCountsSql(): Sql {
  const [map, x, y] = [POSITION_COLUMNS.map, POSITION_COLUMNS.x, POSITION_COLUMNS.y].map((c) => ident(c));
  return join(
    [
      sql`SELECT CAST(${map} AS INTEGER) AS ${ident('map')}, CAST(${x} AS INTEGER) AS ${ident('x')},`,
      sql`CAST(${y} AS INTEGER) AS ${ident('y')}, CAST(count(*) AS DOUBLE) AS ${ident('visits')}`,
      sql`FROM ${ident('rows')} WHERE ${and([map, x, y].map((c) => sql`${c} IS NOT NULL`))}`,
      sql`GROUP BY ALL ORDER BY 1, 3, 2`,
    ],
    ' ',
  );
}

/** Exact visit counts per (map, x, y) over every row (old flat x/y/map are normalised to position.*). */
export async function positionCounts(run: Run): Promise<PositionCounts | undefined> {
  const { map, x, y } = POSITION_COLUMNS;
  if (![map, x, y].every((c) => run.storedColumns('rows').has(c))) return undefined;
  const columns = await run.session.columns(positionCountsSql().text);
  const visits = columns.visits as number[];
  return {
    map: columns.map as number[],
    x: columns.x as number[],
    y: columns.y as number[],
    visits,
    total: visits.reduce((a, b) => a + b, 0),
  };
}
