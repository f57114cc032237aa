import type { SummaryResponse } from '../api-types.js';
import { chartCatalog } from '../chart-catalog.js';
import { jsonText, requestKey } from '../context.js';
import { runMetrics } from '../metrics.js';
import { xAxesOf } from '../x-axes.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';
import { runOrPending } from '../run-access.js';

/**
 * GET /api/summary?run=ID — what the run holds and every chart its data supports (202 while nothing
 * is indexed yet; while the run is read, the facts of what is indexed so far, with `partial` set).
 */
export const summaryRoute: Route = {
  path: '/api/summary',
  async handle(c) {
    const query = new Query(c.url, ['run']);
    const { handle, pending } = runOrPending(c, query);
    if (pending) return pending;
    const body = await handle.answer(
      requestKey(c.url),
      async (run): Promise<SummaryResponse> => {
        const summary = await run.summary();
        const metrics = await runMetrics(run);
        const tasks = await run.answers.all<{ task: string }>(
          `SELECT DISTINCT task FROM events WHERE task IS NOT NULL ORDER BY task LIMIT 50`,
        );
        return {
          id: handle.id,
          state: 'ready',
          profile: run.profile,
          version: handle.versionOf(run),
          updatedAt: handle.updatedAt,
          x: {
            label: run.x.label,
            column: run.x.column ?? null,
            reason: run.x.reason,
            min: summary.x.min,
            max: summary.x.max,
          },
          rows: summary.rows,
          uidRows: summary.uidRows,
          files: run.ingest.files.map((f) => ({
            name: f.name,
            rows: f.rows,
            bytes: f.bytes,
            status: f.status,
            problems: Object.values(f.problems).reduce((a, b) => a + (b ?? 0), 0),
          })),
          bytes: summary.bytes,
          uids: summary.uids,
          problems: summary.problems,
          truncated: summary.truncated,
          tasks: tasks.map((t) => t.task),
          metrics,
          charts: chartCatalog(run, metrics),
          xAxes: xAxesOf(run),
          indexMs: handle.indexMs,
          bytesRead: run.partial ? null : (handle.opened?.bytesRead ?? null),
          cached: run.cacheDir !== undefined,
          partial: handle.partialOf(run) ?? null,
        };
      },
      { heavy: false },
    );
    return jsonText(body);
  },
};
