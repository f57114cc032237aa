/** 1234567 → "1,234,567"; null → "–". */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
}

/** Sizes as every runlens output writes them (decimal units, like `inspect` and the report). */
export { formatBytes as bytes } from '../../src/format-bytes.js';

/** A short number for axes and facts: 2.40M, 13.5k, 0.123. */
export function short(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toPrecision(4);
}

/** "just now", "12 s ago", "3 min ago", "2 h ago", or a date. */
export function ago(ms: number, now = Date.now()): string {
  if (!ms) return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 3) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toISOString().slice(0, 10);
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
