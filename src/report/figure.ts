/** A Plotly figure as inlined in the report: traces and layout, plus what the page script drives. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  /** Trace group of each trace (task, map) for a selector; null = always visible. */
  groups?: (string | null)[];
  /** Pairs of traces: `target`'s y is the debiased EMA of `source`'s y (the smoothing slider). */
  smooth?: { source: number; target: number }[];
  /** Recompute axis ranges when the selected group changes (maps of different sizes). */
  autorangeOnSelect?: boolean;
  /** Heatmap z is log10 of customdata (exact counts); the page recomputes it instead of inlining both. */
  logColor?: boolean;
}

export const FONT_STACK =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';

/** Tableau 10: distinct, colour-blind-aware hues for tasks and components. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export const MAGMA: [number, string][] = [
  [0, '#000004'],
  [0.125, '#1c1044'],
  [0.25, '#4f127b'],
  [0.375, '#812581'],
  [0.5, '#b5367a'],
  [0.625, '#e55064'],
  [0.75, '#fb8761'],
  [0.875, '#fec287'],
  [1, '#fcfdbf'],
];

/** Layout defaults shared by every 2-D figure. */
export function baseLayout(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    font: { family: FONT_STACK, size: 12, color: '#1f2933' },
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    margin: { l: 60, r: 20, t: 36, b: 48 },
    hoverlabel: { font: { family: FONT_STACK } },
    ...extra,
  };
}

/** Plotly hovertemplate text is HTML-ish and `%{…}` is a placeholder: make a label inert. */
export function hoverText(label: string): string {
  return label
    .replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!)
    .replace(/%\{/g, '%\u200b{');
}

export function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: { text: title },
    exponentformat: 'none',
    separatethousands: true,
    gridcolor: '#e4e7eb',
    zerolinecolor: '#cbd2d9',
    linecolor: '#9aa5b1',
    ...extra,
  };
}
