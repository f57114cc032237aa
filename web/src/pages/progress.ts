import type { IndexProgress, PartialInfo, RunState } from '../../../src/server/api-types.js';
import { h } from '../dom.js';
import { bytes, count, duration } from '../format.js';

/** "Indexing…" panel: file, bytes, rows, rate and a byte-based ETA; or what partial charts show. */
export function progressPanel(): {
  el: HTMLElement;
  show(state: RunState, progress?: IndexProgress, error?: string): void;
  /** The charts are of what is indexed so far (`partial`); `progress` is where the read is now. */
  showPartial(partial: PartialInfo, progress?: IndexProgress): void;
} {
  const label = h('p', { class: 'progress-label' });
  const fill = h('div', { class: 'progress-fill' });
  const detail = h('p', { class: 'subtle' });
  const el = h('div', { class: 'panel progress' }, label, h('div', { class: 'progress-bar' }, fill), detail);
  const eta = (p: IndexProgress, fraction: number): string =>
    fraction > 0.02 ? ` · about ${duration((p.elapsedMs / fraction) * (1 - fraction))} left` : '';
  return {
    el,
    show(state, p, error) {
      el.classList.remove('partial');
      el.classList.toggle('failed', state === 'error');
      if (state === 'error') {
        label.textContent = 'This run could not be opened';
        detail.textContent = error ?? '';
        fill.style.width = '0';
        return;
      }
      if (state !== 'indexing' || !p) {
        label.textContent = state === 'queued' ? 'Waiting for another run to finish indexing…' : 'Opening…';
        el.classList.add('indeterminate');
        detail.textContent = '';
        return;
      }
      const seconds = p.elapsedMs / 1000;
      const rate = seconds > 0 ? p.rows / seconds : 0;
      const fraction = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 0;
      el.classList.toggle('indeterminate', fraction === 0);
      fill.style.width = fraction > 0 ? `${Math.max(2, fraction * 100).toFixed(1)}%` : '';
      label.textContent =
        p.fileCount > 1
          ? `Indexing ${p.fileName} (file ${p.fileIndex + 1} of ${p.fileCount})`
          : `Indexing ${p.fileName}`;
      detail.textContent = `${(fraction * 100).toFixed(0)} % · ${bytes(p.bytesDone)} of ${bytes(p.bytesTotal)} · ${count(p.rows)} rows · ${count(rate)} rows/s · ${duration(p.elapsedMs)}${eta(p, fraction)}`;
    },
    showPartial(partial, p) {
      el.classList.remove('failed', 'indeterminate');
      el.classList.add('partial');
      const shown = partial.bytesTotal > 0 ? partial.bytesRead / partial.bytesTotal : 1;
      const now = p && p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : undefined;
      fill.style.width = `${Math.max(2, (now ?? shown) * 100).toFixed(1)}%`;
      label.textContent = `Partial: ${count(partial.rows)} of ~${count(partial.estimatedRows)} events, ${Math.floor(shown * 100)} % of the bytes read`;
      detail.textContent =
        `The charts show what is indexed so far and are drawn again as each part is read; downloads wait for the whole run.` +
        (p && now !== undefined
          ? ` Reading: ${(now * 100).toFixed(0)} % of ${bytes(p.bytesTotal)}${eta(p, now)}.`
          : '');
    },
  };
}
