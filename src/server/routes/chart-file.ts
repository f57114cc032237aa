import { renderPdf, renderPngAsync, renderSvg, CHART_FORMATS, type ChartFormat } from '../../render/index.js';
import { findChart, chartCatalog } from '../chart-catalog.js';
import { SMOOTHING_METHODS } from '../../charts/smoothing.js';
import type { XAxisChoice } from '../api-types.js';
import { chartSpec, type ChartView } from '../chart-specs.js';
import { HttpError } from '../http-error.js';
import { runMetrics } from '../metrics.js';
import { Query } from '../query.js';
import type { Route } from '../route.js';
import { runOrPending } from '../run-access.js';
import { downloadName } from '../download-name.js';

const TYPES: Record<ChartFormat, string> = {
  png: 'image/png',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
};

/**
 * GET /api/chart?run=ID&chart=CHART_ID&format=png|svg|pdf[&dpi=N] — a chart of the run page as a
 * file, rendered server-side by the CLI's renderer (Vega-Lite → SVG → PNG at `dpi` / vector PDF).
 * What the page shows goes with it, so the file is the view on the screen: `xmin`/`xmax` (a zoom),
 * and for lines `smoothing` (ema, mean, none) with `window` (0: adaptive), `group=task`, `log=1`.
 * PNGs are rasterised off the server's thread, which goes on answering other requests meanwhile.
 */
export const chartFileRoute: Route = {
  path: '/api/chart',
  async handle(c) {
    const query = new Query(c.url, [
      'run',
      'chart',
      'format',
      'dpi',
      'xmin',
      'xmax',
      'smoothing',
      'window',
      'group',
      'log',
      'xaxis',
    ]);
    const chartId = query.required('chart');
    const format = query.oneOf<ChartFormat>('format', CHART_FORMATS, 'png');
    const dpi = query.int('dpi', { min: 36, max: 600, default: 200 });
    const smoothing = query.oneOf('smoothing', [...SMOOTHING_METHODS, ''] as const, '');
    const view: ChartView = {
      xmin: query.number('xmin'),
      xmax: query.number('xmax'),
      smoothing: smoothing
        ? { method: smoothing, window: query.int('window', { min: 0, max: 10_000, default: 0 }) }
        : undefined,
      splitByTask: query.oneOf('group', ['none', 'task'], 'none') === 'task',
      logY: query.oneOf('log', ['0', '1'], '0') === '1',
      xAxis: query.oneOf<XAxisChoice>('xaxis', ['default', 'runtime', 'time'], 'default'),
    };
    const { handle, pending } = runOrPending(c, query, { complete: true });
    if (pending) return pending;
    const spec = await handle.use(
      async (run) => {
        const charts = chartCatalog(run, await runMetrics(run));
        const chart = findChart(charts, chartId);
        if (!chart)
          throw new HttpError(400, `unknown chart "${chartId}" for this run`, {
            valid: charts.map((ch) => ch.id),
          });
        return chartSpec(run, chart, view);
      },
      { heavy: true, complete: true },
    );
    const svg = await renderSvg(spec);
    const body =
      format === 'svg'
        ? svg
        : format === 'png'
          ? await renderPngAsync(svg, { dpi })
          : await renderPdf(svg, { title: chartId });
    return new Response(body as BodyInit, {
      headers: {
        'content-type': TYPES[format],
        'content-disposition': `attachment; filename="${downloadName(handle.id, chartId, format)}"`,
        'cache-control': 'no-store',
      },
    });
  },
};
