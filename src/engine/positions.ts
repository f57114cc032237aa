import type { Run } from './run.js';
import { quoteIdentifier } from './session.js';

export interface PositionCounts {
  map: number[];
  x: number[];
  y: number[];
  visits: number[];
  total: number;
}

export const POSITION_COLUMNS = { map: 'position.map', x: 'position.x', y: 'position.y' } as const;

/** Exact visit counts per (map, x, y) over every row (old flat x/y/map are normalised to position.*). */
export async function positionCounts(run: Run): Promise<PositionCounts | undefined> {
  const { map, x, y } = POSITION_COLUMNS;
  if (![map, x, y].every((c) => run.storedColumns('rows').has(c))) return undefined;
  const [qm, qx, qy] = [map, x, y].map(quoteIdentifier);
  const columns = await run.session.columns(`
    SELECT CAST(${qm} AS INTEGER) AS map, CAST(${qx} AS INTEGER) AS x, CAST(${qy} AS INTEGER) AS y,
           CAST(count(*) AS DOUBLE) AS visits
    FROM rows WHERE ${qm} IS NOT NULL AND ${qx} IS NOT NULL AND ${qy} IS NOT NULL
    GROUP BY ALL ORDER BY map, y, x`);
  const visits = columns.visits as number[];
  return {
    map: columns.map as number[],
    x: columns.x as number[],
    y: columns.y as number[],
    visits,
    total: visits.reduce((a, b) => a + b, 0),
  };
}
