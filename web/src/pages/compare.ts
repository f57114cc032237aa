import Plotly, { type Data } from 'plotly.js-dist-min';
import type { BinsResponse, MetricInfo, SummaryResponse } from '../../../src/server/api-types.js';
import { defaultSmoothingWindow, smoothSeries } from '../../../src/charts/smoothing.js';
import { ApiError, get, getReady } from '../api.js';
import { axis, baseLayout, CONFIG, PALETTE, withAlpha } from '../charts/plotly-theme.js';
import { chrome } from '../chrome.js';
import { h } from '../dom.js';
import { count, short } from '../format.js';
import { watchRun } from '../live.js';
import { currentRoute, joinIds, readLineView, writeLineView, writeQuery } from '../view-state.js';
import { RedrawScheduler } from '../scheduler.js';
import { runHref } from './runs.js';
import { smoothingControls } from './smoothing-controls.js';

/** Two or more runs overlaid on one metric (each on its own x), live. */
export function comparePage(root: HTMLElement, ids: string[], initialMetric: string | undefined): () => void {
  chrome.crumbs({ label: 'Runs', href: '#/' }, { label: `Compare ${ids.length} runs` });
  chrome.live('connecting');
  // The view (metric, smoothing, band, log) is kept in the route's query: a reload shows it again.
  const initial = currentRoute().query;
  const settings = { ...readLineView(initial), band: initial.get('band') !== '0' };
  const saveView = (): void => {
    const query = new URLSearchParams({ runs: joinIds(ids) });
    const metric = chosen()?.name ?? initialMetric;
    if (metric) query.set('metric', metric);
    writeLineView(query, settings);
    if (!settings.band) query.set('band', '0');
    writeQuery(query);
  };
  const summaries = new Map<string, SummaryResponse>();
  /** Runs that cannot be opened (unknown id, unreadable): why. */
  const failed = new Map<string, string>();
  const shared = h('p', { class: 'notice', hidden: true, 'data-role': 'shared' });
  const data = new Map<string, BinsResponse>();
  const metricSelect = h('select', { class: 'select', 'aria-label': 'metric' });
  const band = h('input', { type: 'checkbox', checked: settings.band });
  const logToggle = h('input', { type: 'checkbox', checked: settings.logY, 'aria-label': 'log y' });
  const status = h('p', { class: 'subtle' });
  const plot = h('div', { class: 'plot', style: 'height:460px' });
  const legend = h('table', { class: 'runs compact' });
  const card = h(
    'section',
    { class: 'card wide spaced', 'data-chart': 'compare' },
    plot,
    h('p', { class: 'card-note' }),
  );
  root.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Compare runs'), status)),
    shared,
    h(
      'div',
      { class: 'toolbar' },
      h('span', { class: 'control' }, 'Metric ', metricSelect),
      smoothingControls(settings, () => {
        void render();
        saveView();
      }),
      h('label', { class: 'control' }, band, ' min–max band'),
      h('label', { class: 'control' }, logToggle, ' log y'),
    ),
    card,
    h('div', { class: 'panel' }, legend),
  );
  band.addEventListener('change', () => {
    settings.band = band.checked;
    void render();
    saveView();
  });
  logToggle.addEventListener('change', () => {
    settings.logY = logToggle.checked;
    void render();
    saveView();
  });

  const metricKey = (m: MetricInfo): string => `${m.table}:${m.name}`;
  const chosen = (): { table: string; name: string } | undefined => {
    const [table, ...rest] = metricSelect.value.split(':');
    return metricSelect.value ? { table, name: rest.join(':') } : undefined;
  };

  const fillMetrics = (): void => {
    const all = new Map<string, { metric: MetricInfo; runs: number }>();
    for (const s of summaries.values())
      for (const m of s.metrics) {
        const entry = all.get(metricKey(m)) ?? { metric: m, runs: 0 };
        entry.runs++;
        all.set(metricKey(m), entry);
      }
    const current = metricSelect.value;
    const options = [...all.values()].sort((a, b) => b.runs - a.runs);
    // Runs that have no metric in common cannot be overlaid: say so instead of drawing one line.
    const commonToAll = options.filter((o) => o.runs === summaries.size).length;
    shared.hidden = summaries.size < 2 || commonToAll > 0;
    if (!shared.hidden) {
      const profiles = [...new Set([...summaries.values()].map((s) => s.profile))];
      shared.textContent =
        `These ${summaries.size} runs share no metric` +
        (profiles.length > 1 ? ` (their profiles differ: ${profiles.join(', ')})` : '') +
        ': there is nothing to overlay. Each metric below is in only some of them.';
    }
    metricSelect.replaceChildren(
      ...options.map(({ metric, runs }) =>
        h(
          'option',
          { value: metricKey(metric) },
          `${metric.name}${metric.table === 'uid_events' ? ' (per uid)' : ''}${runs < summaries.size ? ` — in ${runs} of ${summaries.size} runs` : ''}`,
        ),
      ),
    );
    const wanted = current || options.find((o) => o.metric.name === initialMetric)?.metric;
    if (typeof wanted === 'string') metricSelect.value = wanted;
    else if (wanted) metricSelect.value = metricKey(wanted);
  };

  const render = async (): Promise<void> => {
    const traces: Data[] = [];
    const metric = chosen();
    ids.forEach((id, i) => {
      const d = data.get(id);
      const series = d?.series[0];
      if (!d || !series || d.metric !== metric?.name) return;
      const color = PALETTE[i % PALETTE.length];
      const mean = series.mean.map((v) => v ?? NaN);
      const window = settings.window > 0 ? settings.window : defaultSmoothingWindow(series.x.length);
      const smooth =
        settings.smoothing === 'none'
          ? undefined
          : smoothSeries(mean, { method: settings.smoothing, window });
      if (settings.band)
        traces.push(
          {
            x: series.x,
            y: series.max,
            type: 'scatter',
            mode: 'lines',
            line: { width: 0, color },
            hoverinfo: 'skip',
            showlegend: false,
            legendgroup: id,
          },
          {
            x: series.x,
            y: series.min,
            type: 'scatter',
            mode: 'lines',
            fill: 'tonexty',
            fillcolor: withAlpha(color, 0.1),
            line: { width: 0, color },
            hoverinfo: 'skip',
            showlegend: false,
            legendgroup: id,
          },
        );
      traces.push({
        x: series.x,
        y: series.mean,
        type: 'scatter',
        mode: 'lines',
        name: id,
        line: { width: smooth ? 1 : 1.8, color: smooth ? withAlpha(color, 0.4) : color },
        showlegend: !smooth,
        legendgroup: id,
        hovertemplate: `${id}: %{y:.4~g}<extra></extra>`,
      });
      if (smooth)
        traces.push({
          x: series.x,
          y: smooth.map((v) => (Number.isFinite(v) ? v : null)),
          type: 'scatter',
          mode: 'lines',
          name: id,
          line: { width: 2.2, color },
          legendgroup: id,
          hovertemplate: `${id} (smoothed): %{y:.4~g}<extra></extra>`,
        });
    });
    const xLabels = [...new Set([...data.values()].map((d) => d.xLabel))];
    await Plotly.react(
      plot,
      traces,
      baseLayout({
        margin: { l: 64, r: 16, t: 36, b: 44 },
        xaxis: axis(xLabels.join(' / '), { tickformat: '~s' }),
        yaxis: axis(metric?.name ?? '', { tickformat: '~g', ...(settings.logY ? { type: 'log' } : {}) }),
        hovermode: 'x unified',
        legend: { orientation: 'h', x: 0, y: 1.1 },
      }),
      CONFIG,
    );
    const rows = [...data.values()].reduce((sum, d) => sum + d.rows, 0);
    card.querySelector('.card-note')!.textContent =
      `${count(rows)} values over ${data.size} runs · each run binned over its own ${xLabels.join(' / ')} range, one bin per pixel column · band: min–max`;
    card.dataset.runs = String(traces.length ? data.size : 0);
    card.dataset.rows = String(rows);
  };

  const renderLegend = (): void => {
    legend.replaceChildren(
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}),
          h('th', {}, 'Run'),
          h('th', {}, 'Profile'),
          h('th', { class: 'num' }, 'Rows'),
          h('th', {}, 'x range'),
        ),
      ),
      h(
        'tbody',
        {},
        ids.map((id, i) => {
          const s = summaries.get(id);
          return h(
            'tr',
            {},
            h('td', {}, h('span', { class: 'swatch', style: `background:${PALETTE[i % PALETTE.length]}` })),
            h('td', {}, h('a', { href: runHref(id) }, id)),
            h(
              'td',
              {},
              s
                ? h('span', { class: `badge badge-${s.profile}` }, s.profile)
                : failed.has(id)
                  ? h('span', { class: 'error-text' }, failed.get(id)!)
                  : 'opening…',
            ),
            h(
              'td',
              { class: 'num' },
              s ? count(s.rows) : '–',
              s?.partial
                ? h('span', { class: 'partial-tag', title: 'the run is still being read' }, 'partial')
                : null,
            ),
            h('td', {}, s ? `${s.x.label} ${short(s.x.min)} … ${short(s.x.max)}` : '–'),
          );
        }),
      ),
    );
  };

  const drawable = {
    el: card,
    async draw() {
      const metric = chosen();
      if (!metric) return;
      const bins = Math.max(50, plot.clientWidth - 80);
      await Promise.all(
        ids.map(async (id) => {
          const s = summaries.get(id);
          if (!s?.metrics.some((m) => m.name === metric.name && m.table === metric.table)) {
            data.delete(id);
            return;
          }
          data.set(
            id,
            await getReady<BinsResponse>('/api/bins', {
              run: id,
              metric: metric.name,
              table: metric.table,
              bins,
            }),
          );
        }),
      );
      await render();
    },
  };
  const scheduler = new RedrawScheduler(100, 4);
  scheduler.add(drawable);
  metricSelect.addEventListener('change', () => {
    saveView();
    scheduler.invalidate(drawable);
  });

  const showStatus = (): void => {
    status.textContent =
      `${summaries.size} of ${ids.length} runs open` +
      (failed.size ? ` · ${[...failed.keys()].join(', ')} could not be opened` : '');
  };
  const loadSummary = async (id: string): Promise<void> => {
    let answer;
    try {
      answer = await get<SummaryResponse>('/api/summary', { run: id });
    } catch (error) {
      failed.set(id, error instanceof ApiError ? error.message : String(error));
      renderLegend();
      showStatus();
      return;
    }
    if (!answer.ready) return;
    summaries.set(id, answer.body);
    fillMetrics();
    renderLegend();
    showStatus();
    scheduler.invalidate(drawable);
  };
  renderLegend();
  const stops = ids.map((id) =>
    watchRun(id, {
      connection: (open, closed) => {
        // A refused stream is not retried (an unknown run, say): ask the summary why.
        if (closed && !summaries.has(id)) void loadSummary(id);
        if (!closed) chrome.live(open ? 'live' : 'lost');
      },
      state: (event) => {
        if (event.state === 'ready' && !summaries.has(id)) void loadSummary(id);
        else if (event.state === 'error') status.textContent = `${id}: ${event.error}`;
        else if (event.state === 'indexing')
          status.textContent = `indexing ${id}… ${count(event.progress?.rows)} rows`;
      },
      update: () => {
        void loadSummary(id);
        scheduler.invalidate(drawable);
      },
    }),
  );
  return () => {
    for (const stop of stops) stop();
    scheduler.destroy();
    Plotly.purge(plot);
    chrome.live('off');
  };
}
