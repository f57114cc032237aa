import type {
  ChartInfo,
  IndexProgress,
  SummaryResponse,
  Table,
  XAxisChoice,
} from '../../../src/server/api-types.js';
import { ApiError, get, url } from '../api.js';
import { uidHeatmapChart } from '../charts/heatmap.js';
import { lineChart, type LineChart, type LineSettings } from '../charts/line.js';
import { positionsChart } from '../charts/positions.js';
import { pointCloudChart } from '../charts/scatter.js';
import { chrome } from '../chrome.js';
import { h } from '../dom.js';
import { ago, bytes, count, duration, short } from '../format.js';
import { watchRun } from '../live.js';
import { currentRoute, readLineView, readZooms, setZooms, writeLineView, writeQuery } from '../view-state.js';
import { RedrawScheduler, type Drawable } from '../scheduler.js';
import { progressPanel } from './progress.js';
import { smoothingControls } from './smoothing-controls.js';

type View = Drawable & { destroy(): void; restyle?: () => void };

/** One run: facts, every chart its data supports, live while the page is open. */
export function runPage(root: HTMLElement, id: string): () => void {
  chrome.crumbs({ label: 'Runs', href: '#/' }, { label: id });
  chrome.live('connecting');
  const scheduler = new RedrawScheduler(100, 4);
  const views = new Map<string, View>();
  // The view (smoothing, split, log, filter, zooms) comes from the route's query and is written back
  // there on every change, so a reload or a link shows the same view.
  const initial = currentRoute().query;
  const settings: LineSettings = {
    ...readLineView(initial),
    splitByTask: initial.get('split') === '1',
    xAxis: ((): XAxisChoice => {
      const x = initial.get('xaxis');
      return x === 'runtime' || x === 'time' ? x : 'default';
    })(),
  };
  const zooms = readZooms(initial);
  let summary: SummaryResponse | undefined;
  /** The read in progress, while the charts are of what is indexed so far. */
  let reading: IndexProgress | undefined;
  let reloading: Promise<void> | undefined;
  let reloadAgain = false;

  const heading = h('h1', {}, id === '.' ? '(this directory)' : id);
  const badges = h('div', { class: 'badges' });
  const facts = h('div', { class: 'facts' });
  const progress = progressPanel();
  const grid = h('div', { class: 'grid' });
  const toolbar = h('div', { class: 'toolbar', hidden: true });
  root.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {}, heading, badges)),
    progress.el,
    facts,
    toolbar,
    grid,
  );

  const restyleLines = (): void => {
    for (const view of views.values()) view.restyle?.();
  };
  const saveView = (): void => {
    const query = new URLSearchParams();
    writeLineView(query, settings);
    if (settings.splitByTask) query.set('split', '1');
    if (settings.xAxis !== 'default') query.set('xaxis', settings.xAxis);
    if (filter.value.trim()) query.set('filter', filter.value.trim());
    setZooms(query, zooms);
    writeQuery(query);
  };
  const filter = h('input', {
    type: 'search',
    class: 'input',
    placeholder: 'Filter charts…',
    'aria-label': 'filter charts',
    value: initial.get('filter') ?? '',
  });
  const applyFilter = (): void => {
    const q = filter.value.trim().toLowerCase();
    for (const [chartId, view] of views) view.el.hidden = q !== '' && !chartId.toLowerCase().includes(q);
  };
  filter.addEventListener('input', () => {
    applyFilter();
    saveView();
  });
  const split = h('input', { type: 'checkbox', checked: settings.splitByTask });
  split.addEventListener('change', () => {
    settings.splitByTask = split.checked;
    for (const [chartId, view] of views) if (chartId.startsWith('line:')) scheduler.invalidate(view);
    saveView();
  });
  // A wandb history can be drawn over relative time (_runtime) or wall time (_timestamp, dates).
  const xSelect = h('select', { class: 'select', 'aria-label': 'x axis' });
  const xLabel = h('label', { class: 'control', hidden: true }, 'x ', xSelect);
  xSelect.addEventListener('change', () => {
    settings.xAxis = xSelect.value as XAxisChoice;
    // Zooms were in the other axis' unit.
    zooms.clear();
    for (const [chartId, view] of views) if (chartId.startsWith('line:events:')) scheduler.invalidate(view);
    saveView();
  });
  const logToggle = h('input', { type: 'checkbox', checked: settings.logY, 'aria-label': 'log scale' });
  logToggle.addEventListener('change', () => {
    settings.logY = logToggle.checked;
    restyleLines();
    saveView();
  });
  const splitLabel = h('label', { class: 'control', hidden: true }, split, ' split by task');
  const exportTable = h(
    'select',
    { class: 'select', 'aria-label': 'export table' },
    h('option', { value: 'events' }, 'events'),
  );
  const exportLinks = h('span', { class: 'downloads' });
  const updateExportLinks = (): void => {
    const table = exportTable.value as Table;
    exportLinks.replaceChildren(
      ...(['csv', 'jsonl', 'parquet'] as const).map((format) =>
        h('a', { href: url('/api/export', { run: id, format, table }), download: '' }, format.toUpperCase()),
      ),
    );
  };
  exportTable.addEventListener('change', updateExportLinks);
  updateExportLinks();
  toolbar.append(
    smoothingControls(settings, () => {
      restyleLines();
      saveView();
    }),
    h(
      'label',
      { class: 'control', title: 'logarithmic y for lines, log colour for heatmaps of positive values' },
      logToggle,
      ' log scale',
    ),
    splitLabel,
    xLabel,
    filter,
    h('span', { class: 'spacer' }),
    h('span', { class: 'control' }, 'Dataset ', exportTable, exportLinks),
  );

  const createView = (info: ChartInfo): View | undefined => {
    switch (info.kind) {
      case 'line':
        return lineChart(id, info, () => settings, {
          range: zooms.get(info.id),
          onRange: (range) => {
            if (range) zooms.set(info.id, range);
            else zooms.delete(info.id);
            saveView();
          },
        }) as LineChart;
      case 'scatter':
        return pointCloudChart(id, info, 2);
      case 'scatter3d':
        return pointCloudChart(id, info, 3);
      case 'heatmap':
        return uidHeatmapChart(id, info, () => settings);
      case 'positions':
        return positionsChart(id, info);
    }
  };

  const renderFacts = (s: SummaryResponse): void => {
    const fact = (label: string, value: string, title = '') => [
      h(
        'div',
        { class: 'fact', title },
        h('span', { class: 'fact-label' }, label),
        h('span', { class: 'fact-value' }, value),
      ),
    ];
    const problems = s.problems + s.truncated;
    const opened = s.bytesRead === 0 && s.cached ? `${duration(s.indexMs)} (cached)` : duration(s.indexMs);
    facts.replaceChildren(
      ...(s.partial
        ? fact(
            'rows so far',
            `${count(s.rows)} of ~${count(s.partial.estimatedRows)}`,
            'the run is still being read',
          )
        : fact('rows', count(s.rows))),
      ...(s.uidRows ? fact('uid rows', count(s.uidRows)) : []),
      ...fact(
        'files',
        count(s.files.length),
        s.files.map((f) => `${f.name}: ${count(f.rows)} rows, ${f.status}`).join('\n'),
      ),
      ...fact('size', bytes(s.bytes)),
      ...fact(`x: ${s.x.label}`, `${short(s.x.min)} … ${short(s.x.max)}`, s.x.reason),
      ...(s.uids ? fact('uids', count(s.uids)) : []),
      ...(problems
        ? fact('problems', count(problems), 'corrupt or truncated records (skipped and counted)')
        : []),
      ...(s.partial
        ? fact(
            'indexed',
            `${Math.floor((100 * s.partial.bytesRead) / Math.max(1, s.partial.bytesTotal))} % so far`,
          )
        : fact(
            'indexed in',
            opened,
            s.cached
              ? `index kept in the cache: ${bytes(s.bytesRead ?? 0)} of the logs read when opened`
              : 'temporary index (no cache)',
          )),
      ...fact('updated', ago(s.updatedAt)),
    );
    facts.dataset.rows = String(s.rows);
    facts.dataset.partial = String(Boolean(s.partial));
    badges.replaceChildren(
      h('span', { class: `badge badge-${s.profile}` }, s.profile),
      h('span', { class: 'subtle' }, `${s.charts.length} charts`),
    );
  };

  const applySummary = (s: SummaryResponse): void => {
    summary = s;
    progress.el.hidden = !s.partial;
    if (s.partial) progress.showPartial(s.partial, reading);
    else reading = undefined;
    root.classList.toggle('run-partial', Boolean(s.partial));
    scheduler.prefetch(!s.partial);
    toolbar.hidden = false;
    renderFacts(s);
    splitLabel.hidden = s.tasks.length < 2;
    xLabel.hidden = s.xAxes.length === 0;
    if (settings.xAxis !== 'default' && !s.xAxes.includes(settings.xAxis)) settings.xAxis = 'default';
    if (s.xAxes.length && xSelect.options.length === 0) {
      const names = { runtime: 'relative time (_runtime)', time: 'wall time (_timestamp)' } as const;
      xSelect.append(
        h('option', { value: 'default' }, s.x.label),
        ...s.xAxes.map((x) => h('option', { value: x }, names[x as 'runtime' | 'time'])),
      );
      xSelect.value = settings.xAxis;
    }
    if (s.uidRows && exportTable.options.length === 1)
      exportTable.append(h('option', { value: 'uid_events' }, 'uid rows'));
    for (const info of s.charts) {
      if (views.has(info.id)) continue;
      const view = createView(info);
      if (!view) continue;
      views.set(info.id, view);
      grid.append(view.el);
      scheduler.add(view);
    }
    applyFilter();
    if (!s.charts.length)
      grid.replaceChildren(
        h('div', { class: 'panel empty' }, 'Nothing to chart yet: this run has no numeric fields.'),
      );
  };

  const reload = (): Promise<void> => {
    if (reloading) {
      reloadAgain = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        const answer = await get<SummaryResponse>('/api/summary', { run: id });
        if (answer.ready) applySummary(answer.body);
        else progress.show(answer.pending.state, answer.pending.progress, answer.pending.error);
      } catch (error) {
        progress.el.hidden = false;
        progress.show('error', undefined, error instanceof Error ? error.message : String(error));
        if (error instanceof ApiError && error.status === 404) {
          stopWatching();
          chrome.live('off');
        }
      } finally {
        reloading = undefined;
        if (reloadAgain) {
          reloadAgain = false;
          void reload();
        }
      }
    })();
    return reloading;
  };

  const stopWatching = watchRun(id, {
    // A refused stream (unknown run) is not retried: say nothing rather than "reconnecting…".
    connection: (open, closed) => chrome.live(open ? 'live' : closed ? 'off' : 'lost'),
    state: (event) => {
      if (event.state === 'ready') {
        if (!summary || summary.partial) {
          void reload();
          scheduler.invalidateAll();
        }
      } else if (event.state === 'indexing' && summary?.partial) {
        reading = event.progress;
        progress.showPartial(summary.partial, reading);
      } else {
        progress.el.hidden = false;
        progress.show(event.state, event.progress, event.error);
      }
    },
    update: () => {
      void reload();
      scheduler.invalidateAll();
      chrome.live('live', `live · ${new Date().toLocaleTimeString()}`);
    },
  });
  void reload();

  let resizeTimer: number | undefined;
  const onResize = (): void => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => scheduler.invalidateAll(), 300);
  };
  window.addEventListener('resize', onResize);
  const ticker = window.setInterval(() => summary && renderFacts(summary), 5000);

  return () => {
    stopWatching();
    scheduler.destroy();
    window.removeEventListener('resize', onResize);
    clearInterval(ticker);
    for (const view of views.values()) view.destroy();
    root.classList.remove('run-partial');
    chrome.live('off');
  };
}
