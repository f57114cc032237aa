import type { RunListEntry, RunsResponse } from '../../../src/server/api-types.js';
import { get } from '../api.js';
import { chrome } from '../chrome.js';
import { h } from '../dom.js';
import { ago, bytes, count } from '../format.js';
import { currentRoute, joinIds, splitIds, writeQuery } from '../view-state.js';

export function runHref(id: string): string {
  return `#/run/${encodeURIComponent(id)}`;
}

export function compareHref(ids: string[], metric?: string): string {
  const query = new URLSearchParams({ runs: joinIds(ids) });
  if (metric) query.set('metric', metric);
  return `#/compare?${query.toString()}`;
}

/** The runs under the served directory; refreshed every 2 s. Pick two or more to compare. */
export function runsPage(root: HTMLElement): () => void {
  chrome.crumbs({ label: 'Runs' });
  chrome.live('off');
  // The selection to compare survives a reload (kept in the route's query).
  const selected = new Set<string>(splitIds(currentRoute().query.get('select')));
  const saveSelection = (): void => {
    const query = currentRoute().query;
    if (selected.size) query.set('select', joinIds([...selected]));
    else query.delete('select');
    writeQuery(query);
  };
  const title = h('h1', {}, 'Runs');
  const where = h('p', { class: 'subtle' });
  const compare = h('button', { class: 'button primary', disabled: true }, 'Compare selected');
  compare.addEventListener('click', () => {
    location.hash = compareHref([...selected]);
  });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'runs' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { class: 'check' }),
        h('th', {}, 'Run'),
        h('th', {}, 'Profile'),
        h('th', { class: 'num' }, 'Files'),
        h('th', { class: 'num' }, 'Size'),
        h('th', { class: 'num' }, 'Rows'),
        h('th', {}, 'Last update'),
        h('th', {}, 'State'),
      ),
    ),
    tbody,
  );
  const empty = h('div', { class: 'empty', hidden: true });
  root.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {}, title, where), h('div', { class: 'actions' }, compare)),
    h('div', { class: 'panel' }, table, empty),
  );

  const row = (run: RunListEntry): HTMLTableRowElement => {
    const box = h('input', { type: 'checkbox', 'aria-label': `select ${run.id}` });
    box.checked = selected.has(run.id);
    box.addEventListener('change', () => {
      if (box.checked) selected.add(run.id);
      else selected.delete(run.id);
      saveSelection();
      updateCompare();
    });
    const state =
      run.state === 'indexing' && run.progress
        ? `indexing ${run.progress.bytesTotal ? `${Math.floor((100 * run.progress.bytesDone) / run.progress.bytesTotal)} % · ` : ''}${count(run.progress.rows)} rows${run.partial ? ' · charts of what is read' : ''}`
        : run.state === 'error'
          ? 'error'
          : run.state === 'ready'
            ? 'open'
            : run.state;
    return h(
      'tr',
      { 'data-run': run.id },
      h('td', { class: 'check' }, box),
      h(
        'td',
        {},
        h('a', { class: 'run-link', href: runHref(run.id) }, run.id === '.' ? '(this directory)' : run.id),
        run.kind === 'directory' ? h('span', { class: 'tag' }, 'dir') : null,
      ),
      h(
        'td',
        {},
        h(
          'span',
          {
            class: `badge badge-${run.profile}${run.profileGuessed ? ' guessed' : ''}`,
            title: run.profileGuessed ? 'guessed from the first record; exact once opened' : '',
          },
          run.profile,
        ),
      ),
      h('td', { class: 'num' }, count(run.files)),
      h('td', { class: 'num' }, bytes(run.bytes)),
      h(
        'td',
        { class: 'num' },
        run.rows === null ? h('span', { class: 'subtle' }, 'not opened') : count(run.rows),
      ),
      h('td', { title: new Date(run.modified).toISOString() }, ago(run.modified)),
      h('td', {}, h('span', { class: `state state-${run.state}`, title: run.error ?? '' }, state)),
    );
  };

  const updateCompare = (): void => {
    compare.disabled = selected.size < 2;
    compare.textContent = selected.size >= 2 ? `Compare ${selected.size} runs` : 'Compare selected';
  };

  let stopped = false;
  const load = async (): Promise<void> => {
    try {
      const answer = await get<RunsResponse>('/api/runs');
      if (stopped || !answer.ready) return;
      const { root: dir, runs } = answer.body;
      where.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} in ${dir}`;
      for (const id of [...selected]) if (!runs.some((r) => r.id === id)) selected.delete(id);
      tbody.replaceChildren(...runs.map(row));
      empty.hidden = runs.length > 0;
      table.hidden = runs.length === 0;
      empty.textContent =
        'No log files here yet. Runs appear as soon as a log file is written under this directory.';
      updateCompare();
    } catch (error) {
      where.textContent = `Cannot list runs: ${error instanceof Error ? error.message : error}`;
    }
  };
  void load();
  const timer = window.setInterval(() => void load(), 2000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
