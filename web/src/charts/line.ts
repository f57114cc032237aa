import Plotly, { type Data } from 'plotly.js-dist-min';
import type { BinsResponse, ChartInfo, XAxisChoice } from '../../../src/server/api-types.js';
import { defaultSmoothingWindow, smoothSeries, type SmoothingMethod } from '../../../src/charts/smoothing.js';
import { getReady } from '../api.js';
import { count } from '../format.js';
import type { Drawable } from '../scheduler.js';
import { constantText, valueAxis } from '../../../src/charts/axis.js';
import { chartCard, toCsv } from './card.js';
import { ACCENT, axis, baseLayout, CONFIG, PALETTE, withAlpha } from './plotly-theme.js';

export interface LineSettings {
  smoothing: SmoothingMethod;
  /** 0 = adaptive. */
  window: number;
  splitByTask: boolean;
  /** Logarithmic y (lines) and colour (heatmaps of positive values). */
  logY: boolean;
  /** Lines of event fields over the run's x, or a wandb history's `_runtime` / `_timestamp`. */
  xAxis: XAxisChoice;
}

export interface LineOptions {
  /** The x range to show at first (a zoom kept in the page's URL). */
  range?: [number, number];
  /** Called when the user zooms (a range) or resets the zoom (undefined). */
  onRange?: (range: [number, number] | undefined) => void;
}

export interface LineChart extends Drawable {
  /** Redraws from the data already fetched (smoothing changed). */
  restyle(): void;
  destroy(): void;
}

const MARGIN = { l: 60, r: 16 };

/**
 * The y axis of binned lines: a series whose every value is the same is drawn flat in the middle of
 * a readable range around it (Plotly would stretch its last bits over the whole height); otherwise
 * ticks get enough significant digits that no two read the same.
 */
export function yScale(data: Pick<BinsResponse, 'series'>): {
  tickformat: string;
  range?: [number, number];
  constant?: number;
} {
  const y = valueAxis(data.series.flatMap((series) => [...series.min, ...series.max]));
  return {
    tickformat: y.digits <= 6 ? '~g' : `.${y.digits}~g`,
    ...(y.padding ? { range: y.padding, constant: y.constant } : {}),
  };
}

/**
 * Exact binned line: one bin per pixel column of the plot (fetched again on resize and zoom), the
 * per-bin mean as the line and the per-bin min–max as the band, so a one-row spike still shows.
 */
export function lineChart(
  run: string,
  info: ChartInfo,
  settings: () => LineSettings,
  options: LineOptions = {},
): LineChart {
  const card = chartCard(run, info, { height: 270 });
  let data: BinsResponse | undefined;
  let range: [number, number] | undefined = options.range;
  /** Per-uid rows carry only the run's x: their lines stay on it. */
  const xAxis = (): XAxisChoice => (info.table === 'events' ? settings().xAxis : 'default');
  /** A zoom's end in the bins' unit: a number, or a date axis' "2024-05-01 12:00:00" (UTC) in seconds. */
  const xValue = (value: unknown): number | undefined => {
    if (typeof value === 'number') return data?.xAxis === 'time' ? value / 1000 : value;
    if (typeof value === 'string') {
      const ms = Date.parse(`${value.replace(' ', 'T')}Z`);
      return Number.isFinite(ms) ? ms / 1000 : undefined;
    }
    return undefined;
  };
  let drawn = false;
  let widthDrawn = 0;
  const plotWidth = (): number => Math.max(50, Math.round(card.plot.clientWidth - MARGIN.l - MARGIN.r));

  const render = async (): Promise<void> => {
    if (!data) return;
    const s = settings();
    const traces: Data[] = [];
    const grouped = data.series.length > 1;
    let window = 1;
    /** Each series' smoothed means as drawn (its means when not smoothed), for the CSV. */
    const smoothed: number[][] = [];
    // Wall time is drawn on a date axis (milliseconds); the bins are in seconds.
    const time = data.xAxis === 'time';
    data.series.forEach((series, i) => {
      const xs = time ? series.x.map((x) => x * 1000) : series.x;
      const color = grouped ? PALETTE[i % PALETTE.length] : ACCENT;
      const name = series.group ?? info.metric ?? 'mean';
      window = s.window > 0 ? s.window : defaultSmoothingWindow(series.x.length);
      const mean = series.mean.map((v) => v ?? NaN);
      const smooth =
        s.smoothing === 'none' || window <= 1
          ? undefined
          : smoothSeries(mean, { method: s.smoothing, window });
      smoothed.push(smooth ?? mean);
      const custom = series.x.map((_, k) => [series.min[k], series.max[k], series.count[k]]);
      // A handful of points (e.g. one x per file): show them, not just the segments between.
      const mode = series.x.length < 60 ? 'lines+markers' : 'lines';
      traces.push(
        {
          x: xs,
          y: series.max,
          type: 'scatter',
          mode: 'lines',
          line: { width: 0, color },
          hoverinfo: 'skip',
          showlegend: false,
          legendgroup: name,
        },
        {
          x: xs,
          y: series.min,
          type: 'scatter',
          mode: 'lines',
          fill: 'tonexty',
          fillcolor: withAlpha(color, grouped ? 0.1 : 0.16),
          line: { width: 0, color },
          hoverinfo: 'skip',
          showlegend: false,
          legendgroup: name,
        },
        {
          x: xs,
          y: series.mean,
          customdata: custom,
          type: 'scatter',
          mode,
          marker: { size: 5, color },
          name: smooth ? `${name} (mean per bin)` : name,
          line: { width: smooth ? 1 : 1.6, color: smooth ? withAlpha(color, 0.45) : color },
          hovertemplate: `${grouped ? `${name}: ` : ''}%{y:.4~g}<br>min %{customdata[0]:.4~g} · max %{customdata[1]:.4~g} · n %{customdata[2]:,}<extra></extra>`,
          showlegend: grouped && !smooth,
          legendgroup: name,
        },
      );
      if (smooth)
        traces.push({
          x: xs,
          y: smooth.map((v) => (Number.isFinite(v) ? v : null)),
          type: 'scatter',
          mode: 'lines',
          name,
          line: { width: 2, color },
          hovertemplate: `${grouped ? `${name} ` : ''}${s.smoothing === 'ema' ? 'EMA' : 'mean'}: %{y:.4~g}<extra></extra>`,
          showlegend: grouped,
          legendgroup: name,
        });
    });
    const y = yScale(data);
    // Log y: Plotly's range is in powers of ten; a constant is shown from half to twice its value.
    const log = s.logY;
    const yRange =
      y.range &&
      (log
        ? y.constant! > 0
          ? [Math.log10(y.constant! / 2), Math.log10(y.constant! * 2)]
          : undefined
        : y.range);
    const layout = baseLayout({
      margin: { ...baseLayout().margin, l: MARGIN.l, r: MARGIN.r, t: grouped ? 28 : 8 },
      xaxis: axis(data.xLabel, time ? { type: 'date' } : { tickformat: '~s' }),
      yaxis: axis(info.metric ?? '', {
        tickformat: y.tickformat,
        ...(log ? { type: 'log' } : {}),
        ...(yRange ? { range: yRange } : {}),
      }),
      hovermode: 'x unified',
      showlegend: grouped,
      legend: { orientation: 'h', x: 0, y: 1.12, font: { size: 11 } },
    });
    await Plotly.react(card.plot, traces, layout, CONFIG);
    const smoothing =
      s.smoothing === 'none' || window <= 1
        ? 'no smoothing'
        : `${s.smoothing === 'ema' ? 'debiased EMA' : 'running mean'} over ${window} bins`;
    const filled = Math.max(0, ...data.series.map((x) => x.x.length));
    const nonPositive = log && data.series.some((x) => x.min.some((v) => v !== null && v <= 0));
    card.note.textContent = `${y.constant !== undefined ? `constant ${constantText(y.constant)} · ` : ''}${count(data.rows)} ${data.table === 'uid_events' ? 'uid values' : 'events'} in ${count(filled)} of ${count(data.bins.count)} bins (one per pixel column) · line: mean · band: min–max · ${smoothing}${log ? ` · log y${nonPositive ? ' (values ≤ 0 not drawn)' : ''}` : ''}${range ? ' · zoomed: re-binned for the visible range' : ''}`;
    card.setView({
      xmin: range?.[0],
      xmax: range?.[1],
      xaxis: xAxis() === 'default' ? undefined : xAxis(),
      smoothing: s.smoothing,
      window: s.window,
      group: s.splitByTask ? 'task' : undefined,
      log: log ? 1 : undefined,
    });
    const shown = data;
    card.setCsv(`${run}-${info.metric ?? info.id}-bins.csv`.replace(/[^\w.-]+/g, '_'), () =>
      toCsv(
        ['group', shown.xLabel, 'count', 'mean', 'min', 'max', 'smoothed'],
        shown.series.flatMap((series, i) =>
          series.x.map((x, k) => [
            series.group ?? '',
            x,
            series.count[k],
            series.mean[k],
            series.min[k],
            series.max[k],
            smoothed[i][k],
          ]),
        ),
      ),
    );
    card.el.dataset.rows = String(data.rows);
    card.stamp(data);
    card.drawn();
    if (!drawn) {
      drawn = true;
      (card.plot as any).on('plotly_relayout', (event: Record<string, unknown>) => {
        const a = xValue(event['xaxis.range[0]']);
        const b = xValue(event['xaxis.range[1]']);
        if (a !== undefined && b !== undefined) range = [a, b];
        else if (event['xaxis.autorange']) range = undefined;
        else return;
        options.onRange?.(range);
        void chart.draw();
      });
    }
  };

  const chart: LineChart = {
    el: card.el,
    cost: info.table === 'uid_events' ? 1 : 0,
    async draw() {
      const s = settings();
      try {
        widthDrawn = plotWidth();
        data = await getReady<BinsResponse>('/api/bins', {
          run,
          metric: info.metric,
          table: info.table,
          bins: widthDrawn,
          group: s.splitByTask ? 'task' : undefined,
          xmin: range?.[0],
          xmax: range?.[1],
          xaxis: xAxis() === 'default' ? undefined : xAxis(),
        });
        card.setError(undefined);
        await render();
      } catch (error) {
        card.setError(error instanceof Error ? error.message : String(error));
      }
    },
    restyle() {
      void render();
    },
    destroy() {
      Plotly.purge(card.plot);
    },
  };
  return chart;
}
