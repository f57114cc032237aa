import type { BinnedStats } from '../engine/binned-stats.js';
import type { VegaLiteSpec } from '../render/index.js';
import { constantText, SI_AXIS, significantFormat, valueAxis } from './axis.js';
import { defaultSmoothingWindow, smoothSeries, type Smoothing } from './smoothing.js';

export interface RewardComponentsOptions {
  xTitle: string;
  /** Caption under the title: rows, files, step range. */
  caption: string;
  title?: string;
  /** Default: debiased EMA with the adaptive window. */
  smoothing?: Partial<Smoothing>;
  columns?: number;
}

/** `rewards.components.heal` → `heal`, `rewards.total` → `total`. */
export function componentName(column: string): string {
  return column.replace(/^rewards\.(components\.)?/, '');
}

/**
 * RL reward components over training steps, one small multiple per component (own y scale):
 * the exact per-bin mean (thin), its smoothed curve (bold) and the per-bin quantile band.
 */
export function rewardComponentsSpec(stats: BinnedStats, options: RewardComponentsOptions): VegaLiteSpec {
  const values: Record<string, number | string | null>[] = [];
  const components: string[] = [];
  let window = 1;
  let digits = 3;
  for (const series of stats.series) {
    // A component that never changes is drawn flat in a readable range and says so in its header.
    const y = valueAxis([...series.lower, ...series.upper, ...series.mean]);
    digits = Math.max(digits, y.digits);
    const name = componentName(series.column);
    const component = y.constant === undefined ? name : `${name} (constant ${constantText(y.constant)})`;
    components.push(component);
    window = Math.max(1, options.smoothing?.window ?? defaultSmoothingWindow(series.mean.length));
    const smoothed = smoothSeries(series.mean, { method: options.smoothing?.method ?? 'ema', window });
    for (let i = 0; i < series.mean.length; i++) {
      values.push({
        component,
        x: series.xMean[i],
        mean: finite(series.mean[i]),
        smooth: finite(smoothed[i]),
        lower: finite(series.lower[i]),
        upper: finite(series.upper[i]),
        padLow: i === 0 && y.padding ? y.padding[0] : null,
        padHigh: i === 0 && y.padding ? y.padding[1] : null,
      });
    }
  }
  const method = options.smoothing?.method ?? 'ema';
  const [lo, hi] = stats.band.map((q) => Math.round(q * 100));
  const note =
    `per-bin mean of all rows (${stats.spec.count} bins), band p${lo}–p${hi}` +
    (method === 'none' || window <= 1
      ? ''
      : `, bold: ${method === 'ema' ? 'debiased EMA' : 'running mean'} over ${window} bins`);
  // The x axis spans the bins, which end where the data does (a "nice" scale ran past it); bins of
  // one integer value each end at the last value.
  const { x0, width: binWidth, count: bins } = stats.spec;
  const perValue = binWidth === 1 && Number.isInteger(x0);
  const x = {
    field: 'x',
    type: 'quantitative',
    title: options.xTitle,
    scale: { domain: [x0, perValue ? x0 + bins - 1 : x0 + bins * binWidth], nice: false, zero: false },
    axis: SI_AXIS,
  };
  const columns = options.columns ?? Math.min(4, components.length);
  return {
    title: {
      text: options.title ?? 'Reward components over training',
      subtitle: [options.caption, note],
    },
    data: { values },
    facet: {
      field: 'component',
      type: 'nominal',
      sort: components,
      title: null,
      header: { labelFontWeight: 'bold', labelFontSize: 10 },
    },
    columns,
    spec: {
      width: Math.round(640 / columns) - 20,
      height: 110,
      layer: [
        {
          mark: { type: 'area', opacity: 0.25, color: '#4c78a8' },
          encoding: {
            x,
            y: {
              field: 'lower',
              type: 'quantitative',
              title: null,
              scale: { zero: false },
              axis: { format: significantFormat(digits) },
            },
            y2: { field: 'upper' },
          },
        },
        {
          // Invisible: widens a constant component's y range around its value.
          mark: { type: 'rule', opacity: 0 },
          encoding: { y: { field: 'padLow', type: 'quantitative' }, y2: { field: 'padHigh' } },
        },
        {
          mark: { type: 'line', strokeWidth: 0.6, color: '#4c78a8', opacity: 0.6 },
          encoding: { x, y: { field: 'mean', type: 'quantitative' } },
        },
        {
          mark: { type: 'line', strokeWidth: 1.6, color: '#d62728' },
          encoding: { x, y: { field: 'smooth', type: 'quantitative' } },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as unknown as VegaLiteSpec;
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
