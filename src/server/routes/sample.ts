import { reservoirSample } from '../../engine/reservoir.js';
import { quoteIdentifier } from '../../engine/session.js';
import type { SampleResponse } from '../api-types.js';
import { jsonText, requestKey } from '../context.js';
import { requireMetric } from '../metrics.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';
import { runOrPending } from '../run-access.js';

/**
 * GET /api/sample?run=ID&metric=M[&size=N][&seed=S] — the seeded uniform reservoir sample of
 * (event, uid) rows with a finite value of the per-uid metric M: x, uid, task, value.
 */
export const sampleRoute: Route = {
  path: '/api/sample',
  async handle(c) {
    const query = new Query(c.url, ['run', 'metric', 'size', 'seed']);
    const metricName = query.required('metric');
    const size = query.int('size', { min: 1, max: 100_000, default: 10_000 });
    const seed = query.int('seed', { min: 0, max: 2 ** 31 - 1, default: 0 });
    const { handle, pending } = runOrPending(c, query);
    if (pending) return pending;
    const body = await handle.answer(
      requestKey(c.url),
      async (run): Promise<SampleResponse> => {
        const metric = await requireMetric(run, 'uid_events', metricName);
        const v = quoteIdentifier(metric.name);
        const sample = await reservoirSample(run, {
          table: 'uid_events',
          columns: ['x', 'uid', 'task', metric.name],
          where: `${v} IS NOT NULL AND isfinite(${v}) AND x IS NOT NULL AND isfinite(x)`,
          size,
          seed,
          overX: true,
        });
        return {
          run: handle.id,
          version: handle.versionOf(run),
          partial: run.partial,
          metric: metric.name,
          xLabel: run.x.label,
          seed,
          population: sample.population,
          size: sample.size,
          x: (sample.columns.x ?? []) as number[],
          uid: (sample.columns.uid ?? []) as number[],
          task: (sample.columns.task ?? []) as (string | null)[],
          value: (sample.columns[metric.name] ?? []) as number[],
        };
      },
      { heavy: true },
    );
    return jsonText(body);
  },
};
