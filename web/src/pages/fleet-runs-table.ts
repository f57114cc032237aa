import type { FleetRunEntry } from '../../../src/server/fleet-api-types.js';
import { PALETTE } from '../charts/plotly-theme.js';
import { h } from '../dom.js';
import { ago, bytes, count, short } from '../format.js';

/** Which runs the views are of: every run of the fleet (new pushes included), or the ones named. */
export type FleetSelection = 'all' | ReadonlySet<string>;

export interface FleetRunsTable {
  el: HTMLElement;
  show(runs: readonly FleetRunEntry[], selection: FleetSelection): void;
}

/** Whole numbers (blocks, steps) in full: "2.40M … 2.40M" would hide a range of thousands. */
function xRange(r: FleetRunEntry): string {
  if (r.xMin === null || r.xMax === null) return '–';
  const whole = Number.isInteger(r.xMin) && Number.isInteger(r.xMax);
  const format = whole ? count : short;
  return `${r.xLabel} ${format(r.xMin)} … ${format(r.xMax)}`;
}

/** A run's colour on the page: by its place in the fleet, so it keeps it whatever is selected. */
export function runColour(runs: readonly string[], run: string): string {
  return PALETTE[Math.max(0, runs.indexOf(run)) % PALETTE.length];
}

/**
 * The fleet's runs (name, profile, rows, x range, last push) with a box per run and one for all of
 * them; `onSelect` gets the new selection (ticking every run is "all").
 */
export function fleetRunsTable(onSelect: (selection: FleetSelection) => void): FleetRunsTable {
  const all = h('input', { type: 'checkbox', 'aria-label': 'all runs', 'data-role': 'all-runs' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'runs', 'data-role': 'fleet-runs' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { class: 'check' }, all),
        h('th', {}, 'Run'),
        h('th', {}, 'Profile'),
        h('th', { class: 'num' }, 'Rows'),
        h('th', { class: 'num' }, 'Uid rows'),
        h('th', { class: 'num' }, 'Files'),
        h('th', { class: 'num' }, 'Size'),
        h('th', {}, 'x range'),
        h('th', {}, 'Last push'),
      ),
    ),
    tbody,
  );
  const empty = h(
    'div',
    { class: 'empty', hidden: true },
    'No runs in this database yet: push one with runlens push PATH --clickhouse URL.',
  );
  let names: string[] = [];
  let boxes: HTMLInputElement[] = [];

  const changed = (): void => {
    const ticked = boxes.filter((b) => b.checked).map((b) => b.value);
    all.checked = ticked.length === names.length;
    all.indeterminate = ticked.length > 0 && !all.checked;
    onSelect(all.checked ? 'all' : new Set(ticked));
  };
  all.addEventListener('change', () => {
    for (const box of boxes) box.checked = all.checked;
    changed();
  });

  return {
    el: h('div', { class: 'panel' }, table, empty),
    show(runs, selection) {
      names = runs.map((r) => r.run);
      boxes = [];
      tbody.replaceChildren(
        ...runs.map((r) => {
          const box = h('input', { type: 'checkbox', value: r.run, 'aria-label': `select ${r.run}` });
          box.checked = selection === 'all' || selection.has(r.run);
          box.addEventListener('change', changed);
          boxes.push(box);
          return h(
            'tr',
            { 'data-run': r.run },
            h('td', { class: 'check' }, box),
            h(
              'td',
              {},
              h('span', { class: 'swatch', style: `background:${runColour(names, r.run)}` }),
              ' ',
              h('span', { class: 'run-name' }, r.run),
            ),
            h('td', {}, h('span', { class: `badge badge-${r.profile}` }, r.profile)),
            h('td', { class: 'num' }, count(r.rows)),
            h('td', { class: 'num' }, count(r.uidRows)),
            h('td', { class: 'num' }, count(r.files)),
            h('td', { class: 'num' }, bytes(r.bytes)),
            h('td', {}, xRange(r)),
            h('td', { title: new Date(r.pushed).toISOString() }, ago(r.pushed)),
          );
        }),
      );
      const ticked = boxes.filter((b) => b.checked).length;
      all.checked = runs.length > 0 && ticked === runs.length;
      all.indeterminate = ticked > 0 && !all.checked;
      table.hidden = runs.length === 0;
      empty.hidden = runs.length > 0;
    },
  };
}
