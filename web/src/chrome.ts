import { h } from './dom.js';

/** The top bar: breadcrumbs and the live indicator. */
export const chrome = {
  crumbs(...items: { label: string; href?: string }[]): void {
    const nav = document.getElementById('crumbs')!;
    nav.replaceChildren(
      ...items.flatMap((item, i) => [
        ...(i ? [h('span', { class: 'sep' }, '/')] : []),
        item.href ? h('a', { href: item.href }, item.label) : h('span', { class: 'current' }, item.label),
      ]),
    );
  },
  live(state: 'off' | 'connecting' | 'live' | 'lost', text = ''): void {
    const el = document.getElementById('live')!;
    el.hidden = state === 'off';
    el.className = `live live-${state}`;
    el.textContent =
      text || { off: '', connecting: 'connecting…', live: 'live', lost: 'reconnecting…' }[state];
  },
};
