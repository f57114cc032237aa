import type { IndexProgress, RunState } from '../../../src/server/api-types.js';
import { h } from '../dom.js';
import { bytes, count, duration } from '../format.js';

/** "Indexing…" panel: files, bytes, rows, rate and (with several files) a byte-based ETA. */
export function progressPanel(): {
  el: HTMLElement;
  show(state: RunState, progress?: IndexProgress, error?: string): void;
} {
  const label = h('p', { class: 'progress-label' });
  const fill = h('div', { class: 'progress-fill' });
  const detail = h('p', { class: 'subtle' });
  const el = h('div', { class: 'panel progress' }, label, h('div', { class: 'progress-bar' }, fill), detail);
  return {
    el,
    show(state, p, error) {
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
      const fraction = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 0;
      const several = p.fileCount > 1;
      el.classList.toggle('indeterminate', !several);
      fill.style.width = several ? `${Math.max(2, fraction * 100).toFixed(1)}%` : '';
      label.textContent = `Indexing ${p.fileName} (file ${p.fileIndex + 1} of ${p.fileCount})`;
      const eta =
        several && fraction > 0.02
          ? ` · about ${duration((p.elapsedMs / fraction) * (1 - fraction))} left`
          : '';
      detail.textContent = `${count(p.rows)} rows · ${count(rate)} rows/s · ${bytes(p.bytesDone)} of ${bytes(p.bytesTotal)} done · ${duration(p.elapsedMs)}${eta}`;
    },
  };
}
