import Plotly, { type Data } from 'plotly.js-dist-min';
import type { FleetAnalysisKind, FleetAnalysisResponse } from '../../../src/server/fleet-api-types.js';
import { axis, baseLayout, CONFIG } from '../charts/plotly-theme.js';
import { h } from '../dom.js';
import { count, short } from '../format.js';
import { runColour } from './fleet-runs-table.js';

/** One view of the fleet page: a card that shows an analysis, its loading, or why it failed. */
export interface FleetView {
  el: HTMLElement;
  kind: FleetAnalysisKind;
  loading(): void;
  /** `fleetRuns`: every run of the fleet in its order (for the runs' colours). */
  show(answer: FleetAnalysisResponse, fleetRuns: readonly string[]): Promise<void>;
  fail(message: string): void;
  destroy(): void;
}

/** The table's columns per view: the per-run values are in the heatmap (and in the API's rows). */
const COLUMNS: Record<FleetAnalysisKind, string[]> = {
  leaderboard: ['uid', 'runs', 'calls', 'mean', 'spread', 'lowest', 'highest'],
  success: ['uid', 'runs', 'calls', 'successes', 'rate', 'spread', 'lowest', 'highest'],
  rewards: ['run', 'bins', 'rows', 'first', 'last', 'min', 'max'],
};
/** A curve with fewer points than this is drawn with markers, and the page says why it is short. */
const SPARSE_BINS = 10;
const COUNTS = new Set(['uid', 'runs', 'calls', 'successes', 'bins', 'rows']);

function cell(name: string, value: string | number | null | undefined): HTMLTableCellElement {
  if (typeof value !== 'number')
    return h('td', {}, value === null || value === undefined || value === '' ? '–' : String(value));
  return h(
    'td',
    { class: 'num', 'data-value': String(value), title: String(value) },
    COUNTS.has(name) ? count(value) : short(value),
  );
}

function resultTable(kind: FleetAnalysisKind, answer: FleetAnalysisResponse): HTMLTableElement {
  const columns = COLUMNS[kind].filter((name) => answer.columns.some((c) => c.name === name));
  const numeric = new Set(answer.columns.filter((c) => c.type === 'number').map((c) => c.name));
  return h(
    'table',
    { class: 'runs compact', 'data-role': `${kind}-table` },
    h(
      'thead',
      {},
      h('tr', {}, ...columns.map((name) => h('th', numeric.has(name) ? { class: 'num' } : {}, name))),
    ),
    h(
      'tbody',
      {},
      answer.rows.map((row) =>
        h(
          'tr',
          kind === 'rewards' ? { 'data-run': String(row.run) } : { 'data-uid': String(row.uid) },
          ...columns.map((name) => cell(name, row[name])),
        ),
      ),
    ),
  );
}

function frame(kind: FleetAnalysisKind, title: string, description: string) {
  const desc = h('p', { class: 'card-desc' }, description);
  const error = h('p', { class: 'card-error', hidden: true });
  const plot = h('div', { class: 'plot' });
  const table = h('div', { class: 'fleet-table' });
  const controls = h('div', { class: 'card-controls' });
  const notes = h('ul', { class: 'fleet-notes' });
  const el = h(
    'section',
    { class: 'card wide spaced loading', 'data-fleet': kind },
    h(
      'header',
      { class: 'card-head' },
      h('div', { class: 'card-titles' }, h('h3', {}, title), desc),
      controls,
    ),
    error,
    h('div', { class: kind === 'leaderboard' ? 'fleet-split' : 'fleet-stack' }, plot, table),
    notes,
  );
  return {
    el,
    plot,
    controls,
    loading() {
      el.classList.add('loading');
      error.hidden = true;
    },
    fail(message: string) {
      el.classList.remove('loading');
      error.hidden = false;
      error.textContent = message;
      Plotly.purge(plot);
      plot.hidden = true;
      table.replaceChildren();
      notes.replaceChildren();
      delete el.dataset.runs;
    },
    filled(answer: FleetAnalysisResponse) {
      el.classList.remove('loading');
      plot.hidden = false;
      desc.textContent =
        answer.total !== null && answer.total > answer.rows.length
          ? `${answer.title} · ${answer.rows.length} of ${answer.total}`
          : answer.title;
      table.replaceChildren(resultTable(kind, answer));
      notes.replaceChildren(...answer.notes.map((n) => h('li', {}, n)));
      el.dataset.runs = String(answer.runs.length);
      el.dataset.version = String(answer.version);
    },
  };
}

/**
 * uid × run heatmap with the table: the leaderboard (uids best first, down the side, as the table)
 * or the success rates (uids across, runs down).
 */
export function matrixView(kind: 'leaderboard' | 'success', title: string, description: string): FleetView {
  const card = frame(kind, title, description);
  return {
    el: card.el,
    kind,
    loading: card.loading,
    fail: card.fail,
    async show(answer) {
      card.filled(answer);
      const m = answer.matrix;
      if (!m) return card.fail('the answer holds no matrix');
      const down = kind === 'leaderboard';
      // Down the side each label says uid; across, the axis title does.
      const labels = m.uids.map((u) => (down ? `uid ${u}` : String(u)));
      const trace: Data = {
        type: 'heatmap',
        x: down ? m.runs : labels,
        y: down ? labels : m.runs,
        z: down ? m.z : m.runs.map((_, c) => m.z.map((row) => row[c])),
        colorscale: 'Viridis',
        colorbar: { title: { text: m.value, side: 'right' }, thickness: 10, outlinewidth: 0 },
        hovertemplate: down
          ? `%{y} · run %{x}<br>${m.value} %{z:.4~g}<extra></extra>`
          : `uid %{x} · run %{y}<br>${m.value} %{z:.4~g}<extra></extra>`,
        hoverongaps: false,
        xgap: 1,
        ygap: 1,
      };
      const height = down ? Math.max(260, 70 + 17 * m.uids.length) : Math.max(180, 110 + 30 * m.runs.length);
      card.plot.style.height = `${height}px`;
      await Plotly.react(
        card.plot,
        [trace],
        baseLayout({
          margin: { l: 70, r: 10, t: 8, b: down ? 40 : 70 },
          xaxis: axis(down ? '' : 'uid (the 60 with the most calls)', {
            type: 'category',
            tickangle: down ? 0 : -90,
          }),
          // Top to bottom in the table's order (uids best first; runs as listed).
          yaxis: axis('', { type: 'category', autorange: 'reversed', automargin: true }),
        }),
        CONFIG,
      );
    },
    destroy() {
      Plotly.purge(card.plot);
    },
  };
}

/**
 * The runs' reward curves overlaid: one line per run on bins all runs share — the EMA of the
 * per-bin means (`smoothed`) or the exact means themselves; the hover shows both.
 */
export function curvesView(
  title: string,
  description: string,
  options: { smoothed: boolean; onSmoothed: (smoothed: boolean) => void },
): FleetView {
  const card = frame('rewards', title, description);
  card.plot.style.height = '420px';
  const sparseNote = h('p', { class: 'notice', hidden: true, 'data-role': 'sparse-curves' });
  card.plot.before(sparseNote);
  const toggle = h('input', { type: 'checkbox', checked: options.smoothed, 'data-role': 'smoothed' });
  card.controls.append(h('label', { class: 'control' }, toggle, ' smoothed (EMA)'));
  let shown: { answer: FleetAnalysisResponse; fleetRuns: readonly string[] } | undefined;

  const draw = async (): Promise<void> => {
    const curves = shown?.answer.curves;
    if (!shown || !curves) return;
    const sparse = curves.series.filter((s) => s.x.length < SPARSE_BINS);
    sparseNote.hidden = sparse.length === 0;
    sparseNote.textContent = sparse.length
      ? `${sparse.map((s) => `${s.run} (${s.x.length} bin${s.x.length === 1 ? '' : 's'})`).join(', ')}: ` +
        `the bins span every selected run's ${curves.xLabel} range, and ${sparse.length === 1 ? "this run's range is" : "these runs' ranges are"} ` +
        'short beside it. Select runs of one period to compare their curves.'
      : '';
    const fleetRuns = shown.fleetRuns;
    const traces: Data[] = curves.series.map((s) => {
      const colour = runColour(fleetRuns, s.run);
      return {
        type: 'scatter',
        // A run that falls in a few bins is a few points: a line alone would not show them.
        mode: s.x.length < SPARSE_BINS ? 'lines+markers' : 'lines',
        marker: { size: 7, color: colour },
        name: s.run,
        x: s.x,
        y: toggle.checked ? s.smooth : s.mean,
        customdata: s.mean.map((mean, i) => [mean, s.smooth[i]]),
        line: { width: toggle.checked ? 2 : 1.4, color: colour },
        hovertemplate: `${s.run}: mean %{customdata[0]:.4~g} · EMA %{customdata[1]:.4~g}<extra></extra>`,
      };
    });
    await Plotly.react(
      card.plot,
      traces,
      baseLayout({
        margin: { l: 64, r: 16, t: 36, b: 44 },
        xaxis: axis(curves.xLabel, { tickformat: ',~f' }),
        yaxis: axis(toggle.checked ? `${curves.metric} (EMA of the bin means)` : curves.metric, {
          tickformat: '~g',
        }),
        hovermode: 'x unified',
        showlegend: true,
        legend: { orientation: 'h', x: 0, y: 1.1 },
      }),
      CONFIG,
    );
  };
  toggle.addEventListener('change', () => {
    options.onSmoothed(toggle.checked);
    void draw();
  });

  return {
    el: card.el,
    kind: 'rewards',
    loading: card.loading,
    fail(message) {
      shown = undefined;
      sparseNote.hidden = true;
      card.fail(message);
    },
    async show(answer, fleetRuns) {
      card.filled(answer);
      if (!answer.curves) return this.fail('the answer holds no curves');
      shown = { answer, fleetRuns };
      await draw();
    },
    destroy() {
      Plotly.purge(card.plot);
    },
  };
}
