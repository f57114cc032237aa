import type { Config, Layout } from 'plotly.js-dist-min';

export const ACCENT = '#2563eb';
export const PALETTE = [
  '#2563eb',
  '#ea580c',
  '#16a34a',
  '#dc2626',
  '#9333ea',
  '#0891b2',
  '#ca8a04',
  '#db2777',
];

/** Turbo, for colouring hundreds of uids on a continuous scale (no legend with 256 entries). */
export const TURBO: [number, string][] = [
  [0, '#30123b'],
  [0.1, '#4145ab'],
  [0.2, '#4675ed'],
  [0.3, '#39a2fc'],
  [0.4, '#1bcfd4'],
  [0.5, '#24eca6'],
  [0.6, '#61fc6c'],
  [0.7, '#a4fc3b'],
  [0.8, '#d1e834'],
  [0.9, '#f3c63a'],
  [1, '#fe9b2d'],
];

export const MAGMA: [number, string][] = [
  [0, '#000004'],
  [0.13, '#1c1044'],
  [0.25, '#4f127b'],
  [0.38, '#812581'],
  [0.5, '#b5367a'],
  [0.63, '#e55064'],
  [0.75, '#fb8761'],
  [0.88, '#fec287'],
  [1, '#fcfdbf'],
];

export const FONT = {
  family: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  size: 12,
  color: '#334155',
};

export function baseLayout(extra: Layout = {}): Layout {
  return {
    font: FONT,
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    margin: { l: 60, r: 16, t: 8, b: 40 },
    hoverlabel: { font: { family: FONT.family, size: 12 } },
    uirevision: 'keep',
    ...extra,
  };
}

export function axis(title: string, extra: Layout = {}): Layout {
  return {
    title: { text: title, standoff: 6, font: { size: 11, color: '#64748b' } },
    gridcolor: '#eef1f5',
    zerolinecolor: '#d5dbe3',
    linecolor: '#cbd5e1',
    tickfont: { size: 11, color: '#64748b' },
    automargin: true,
    ...extra,
  };
}

/**
 * Every chart's Plotly config. Local logs never leave the machine: no Plotly logo link, and no
 * "share"/"edit in Chart Studio" button (Plotly 4 shows one by default, sending the chart's data to
 * cloud.plotly.com), with no server URL for it either.
 */
export const CONFIG: Config = {
  responsive: true,
  displaylogo: false,
  showSendToCloud: false,
  plotlyServerURL: '',
  modeBarButtonsToRemove: ['select2d', 'lasso2d', 'toImage', 'sendChartToCloud'],
};

export function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
