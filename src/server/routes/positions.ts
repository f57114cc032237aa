import { positionCounts } from '../../engine/positions.js';
import type { PositionMap, PositionsResponse } from '../api-types.js';
import { jsonText, requestKey } from '../context.js';
import { HttpError } from '../http-error.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';
import { runOrPending } from '../run-access.js';

/** GET /api/positions?run=ID — exact visit counts per (map, x, y), grouped by map, most visited first. */
export const positionsRoute: Route = {
  path: '/api/positions',
  async handle(c) {
    const query = new Query(c.url, ['run']);
    const { handle, pending } = runOrPending(c, query);
    if (pending) return pending;
    const body = await handle.answer(
      requestKey(c.url),
      async (run): Promise<PositionsResponse> => {
        const counts = await positionCounts(run);
        if (!counts) throw new HttpError(404, 'this run has no position.map / position.x / position.y');
        const maps = new Map<number, PositionMap>();
        for (let i = 0; i < counts.map.length; i++) {
          let m = maps.get(counts.map[i]);
          if (!m) maps.set(counts.map[i], (m = { map: counts.map[i], visits: 0, x: [], y: [], count: [] }));
          m.x.push(counts.x[i]);
          m.y.push(counts.y[i]);
          m.count.push(counts.visits[i]);
          m.visits += counts.visits[i];
        }
        return {
          run: handle.id,
          version: handle.versionOf(run),
          partial: run.partial,
          total: counts.total,
          maps: [...maps.values()].sort((a, b) => b.visits - a.visits || a.map - b.map),
        };
      },
      { heavy: false },
    );
    return jsonText(body);
  },
};
