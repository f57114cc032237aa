import type { SmoothingMethod } from '../../src/charts/smoothing.js';

/**
 * A page's view (smoothing, zoom, filters, selections) kept in the query of its hash route —
 * `#/run/<id>?smoothing=mean&window=8&zoom=line:events:loss@100,200` — so a reload or a shared link
 * shows the same view. Written with replaceState: no history entry per slider step, no hashchange.
 */

/** The hash route's path (`/run/x`) and its query. */
export function currentRoute(): { path: string; query: URLSearchParams } {
  const hash = location.hash.replace(/^#/, '') || '/';
  const i = hash.indexOf('?');
  return {
    path: i < 0 ? hash : hash.slice(0, i),
    query: new URLSearchParams(i < 0 ? '' : hash.slice(i + 1)),
  };
}

/** Replaces the current route's query (the path stays). */
export function writeQuery(query: URLSearchParams): void {
  const { path } = currentRoute();
  const text = query.toString();
  const next = `#${path}${text ? `?${text}` : ''}`;
  if (next !== location.hash) history.replaceState(null, '', next);
}

/** A list of run ids in one query value: each id encoded on its own (ids may hold commas). */
export function joinIds(ids: readonly string[]): string {
  return ids.map(encodeURIComponent).join(',');
}

export function splitIds(value: string | null): string[] {
  return (value ?? '').split(',').filter(Boolean).map(decodeURIComponent);
}

/** An x range per chart: `zoom=<chart id>@<from>,<to>`, one value per zoomed chart. */
export function readZooms(query: URLSearchParams): Map<string, [number, number]> {
  const zooms = new Map<string, [number, number]>();
  for (const value of query.getAll('zoom')) {
    const at = value.lastIndexOf('@');
    const [a, b] = value
      .slice(at + 1)
      .split(',')
      .map(Number);
    if (at > 0 && Number.isFinite(a) && Number.isFinite(b) && a < b) zooms.set(value.slice(0, at), [a, b]);
  }
  return zooms;
}

export function setZooms(
  query: URLSearchParams,
  zooms: ReadonlyMap<string, readonly [number, number]>,
): void {
  query.delete('zoom');
  for (const [chart, [a, b]] of zooms) query.append('zoom', `${chart}@${a},${b}`);
}

/** The line settings both chart pages keep: smoothing method, its window (0: adaptive), log y. */
export interface LineView {
  smoothing: SmoothingMethod;
  window: number;
  logY: boolean;
}

/** `smoothing`, `window`, `log` of a query (defaults: debiased EMA, adaptive window, linear). */
export function readLineView(query: URLSearchParams): LineView {
  const method = query.get('smoothing');
  return {
    smoothing: method === 'mean' || method === 'none' ? method : 'ema',
    window: Math.max(0, Math.round(Number(query.get('window')) || 0)),
    logY: query.get('log') === '1',
  };
}

/** Sets what differs from the defaults of readLineView. */
export function writeLineView(query: URLSearchParams, view: LineView): void {
  if (view.smoothing !== 'ema') query.set('smoothing', view.smoothing);
  if (view.window) query.set('window', String(view.window));
  if (view.logY) query.set('log', '1');
}
