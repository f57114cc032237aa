import Plotly from 'plotly.js-dist-min';
import type { ChartInfo, PositionsResponse } from '../../../src/server/api-types.js';
import { getReady } from '../api.js';
import { h } from '../dom.js';
import { count } from '../format.js';
import type { Drawable } from '../scheduler.js';
import { chartCard } from './card.js';
import { axis, baseLayout, CONFIG } from './plotly-theme.js';

export interface PositionsChart extends Drawable {
  destroy(): void;
}

/** Exact visits per tile of one map (chosen in the card), log colour scale. */
export function positionsChart(run: string, info: ChartInfo): PositionsChart {
  const card = chartCard(run, info, { height: 420 });
  const select = h('select', { class: 'select', 'aria-label': 'map' });
  card.controls.append(h('label', { class: 'control' }, 'map ', select));
  let data: PositionsResponse | undefined;

  const render = async (): Promise<void> => {
    if (!data) return;
    const chosen = data.maps.find((m) => String(m.map) === select.value) ?? data.maps[0];
    if (!chosen) return;
    const x0 = Math.min(...chosen.x);
    const y0 = Math.min(...chosen.y);
    const w = Math.max(...chosen.x) - x0 + 1;
    const hgt = Math.max(...chosen.y) - y0 + 1;
    const z: (number | null)[][] = Array.from({ length: hgt }, () => new Array<number | null>(w).fill(null));
    const visits: (number | null)[][] = Array.from({ length: hgt }, () =>
      new Array<number | null>(w).fill(null),
    );
    for (let i = 0; i < chosen.x.length; i++) {
      z[chosen.y[i] - y0][chosen.x[i] - x0] = Math.log10(chosen.count[i]);
      visits[chosen.y[i] - y0][chosen.x[i] - x0] = chosen.count[i];
    }
    const max = Math.max(1, ...chosen.count);
    const ticks = [0, 1, 2, 3, 4, 5, 6, 7].filter((p) => 10 ** p <= max * 1.0001);
    await Plotly.react(
      card.plot,
      [
        {
          type: 'heatmap',
          x: Array.from({ length: w }, (_, i) => x0 + i),
          y: Array.from({ length: hgt }, (_, i) => y0 + i),
          z,
          customdata: visits,
          colorscale: 'Hot',
          reversescale: true,
          zmin: 0,
          colorbar: {
            title: { text: 'visits', side: 'right' },
            tickvals: ticks,
            ticktext: ticks.map((p) => count(10 ** p)),
            thickness: 10,
            outlinewidth: 0,
          },
          hovertemplate: 'x %{x}, y %{y}<br>%{customdata:,} visits<extra></extra>',
          hoverongaps: false,
        },
      ],
      baseLayout({
        xaxis: axis('x', { constrain: 'domain' }),
        yaxis: axis('y', { autorange: 'reversed', scaleanchor: 'x', constrain: 'domain' }),
      }),
      CONFIG,
    );
    card.note.textContent = `map ${chosen.map}: ${count(chosen.visits)} of ${count(data.total)} visits · ${data.maps.length} maps · log colour scale`;
  };
  select.addEventListener('change', () => void render());

  return {
    el: card.el,
    cost: 1,
    async draw() {
      try {
        data = await getReady<PositionsResponse>('/api/positions', { run });
        card.setError(undefined);
        const current = select.value;
        select.replaceChildren(
          ...data.maps.map((m) => h('option', { value: String(m.map) }, `${m.map} (${count(m.visits)})`)),
        );
        if (current && data.maps.some((m) => String(m.map) === current)) select.value = current;
        card.stamp(data);
        card.drawn();
        await render();
      } catch (error) {
        card.setError(error instanceof Error ? error.message : String(error));
      }
    },
    destroy() {
      Plotly.purge(card.plot);
    },
  };
}
