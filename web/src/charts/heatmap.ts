import Plotly from 'plotly.js-dist-min';
import type { ChartInfo, HeatmapResponse } from '../../../src/server/api-types.js';
import { getReady } from '../api.js';
import type { Drawable } from '../scheduler.js';
import { chartCard, toCsv } from './card.js';
import { axis, baseLayout, CONFIG, MAGMA } from './plotly-theme.js';

export interface HeatmapChart extends Drawable {
  /** Redraws from the data already fetched (log colour toggled). */
  restyle(): void;
  destroy(): void;
}

/**
 * Colour by log10 when asked and every value is positive: the z drawn, the colour bar's ticks at
 * powers of ten, and the original values for the hover. Otherwise the values as they are.
 */
export function heatmapColour(
  z: (number | null)[][],
  log: boolean,
): { z: (number | null)[][]; log: boolean; tickvals?: number[]; ticktext?: string[] } {
  const finite = z.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  if (!log || !finite.length || finite.some((v) => v <= 0)) return { z, log: false };
  const logged = z.map((row) => row.map((v) => (v === null ? null : Math.log10(v))));
  const lo = Math.floor(Math.log10(Math.min(...finite)));
  const hi = Math.ceil(Math.log10(Math.max(...finite)));
  const tickvals = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  return { z: logged, log: true, tickvals, ticktext: tickvals.map((k) => `1e${k}`) };
}

/** uid × x matrix (moving-averaged scores or weights), one column per few pixels. */
export function uidHeatmapChart(
  run: string,
  info: ChartInfo,
  settings: () => { logY: boolean },
): HeatmapChart {
  const card = chartCard(run, info, { height: 380, wide: true });
  let m: HeatmapResponse | undefined;
  const render = async (): Promise<void> => {
    if (!m) return;
    const title = m.kind === 'scores' ? 'score' : 'weight';
    const colour = heatmapColour(m.z, settings().logY);
    await Plotly.react(
      card.plot,
      [
        {
          type: 'heatmap',
          x: m.x,
          y: m.uids,
          z: colour.z,
          customdata: m.z,
          colorscale: m.kind === 'scores' ? 'Viridis' : MAGMA,
          colorbar: {
            title: { text: colour.log ? `${title} (log)` : title, side: 'right' },
            thickness: 10,
            outlinewidth: 0,
            tickfont: { size: 10 },
            ...(colour.log ? { tickvals: colour.tickvals, ticktext: colour.ticktext } : {}),
          },
          hovertemplate: `uid %{y}<br>${m.xLabel} %{x:,.0f}<br>${title} %{customdata:.4~g}<extra></extra>`,
          hoverongaps: false,
        },
      ],
      baseLayout({ xaxis: axis(m.xLabel, { tickformat: '~s' }), yaxis: axis('uid') }),
      CONFIG,
    );
    const logNote = settings().logY
      ? colour.log
        ? ' · log colour'
        : ' · linear colour (values ≤ 0 present)'
      : '';
    card.note.textContent = `${m.caption} · ${m.x.length} columns${logNote}`;
    const shown = m;
    card.setCsv(`${run}-${m.kind}-matrix.csv`.replace(/[^\w.-]+/g, '_'), () =>
      toCsv(
        ['uid', shown.xLabel, title],
        shown.uids.flatMap((uid, r) => shown.x.map((x, c) => [uid, x, shown.z[r][c]])),
      ),
    );
  };
  return {
    el: card.el,
    cost: info.heatmap === 'scores' ? 2 : 1,
    async draw() {
      try {
        const bins = Math.max(20, Math.min(1000, Math.round((card.plot.clientWidth - 140) / 2)));
        m = await getReady<HeatmapResponse>('/api/heatmap', { run, kind: info.heatmap, bins });
        card.setError(undefined);
        await render();
        card.stamp(m);
        card.drawn();
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
}
