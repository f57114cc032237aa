import { positionChart } from '../analysis/plot-training.js';
import { formatCount } from '../charts/caption.js';
import { binnedLineSpec } from '../charts/binned-line.js';
import { defaultSmoothingWindow, type Smoothing } from '../charts/smoothing.js';
import { uidMatrixHeatmapSpec } from '../charts/uid-matrix-heatmap.js';
import { uidScatterSpec } from '../charts/uid-scatter.js';
import { binnedStats, xRangeSql } from '../engine/binned-stats.js';
import { reservoirSample } from '../engine/reservoir.js';
import type { Run } from '../engine/run.js';
import { and, ident, sql } from '../engine/sql.js';
import type { VegaLiteSpec } from '../render/index.js';
import type { ChartInfo, XAxisChoice } from './api-types.js';
import { HttpError } from './http-error.js';
import { xAxisOf } from './x-axes.js';
import { uidMatrix } from './uid-matrix.js';

/**
 * What the chart shows on the dashboard's screen, so that a download is that view: the x range of
 * a zoom, and for lines the smoothing, lines split by task and a logarithmic y.
 */
export interface ChartView {
  xmin?: number;
  xmax?: number;
  smoothing?: Smoothing;
  splitByTask?: boolean;
  logY?: boolean;
  /** Lines over a wandb history's `_runtime` or `_timestamp` instead of the run's x. */
  xAxis?: XAxisChoice;
}

/**
 * The Vega-Lite spec of a dashboard chart, built from the same chart modules `runlens plot` uses,
 * so a download looks like the CLI's figure and shows what the screen shows (`view`). A line is
 * the per-bin mean with the min–max band, as on the screen. A 3-D point cloud is drawn as its 2-D
 * projection (value over x, coloured by uid).
 */
export async function chartSpec(run: Run, chart: ChartInfo, view: ChartView = {}): Promise<VegaLiteSpec> {
  const files = run.ingest.files.length;
  const base = `${formatCount(run.ingest.rows)} events · ${files} file${files === 1 ? '' : 's'}`;
  const xTitle = run.x.label;
  const range = xRangeSql(view);
  const zoom =
    view.xmin !== undefined || view.xmax !== undefined
      ? ` · x ${formatCount(view.xmin ?? NaN)} … ${formatCount(view.xmax ?? NaN)}`
      : '';
  switch (chart.kind) {
    case 'line': {
      const x = xAxisOf(run, chart.table ?? 'events', view.xAxis ?? 'default');
      const lineRange = xRangeSql(view, x.column);
      const stats = await binnedStats(run, {
        columns: [chart.metric!],
        table: chart.table,
        maxBins: 500,
        groupBy: view.splitByTask ? 'task' : undefined,
        where: lineRange,
        xColumn: x.column,
      });
      if (!stats.series.length) throw new HttpError(404, `no values of ${chart.metric} to draw`);
      const rows = stats.series.reduce((sum, s) => sum + s.count.reduce((a, b) => a + b, 0), 0);
      const what = chart.table === 'uid_events' ? 'uid values' : 'events';
      const smoothing = view.smoothing && {
        method: view.smoothing.method,
        window:
          view.smoothing.window > 0
            ? view.smoothing.window
            : defaultSmoothingWindow(Math.max(...stats.series.map((s) => s.mean.length))),
      };
      const smoothed =
        smoothing && smoothing.method !== 'none' && smoothing.window > 1
          ? ` · bold: ${smoothing.method === 'ema' ? 'debiased EMA' : 'running mean'} over ${smoothing.window} bins`
          : '';
      return binnedLineSpec(stats.series, {
        title: chart.metric!,
        caption: `${formatCount(rows)} ${what} · ${files} file${files === 1 ? '' : 's'}${zoom} · per-bin mean of every row (${stats.spec.count} bins), band min–max${smoothed}${view.logY ? ' · log y' : ''}`,
        xTitle: x.label,
        yTitle: chart.metric!,
        xTime: x.time,
        band: 'minmax',
        smoothing,
        logY: view.logY,
        xDomain: view.xmin !== undefined && view.xmax !== undefined ? [view.xmin, view.xmax] : undefined,
      });
    }
    case 'scatter':
    case 'scatter3d': {
      const v = ident(chart.metric!);
      const sample = await reservoirSample(run, {
        table: 'uid_events',
        columns: ['x', 'uid', 'task', chart.metric!],
        where: and([
          sql`${v} IS NOT NULL`,
          sql`isfinite(${v})`,
          sql`${ident('x')} IS NOT NULL`,
          ...(range ? [range] : []),
        ]),
        size: 10_000,
        seed: 0,
        overX: true,
      });
      const caption = `${base}${zoom} · sample of ${formatCount(sample.size)} of ${formatCount(sample.population)} uid rows (${(sample.ratio * 100).toPrecision(3)} %, seed 0)`;
      return uidScatterSpec({
        sample: sample.columns,
        value: chart.metric!,
        valueTitle: chart.metric!,
        xTitle,
        caption,
      });
    }
    case 'heatmap': {
      const matrix = await uidMatrix(run, chart.heatmap!, 300);
      if (!matrix) throw new HttpError(404, `no ${chart.heatmap} to draw`);
      return uidMatrixHeatmapSpec(matrix, {
        title: matrix.title,
        caption: `${base} · ${matrix.caption}`,
        xTitle,
        colorTitle: matrix.colorTitle,
        scheme: chart.heatmap === 'weights' ? 'magma' : undefined,
      });
    }
    case 'positions': {
      const positions = await positionChart(run);
      if (!positions) throw new HttpError(404, 'no positions to draw');
      return positions.spec;
    }
  }
}
