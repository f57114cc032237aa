import { json, jsonText } from '../context.js';
import type { FleetAnalysisKind, FleetRunsResponse } from '../fleet-api-types.js';
import type { FleetSource } from '../fleet-source.js';
import { HttpError } from '../http-error.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';

const KINDS: readonly FleetAnalysisKind[] = ['leaderboard', 'success', 'rewards'];

/**
 * The fleet page's API (`serve --clickhouse URL`): computed by the server on ClickHouse.
 * - GET /api/fleet — the database and nodes served (no credentials), whether local runs are too;
 *   null when the server has no fleet;
 * - GET /api/fleet/runs — the runs as their latest pushes describe them;
 * - GET /api/fleet/analysis?kind=leaderboard|success|rewards[&runs=A,B] — analyzeFleet over the
 *   named runs (all of them without `runs`).
 */
export function fleetRoutes(source: FleetSource | undefined, options: { localRuns: boolean }): Route[] {
  const info: Route = {
    path: '/api/fleet',
    async handle(c) {
      new Query(c.url, []);
      // null without a fleet: the page asks on every start, and a 404 would be a console error.
      return json(source ? source.info(options.localRuns) : null);
    },
  };
  if (!source) return [info];
  return [
    info,
    {
      path: '/api/fleet/runs',
      async handle(c) {
        new Query(c.url, []);
        const { version, runs } = await source.runs();
        return json({
          database: source.target.database,
          version,
          runs: runs.map((r) => ({
            run: r.run,
            profile: r.profile,
            rows: r.rows,
            uidRows: r.uidRows,
            files: r.files,
            bytes: r.bytes,
            xLabel: r.xLabel,
            xMin: r.xMin,
            xMax: r.xMax,
            pushed: r.pushed.getTime(),
          })),
        } satisfies FleetRunsResponse);
      },
    },
    {
      path: '/api/fleet/analysis',
      async handle(c) {
        const query = new Query(c.url, ['kind', 'runs']);
        const kind = query.oneOf<FleetAnalysisKind | ''>('kind', KINDS, '');
        if (!kind) throw new HttpError(400, 'missing query parameter "kind"', { valid: [...KINDS] });
        const list = query.string('runs');
        if (list !== undefined && !list.split(',').some(Boolean))
          throw new HttpError(400, '"runs" names no run', {
            hint: 'give run names separated by commas, or leave "runs" out for every run',
          });
        const names = list === undefined ? 'all' : [...new Set(list.split(',').filter(Boolean))];
        return jsonText(await source.analysis(kind, names));
      },
    },
  ];
}
