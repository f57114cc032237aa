import type { ChartInfo } from '../../../src/server/api-types.js';
import { url } from '../api.js';
import { h } from '../dom.js';

export interface Card {
  el: HTMLElement;
  plot: HTMLDivElement;
  note: HTMLElement;
  controls: HTMLElement;
  setError(message: string | undefined): void;
  /** The plot was drawn: the "computing" placeholder goes. */
  drawn(): void;
  /** Which answer is drawn: its version, and whether it is of a run still being read. */
  stamp(answer: { version: number; partial: boolean }): void;
  /** What the screen shows (zoom, smoothing, …): the PNG/SVG/PDF downloads draw that view. */
  setView(view: Record<string, string | number | undefined>): void;
  /** The CSV of what is plotted (bins or points), built when the CSV link is clicked. */
  setCsv(name: string, csv: () => string): void;
}

/** One CSV field: quoted when it holds a comma, quote or line break; null/NaN as empty. */
function csvField(value: unknown): string {
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value)))
    return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text of a header and rows. */
export function toCsv(header: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** A chart's frame: title, what it shows, downloads (rendered server-side like `runlens plot`), plot area. */
export function chartCard(run: string, info: ChartInfo, options: { wide?: boolean; height: number }): Card {
  const files = ['png', 'svg', 'pdf'].map((format) => ({
    format,
    a: h(
      'a',
      { download: '', title: `Download what is shown as ${format.toUpperCase()}` },
      format.toUpperCase(),
    ),
  }));
  const setView = (view: Record<string, string | number | undefined>): void => {
    for (const { format, a } of files) a.href = url('/api/chart', { run, chart: info.id, format, ...view });
  };
  setView({});
  let csv: { name: string; build: () => string } | undefined;
  const csvLink = h('a', { href: '#', title: 'Download the plotted data as CSV', hidden: true }, 'CSV');
  csvLink.addEventListener('click', (event) => {
    event.preventDefault();
    if (!csv) return;
    // Made in the page from what is drawn: a blob: URL, nothing is sent anywhere.
    const href = URL.createObjectURL(new Blob([csv.build()], { type: 'text/csv' }));
    const a = h('a', { href, download: csv.name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  });
  const plot = h('div', { class: 'plot', style: `height:${options.height}px` });
  const note = h('p', { class: 'card-note' });
  const controls = h('div', { class: 'card-controls' });
  const error = h('p', { class: 'card-error', hidden: true });
  const partialTag = h(
    'span',
    {
      class: 'partial-tag',
      hidden: true,
      title: 'drawn from what is indexed so far; drawn again as the rest is read',
    },
    'partial',
  );
  const el = h(
    'section',
    { class: `card loading${options.wide ? ' wide' : ''}`, 'data-chart': info.id, 'data-kind': info.kind },
    h(
      'header',
      { class: 'card-head' },
      h(
        'div',
        { class: 'card-titles' },
        h('h3', {}, partialTag, info.title),
        h('p', { class: 'card-desc' }, info.description),
      ),
      controls,
      h('div', { class: 'downloads' }, ...files.map((f) => f.a), csvLink),
    ),
    error,
    plot,
    note,
  );
  return {
    el,
    plot,
    note,
    controls,
    setError(message) {
      error.hidden = !message;
      error.textContent = message ?? '';
      if (message) el.classList.remove('loading');
    },
    drawn() {
      el.classList.remove('loading');
    },
    setView,
    setCsv(name, build) {
      csv = { name, build };
      csvLink.hidden = false;
    },
    stamp(answer) {
      el.dataset.version = String(answer.version);
      el.dataset.partial = String(answer.partial);
      el.classList.toggle('partial', answer.partial);
      partialTag.hidden = !answer.partial;
    },
  };
}
