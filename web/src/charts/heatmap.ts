import Plotly from 'plotly.js-dist-min';
import type { ChartInfo, HeatmapResponse } from '../../../src/server/api-types.js';
import { getReady } from '../api.js';
import type { Drawable } from '../scheduler.js';
import { chartCard } from './card.js';
import { axis, baseLayout, CONFIG, MAGMA } from './plotly-theme.js';

export interface HeatmapChart extends Drawable {
  destroy(): void;
}

/** uid × x matrix (moving-averaged scores or weights), one column per few pixels. */
export function uidHeatmapChart(run: string, info: ChartInfo): HeatmapChart {
  const card = chartCard(run, info, { height: 380, wide: true });
  return {
    el: card.el,
    cost: info.heatmap === 'scores' ? 2 : 1,
    async draw() {
      try {
        const bins = Math.max(20, Math.min(1000, Math.round((card.plot.clientWidth - 140) / 2)));
        const m = await getReady<HeatmapResponse>('/api/heatmap', { run, kind: info.heatmap, bins });
        card.setError(undefined);
        const title = m.kind === 'scores' ? 'score' : 'weight';
        await Plotly.react(
          card.plot,
          [
            {
              type: 'heatmap',
              x: m.x,
              y: m.uids,
              z: m.z,
              colorscale: m.kind === 'scores' ? 'Viridis' : MAGMA,
              colorbar: {
                title: { text: title, side: 'right' },
                thickness: 10,
                outlinewidth: 0,
                tickfont: { size: 10 },
              },
              hovertemplate: `uid %{y}<br>${m.xLabel} %{x:,.0f}<br>${title} %{z:.4~g}<extra></extra>`,
              hoverongaps: false,
            },
          ],
          baseLayout({ xaxis: axis(m.xLabel, { tickformat: '~s' }), yaxis: axis('uid') }),
          CONFIG,
        );
        card.note.textContent = `${m.caption} · ${m.x.length} columns`;
        card.stamp(m);
        card.drawn();
      } catch (error) {
        card.setError(error instanceof Error ? error.message : String(error));
      }
    },
    destroy() {
      Plotly.purge(card.plot);
    },
  };
}
