import { POSITION_COLUMNS } from '../engine/positions.js';
import type { Run } from '../engine/run.js';
import type { ChartInfo, MetricInfo } from './api-types.js';

/** Per-uid values shown as point clouds (2-D by uid and 3-D), when the run has them. */
const POINT_CLOUD_METRICS = ['rewards', 'completion_times'];
const WEIGHT_KINDS = ['set_weights', 'neuron_weights'];

/** Every chart the run's data supports, in the order the run page shows them. */
export function chartCatalog(run: Run, metrics: readonly MetricInfo[]): ChartInfo[] {
  const charts: ChartInfo[] = [];
  const x = run.x.label;
  const uidMetrics = new Set(metrics.filter((m) => m.table === 'uid_events').map((m) => m.name));
  const indexed = new Set(run.columns.indexedKinds);
  const clouds = POINT_CLOUD_METRICS.filter((m) => uidMetrics.has(m));
  for (const metric of clouds)
    charts.push({
      id: `scatter:${metric}`,
      kind: 'scatter',
      title: `${metric} by uid`,
      description: `reservoir sample of (event, uid) values over ${x}, coloured by uid`,
      metric,
      table: 'uid_events',
    });
  if (uidMetrics.has('rewards') || indexed.has('moving_averaged_scores'))
    charts.push({
      id: 'heatmap:scores',
      kind: 'heatmap',
      heatmap: 'scores',
      title: 'Moving-averaged scores',
      description: `uid × ${x}: as logged, or rebuilt by replaying every event (α = 0.05)`,
    });
  if (WEIGHT_KINDS.some((k) => indexed.has(k)))
    charts.push({
      id: 'heatmap:weights',
      kind: 'heatmap',
      heatmap: 'weights',
      title: 'Weights',
      description: `uid × ${x}: last weight vector per bin, carried forward`,
    });
  const line = (m: MetricInfo): ChartInfo => ({
    id: `line:${m.table}:${m.name}`,
    kind: 'line',
    title: m.name,
    description:
      m.table === 'uid_events'
        ? `per-uid ${m.name} over ${x}: mean over uids and events per pixel column, min–max band`
        : `${m.name} over ${x}: mean per pixel column, min–max band`,
    metric: m.name,
    table: m.table,
  });
  // RL reward components lead, then the position map, then every other metric.
  charts.push(...metrics.filter((m) => m.name.startsWith('rewards.')).map(line));
  const stored = run.storedColumns('rows');
  if (Object.values(POSITION_COLUMNS).every((c) => stored.has(c)))
    charts.push({
      id: 'positions',
      kind: 'positions',
      title: 'Position visits',
      description: 'exact visit counts per tile, per map (log colour scale)',
    });
  charts.push(...metrics.filter((m) => !m.name.startsWith('rewards.')).map(line));
  for (const metric of clouds)
    charts.push({
      id: `scatter3d:${metric}`,
      kind: 'scatter3d',
      title: `${metric} · ${x} × uid (3-D)`,
      description: `reservoir sample of (event, uid) values, ${x} × uid × ${metric}`,
      metric,
      table: 'uid_events',
    });
  return charts;
}

export function findChart(charts: readonly ChartInfo[], id: string): ChartInfo | undefined {
  return charts.find((c) => c.id === id);
}
