import type { BinnedSeries } from '../engine/binned-stats.js';
import { axis, baseLayout, hoverText, type Figure } from './figure.js';
import { roundedValues } from './numbers.js';

export interface LineTrace {
  series: BinnedSeries;
  name: string;
  color: string;
  /** Draw the min–max and quantile bands (one series per chart is readable). */
  bands: boolean;
}

/** rgba() of a #rrggbb colour. */
export function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/**
 * Zoomable line chart of exact per-bin statistics: for each series the mean (faint, as computed)
 * and its smoothed copy (solid; the page's smoothing slider recomputes it), and optionally the
 * min–max and p-band as shaded areas. Hover shows every value at an x.
 */
export function binnedLineFigure(
  traces: LineTrace[],
  options: { xLabel: string; yLabel: string; band: [number, number]; height?: number },
): Figure {
  const data: Record<string, unknown>[] = [];
  const smooth: { source: number; target: number }[] = [];
  const p = (q: number) => `p${Math.round(q * 100)}`;
  for (const t of traces) {
    const s = t.series;
    const x = roundedValues(s.xMean, 100_000);
    const name = hoverText(t.name);
    const area = (y: number[], label: string, fill: boolean, alpha: number) => ({
      type: 'scatter',
      mode: 'lines',
      x,
      y: roundedValues(y),
      name: `${t.name} ${label}`,
      line: { width: 0, color: t.color },
      fill: fill ? 'tonexty' : 'none',
      fillcolor: withAlpha(t.color, alpha),
      showlegend: false,
      hovertemplate: `${name} ${label} %{y:.4g}<extra></extra>`,
    });
    if (t.bands) {
      data.push(area(s.min, 'min', false, 0), area(s.max, 'max', true, 0.1));
      data.push(area(s.lower, p(options.band[0]), false, 0), area(s.upper, p(options.band[1]), true, 0.22));
    }
    const mean = roundedValues(s.mean);
    smooth.push({ source: data.length, target: data.length + 1 });
    data.push({
      type: 'scatter',
      mode: 'lines',
      x,
      y: mean,
      name: `${t.name} mean`,
      line: { width: 1, color: withAlpha(t.color, 0.35) },
      showlegend: false,
      hovertemplate: `${name} mean %{y:.4g} (%{customdata:,} rows)<extra></extra>`,
      customdata: s.count,
    });
    data.push({
      type: 'scatter',
      mode: x.length < 40 ? 'lines+markers' : 'lines',
      x,
      y: mean,
      name: t.name,
      line: { width: 2, color: t.color },
      showlegend: traces.length > 1,
      hovertemplate: `${name} smoothed %{y:.4g}<extra></extra>`,
    });
  }
  return {
    data,
    smooth,
    layout: baseLayout({
      height: options.height ?? 300,
      hovermode: 'x unified',
      showlegend: traces.length > 1,
      legend: { orientation: 'h', y: -0.22, traceorder: 'normal' },
      xaxis: axis(options.xLabel),
      yaxis: axis(options.yLabel),
      margin: { l: 60, r: 16, t: 12, b: 44 },
    }),
  };
}
