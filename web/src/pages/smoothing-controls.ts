import type { SmoothingMethod } from '../../../src/charts/smoothing.js';
import { h } from '../dom.js';

/** Smoothing method (EMA / running mean / none) and window (0 = adapt to the number of bins). */
export function smoothingControls(
  settings: { smoothing: SmoothingMethod; window: number },
  onChange: () => void,
): HTMLElement {
  const method = h(
    'select',
    { class: 'select', 'aria-label': 'smoothing' },
    h('option', { value: 'ema' }, 'EMA (debiased)'),
    h('option', { value: 'mean' }, 'running mean'),
    h('option', { value: 'none' }, 'none'),
  );
  method.value = settings.smoothing;
  const window = h('input', {
    type: 'range',
    min: 0,
    max: 200,
    step: 1,
    value: settings.window,
    'aria-label': 'smoothing window',
  });
  const shown = h('span', { class: 'window-value' });
  const update = (): void => {
    settings.smoothing = method.value as SmoothingMethod;
    settings.window = Number(window.value);
    window.disabled = settings.smoothing === 'none';
    shown.textContent =
      settings.smoothing === 'none' ? '' : settings.window === 0 ? 'auto' : `${settings.window} bins`;
    onChange();
  };
  method.addEventListener('change', update);
  window.addEventListener('input', update);
  shown.textContent = settings.window === 0 ? 'auto' : `${settings.window} bins`;
  return h('span', { class: 'control' }, 'Smoothing ', method, window, shown);
}
