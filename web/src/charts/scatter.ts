import Plotly from 'plotly.js-dist-min';
import type { ChartInfo, SampleResponse } from '../../../src/server/api-types.js';
import { getReady } from '../api.js';
import { count } from '../format.js';
import type { Drawable } from '../scheduler.js';
import { chartCard, toCsv } from './card.js';
import { axis, baseLayout, CONFIG, TURBO } from './plotly-theme.js';

export interface PointCloudChart extends Drawable {
  destroy(): void;
}

/**
 * A per-uid value from the seeded reservoir sample: value over x coloured by uid (2-D), or
 * x × uid × value (3-D, validators). Every row is equally likely to be drawn.
 */
export function pointCloudChart(run: string, info: ChartInfo, dimensions: 2 | 3): PointCloudChart {
  const card = chartCard(run, info, { height: dimensions === 3 ? 520 : 300, wide: dimensions === 3 });
  return {
    el: card.el,
    cost: 2,
    async draw() {
      try {
        const sample = await getReady<SampleResponse>('/api/sample', {
          run,
          metric: info.metric,
          size: 10_000,
        });
        card.setError(undefined);
        const hover = `uid %{${dimensions === 3 ? 'y' : 'marker.color'}}<br>${sample.xLabel} %{x:,}<br>${sample.metric} %{${dimensions === 3 ? 'z' : 'y'}:.4~g}<br>%{text}<extra></extra>`;
        // 2-D: colour is the uid; 3-D: uid is an axis, so colour shows the value.
        const marker = {
          color: dimensions === 3 ? sample.value : sample.uid,
          colorscale: dimensions === 3 ? 'Viridis' : TURBO,
          size: dimensions === 3 ? 2.5 : 4,
          opacity: 0.7,
          colorbar: {
            title: { text: dimensions === 3 ? sample.metric : 'uid', side: 'right' },
            thickness: 10,
            len: 0.8,
            outlinewidth: 0,
            tickfont: { size: 10 },
          },
        };
        const text = sample.task.map((t) => t ?? '');
        if (dimensions === 3) {
          await Plotly.react(
            card.plot,
            [
              {
                type: 'scatter3d',
                mode: 'markers',
                x: sample.x,
                y: sample.uid,
                z: sample.value,
                text,
                marker,
                hovertemplate: hover,
              },
            ],
            baseLayout({
              margin: { l: 0, r: 0, t: 0, b: 0 },
              scene: {
                xaxis: axis(sample.xLabel, {
                  tickformat: '~s',
                  backgroundcolor: '#f8fafc',
                  showbackground: true,
                }),
                yaxis: axis('uid', { backgroundcolor: '#f8fafc', showbackground: true }),
                zaxis: axis(sample.metric, { backgroundcolor: '#f8fafc', showbackground: true }),
                camera: { eye: { x: 1.5, y: -1.5, z: 0.85 } },
                aspectmode: 'manual',
                aspectratio: { x: 1.6, y: 1, z: 0.7 },
              },
            }),
            CONFIG,
          );
        } else {
          await Plotly.react(
            card.plot,
            [
              {
                type: 'scattergl',
                mode: 'markers',
                x: sample.x,
                y: sample.value,
                text,
                marker,
                hovertemplate: hover,
              },
            ],
            baseLayout({
              xaxis: axis(sample.xLabel, { tickformat: '~s' }),
              yaxis: axis(sample.metric, { tickformat: '~g' }),
              hovermode: 'closest',
            }),
            CONFIG,
          );
        }
        const pct = sample.population ? ((sample.size / sample.population) * 100).toPrecision(3) : '0';
        card.note.textContent = `seeded uniform sample of ${count(sample.size)} of ${count(sample.population)} (event, uid) values (${pct} %, seed ${sample.seed}) · colour: ${dimensions === 3 ? sample.metric : 'uid'}`;
        card.el.dataset.rows = String(sample.population);
        card.setCsv(`${run}-${sample.metric}-sample.csv`.replace(/[^\w.-]+/g, '_'), () =>
          toCsv(
            [sample.xLabel, 'uid', 'task', sample.metric],
            sample.x.map((x, i) => [x, sample.uid[i], sample.task[i], sample.value[i]]),
          ),
        );
        card.stamp(sample);
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
