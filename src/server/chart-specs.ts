import { positionChart } from '../analysis/plot-training.js';
import { formatCount } from '../charts/caption.js';
import { binnedLineSpec } from '../charts/binned-line.js';
import { uidMatrixHeatmapSpec } from '../charts/uid-matrix-heatmap.js';
import { uidScatterSpec } from '../charts/uid-scatter.js';
import { binnedStats } from '../engine/binned-stats.js';
import { reservoirSample } from '../engine/reservoir.js';
import type { Run } from '../engine/run.js';
import { quoteIdentifier } from '../engine/session.js';
import type { VegaLiteSpec } from '../render/index.js';
import type { ChartInfo } from './api-types.js';
import { HttpError } from './http-error.js';
import { uidMatrix } from './uid-matrix.js';

/**
 * The Vega-Lite spec of a dashboard chart, built from the same chart modules `runlens plot` uses,
 * so a download looks like the CLI's figure. A 3-D point cloud is drawn as its 2-D projection
 * (value over x, coloured by uid).
 */
export async function chartSpec(run: Run, chart: ChartInfo): Promise<VegaLiteSpec> {
  const files = run.ingest.files.length;
  const base = `${formatCount(run.ingest.rows)} events · ${files} file${files === 1 ? '' : 's'}`;
  const xTitle = run.x.label;
  switch (chart.kind) {
    case 'line': {
      const stats = await binnedStats(run, { columns: [chart.metric!], table: chart.table, maxBins: 500 });
      const series = stats.series[0];
      if (!series) throw new HttpError(404, `no values of ${chart.metric} to draw`);
      const rows = series.count.reduce((a, b) => a + b, 0);
      const what = chart.table === 'uid_events' ? 'uid values' : 'events';
      return binnedLineSpec(series, {
        title: chart.metric!,
        caption: `${formatCount(rows)} ${what} · ${files} file${files === 1 ? '' : 's'} · per-bin mean of every row (${stats.spec.count} bins), band p10–p90`,
        xTitle,
        yTitle: chart.metric!,
      });
    }
    case 'scatter':
    case 'scatter3d': {
      const v = quoteIdentifier(chart.metric!);
      const sample = await reservoirSample(run, {
        table: 'uid_events',
        columns: ['x', 'uid', 'task', chart.metric!],
        where: `${v} IS NOT NULL AND isfinite(${v}) AND x IS NOT NULL`,
        size: 10_000,
        seed: 0,
      });
      const caption = `${base} · sample of ${formatCount(sample.size)} of ${formatCount(sample.population)} uid rows (${(sample.ratio * 100).toPrecision(3)} %, seed 0)`;
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
