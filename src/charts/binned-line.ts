import type { BinnedSeries } from '../engine/binned-stats.js';
import type { VegaLiteSpec } from '../render/index.js';
import { constantText, significantFormat, valueAxis } from './axis.js';
import { captionLines } from './caption-lines.js';
import { smoothSeries, type Smoothing } from './smoothing.js';

export interface BinnedLineOptions {
  title: string;
  caption: string;
  xTitle: string;
  yTitle: string;
  /** The band: the per-bin quantile band (default), min–max (what the dashboard draws) or none (overlays of many series). */
  band?: 'quantile' | 'minmax' | 'none';
  /** A smoothed curve over the per-bin means, drawn bold over them (thin then). */
  smoothing?: Smoothing;
  /** Logarithmic y (values ≤ 0 are not drawn). */
  logY?: boolean;
  /** The x range shown (a zoom): the scale ends there. */
  xDomain?: [number, number];
  /** x holds Unix seconds: drawn as UTC dates. */
  xTime?: boolean;
}

/**
 * Exact per-bin mean lines with their band, e.g. step length over block: one series, or one per
 * group (task) in its own colour. A series that never changes is drawn flat in a readable range and
 * its caption says "constant v"; tick labels get the digits that keep them distinct.
 */
export function binnedLineSpec(
  input: BinnedSeries | readonly BinnedSeries[],
  options: BinnedLineOptions,
): VegaLiteSpec {
  const all = Array.isArray(input) ? (input as readonly BinnedSeries[]) : [input as BinnedSeries];
  const minmax = options.band === 'minmax';
  const grouped = all.length > 1 || all.some((s) => s.group !== undefined);
  const noBand = options.band === 'none';
  const lows = noBand ? [] : all.flatMap((s) => (minmax ? s.min : s.lower));
  const highs = noBand ? [] : all.flatMap((s) => (minmax ? s.max : s.upper));
  const y = valueAxis([...lows, ...highs, ...all.flatMap((s) => s.mean)]);
  const smoothing = options.smoothing && options.smoothing.method !== 'none' && options.smoothing.window > 1;
  const values = all.flatMap((series) => {
    const smoothed = smoothing ? smoothSeries(series.mean, options.smoothing!) : undefined;
    return series.xMean.map((x, i) => ({
      x: options.xTime ? x * 1000 : x,
      group: series.group ?? '',
      mean: fin(series.mean[i], options.logY),
      lower: fin(minmax ? series.min[i] : series.lower[i], options.logY),
      upper: fin(minmax ? series.max[i] : series.upper[i], options.logY),
      ...(smoothed ? { smooth: fin(smoothed[i], options.logY) } : {}),
    }));
  });
  const caption =
    y.constant === undefined ? options.caption : `constant ${constantText(y.constant)} · ${options.caption}`;
  const domain = options.xDomain && (options.xTime ? options.xDomain.map((v) => v * 1000) : options.xDomain);
  const x = options.xTime
    ? {
        field: 'x',
        type: 'temporal',
        title: options.xTitle,
        scale: { nice: false, ...(domain ? { domain } : {}) },
        axis: { format: '%Y-%m-%d %H:%M', tickCount: 5, labelAngle: 0 },
      }
    : {
        field: 'x',
        type: 'quantitative',
        title: options.xTitle,
        scale: { zero: false, nice: false, ...(domain ? { domain } : {}) },
        axis: { format: ',~f', tickCount: 6 },
      };
  const padding =
    y.padding && !(options.logY && y.padding[0] <= 0)
      ? { domain: options.logY ? [y.constant! / 2, y.constant! * 2] : y.padding }
      : {};
  const yScale = { ...(options.logY ? { type: 'log' } : {}), ...padding };
  const color = grouped
    ? { color: { field: 'group', type: 'nominal', title: null, legend: { orient: 'top' } } }
    : {};
  const lineColor = grouped ? {} : { color: '#4c78a8' };
  // The first layer carries the y axis: its title, scale and tick format.
  const yEncoding = (field: string) => ({
    field,
    type: 'quantitative',
    title: options.yTitle,
    ...(Object.keys(yScale).length ? { scale: yScale } : {}),
    ...(y.digits > 3 ? { axis: { format: significantFormat(y.digits) } } : {}),
  });
  return {
    title: { text: options.title, subtitle: captionLines(caption, 80) },
    data: { values },
    ...(domain ? { transform: [{ filter: { field: 'x', range: domain } }] } : {}),
    layer: [
      ...(noBand
        ? []
        : [
            {
              mark: { type: 'area', opacity: grouped ? 0.12 : 0.25, ...lineColor },
              encoding: { x, y: yEncoding('lower'), y2: { field: 'upper' }, ...color },
            },
          ]),
      {
        mark: {
          type: 'line',
          strokeWidth: smoothing ? 0.8 : 1.2,
          ...(smoothing ? { opacity: 0.5 } : {}),
          ...lineColor,
        },
        encoding: { x, y: noBand ? yEncoding('mean') : { field: 'mean', type: 'quantitative' }, ...color },
      },
      ...(smoothing
        ? [
            {
              mark: { type: 'line', strokeWidth: 1.8, ...(grouped ? {} : { color: '#d62728' }) },
              encoding: { x, y: { field: 'smooth', type: 'quantitative' }, ...color },
            },
          ]
        : []),
    ],
  } as unknown as VegaLiteSpec;
}

function fin(v: number, log = false): number | null {
  return Number.isFinite(v) && (!log || v > 0) ? v : null;
}
