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
}

/** A chart's frame: title, what it shows, downloads (rendered server-side like `runlens plot`), plot area. */
export function chartCard(run: string, info: ChartInfo, options: { wide?: boolean; height: number }): Card {
  const link = (format: string) =>
    h(
      'a',
      {
        href: url('/api/chart', { run, chart: info.id, format }),
        download: '',
        title: `Download as ${format.toUpperCase()}`,
      },
      format.toUpperCase(),
    );
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
      h('div', { class: 'downloads' }, link('png'), link('svg'), link('pdf')),
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
    stamp(answer) {
      el.dataset.version = String(answer.version);
      el.dataset.partial = String(answer.partial);
      el.classList.toggle('partial', answer.partial);
      partialTag.hidden = !answer.partial;
    },
  };
}
