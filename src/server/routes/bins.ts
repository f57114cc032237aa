import { binnedStats, xRangeSql } from '../../engine/binned-stats.js';
import type { BinsResponse, Table, XAxisChoice } from '../api-types.js';
import { xAxisOf } from '../x-axes.js';
import { jsonText, requestKey } from '../context.js';
import { requireMetric } from '../metrics.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';
import { runOrPending } from '../run-access.js';

/**
 * GET /api/bins?run=ID&metric=M[&table=events|uid_events][&bins=N][&group=task][&xmin=&xmax=]
 * [&xaxis=runtime|time] (a wandb history's `_runtime` or `_timestamp` as x; xmin/xmax in it) —
 * exact per-bin count, mean, min, max and p10–p90 band over every row. The page asks for one bin
 * per pixel column of the plot, so a spike in a single row still shows as the bin's max.
 */
export const binsRoute: Route = {
  path: '/api/bins',
  async handle(c) {
    const query = new Query(c.url, ['run', 'metric', 'table', 'bins', 'group', 'xmin', 'xmax', 'xaxis']);
    const xaxis = query.oneOf<XAxisChoice>('xaxis', ['default', 'runtime', 'time'], 'default');
    const metricName = query.required('metric');
    const table = query.oneOf<Table>('table', ['events', 'uid_events'], 'events');
    const maxBins = query.int('bins', { min: 1, max: 4000, default: 800 });
    const group = query.oneOf('group', ['none', 'task'], 'none');
    const xmin = query.number('xmin');
    const xmax = query.number('xmax');
    const { handle, pending } = runOrPending(c, query);
    if (pending) return pending;
    const body = await handle.answer(
      requestKey(c.url),
      async (run): Promise<BinsResponse> => {
        const metric = await requireMetric(run, table, metricName);
        const x = xAxisOf(run, table, xaxis);
        const stats = await binnedStats(run, {
          columns: [metric.name],
          table,
          maxBins,
          groupBy: group === 'task' ? 'task' : undefined,
          where: xRangeSql({ xmin, xmax }, x.column),
          xColumn: x.column,
        });
        return {
          run: handle.id,
          version: handle.versionOf(run),
          partial: run.partial,
          metric: metric.name,
          table,
          xLabel: x.label,
          xAxis: xaxis,
          bins: stats.spec,
          quantiles: stats.quantiles,
          rows: stats.series.reduce((sum, s) => sum + s.count.reduce((a, b) => a + b, 0), 0),
          series: stats.series.map((s) => ({
            group: s.group ?? null,
            x: s.xMean,
            count: s.count,
            mean: s.mean,
            min: s.min,
            max: s.max,
            lower: s.lower,
            upper: s.upper,
            nonFinite: s.nonFinite,
          })),
        };
      },
      { heavy: table === 'uid_events' },
    );
    return jsonText(body);
  },
};
