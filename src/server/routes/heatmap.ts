import type { HeatmapResponse } from '../api-types.js';
import { jsonText, requestKey } from '../context.js';
import { HttpError } from '../http-error.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';
import { runOrPending } from '../run-access.js';
import { uidMatrix } from '../uid-matrix.js';

/**
 * GET /api/heatmap?run=ID&kind=scores|weights[&bins=N] — uid × x matrix: moving-averaged scores
 * (as logged or rebuilt by replaying every event) or the weights, last vector per bin carried forward.
 */
export const heatmapRoute: Route = {
  path: '/api/heatmap',
  async handle(c) {
    const query = new Query(c.url, ['run', 'kind', 'bins']);
    const kind = query.oneOf('kind', ['scores', 'weights'], 'scores');
    const bins = query.int('bins', { min: 2, max: 2000, default: 400 });
    const { handle, pending } = runOrPending(c, query);
    if (pending) return pending;
    const body = await handle.answer(
      requestKey(c.url),
      async (run): Promise<HeatmapResponse> => {
        const matrix = await uidMatrix(run, kind, bins);
        if (!matrix)
          throw new HttpError(
            404,
            `this run has no ${kind === 'scores' ? 'rewards or logged scores' : 'weights'}`,
            {
              hint: 'the run page lists the charts its data supports',
            },
          );
        const { spec, uids, values } = matrix;
        const z: (number | null)[][] = uids.map((_, r) =>
          Array.from(values.subarray(r * spec.count, (r + 1) * spec.count), (v) =>
            Number.isFinite(v) ? v : null,
          ),
        );
        return {
          run: handle.id,
          version: handle.versionOf(run),
          partial: run.partial,
          kind,
          xLabel: run.x.label,
          caption: matrix.caption,
          uids,
          x: Array.from({ length: spec.count }, (_, i) => spec.x0 + (i + 0.5) * spec.width),
          z,
        };
      },
      { heavy: true },
    );
    return jsonText(body);
  },
};
