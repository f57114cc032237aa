import { json } from '../context.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';

/** GET /api/runs — every run under the served directory: profile, files, size, rows, last update, state. */
export const runsRoute: Route = {
  path: '/api/runs',
  async handle(c) {
    new Query(c.url, []);
    return json(c.registry.list());
  },
};
