import type { Config } from 'vega-lite';
import { FONT_FAMILY } from './fonts.js';

/** SVG/Vega units per inch: one unit is one typographic point. */
export const UNITS_PER_INCH = 72;

/** Default figure size: 7 × 4.5 in, the whole figure including titles, axes and legends. */
export const DEFAULT_WIDTH = 7 * UNITS_PER_INCH;
export const DEFAULT_HEIGHT = 4.5 * UNITS_PER_INCH;

/**
 * Okabe–Ito colours, reordered so the first few are the most distinct on white
 * (yellow last, black omitted because it reads as "axis").
 */
export const CATEGORY_PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#999999',
  '#F0E442',
];

/** Perceptually uniform, colour-blind-safe continuous scheme used by default. */
export const DEFAULT_SEQUENTIAL_SCHEME = 'viridis';

const TEXT = '#222222';
const MUTED_TEXT = '#444444';
const GRID = '#e5e5e5';
const DOMAIN = '#888888';

const font = FONT_FAMILY;

/** The shared Vega-Lite config of every runlens chart. Spec-level `config` wins over it. */
export const runlensConfig: Config = {
  background: 'white',
  padding: 8,
  font,
  view: { stroke: null },
  title: {
    font,
    fontSize: 13,
    fontWeight: 'bold',
    color: TEXT,
    subtitleFont: font,
    subtitleFontSize: 10.5,
    subtitleColor: MUTED_TEXT,
    anchor: 'start',
    offset: 8,
  },
  axis: {
    labelFont: font,
    labelFontSize: 10,
    labelColor: MUTED_TEXT,
    titleFont: font,
    titleFontSize: 11,
    titleFontWeight: 'normal',
    titleColor: TEXT,
    titlePadding: 6,
    gridColor: GRID,
    gridWidth: 0.8,
    domainColor: DOMAIN,
    tickColor: DOMAIN,
    labelOverlap: true,
    labelSeparation: 4,
    labelFlush: true,
  },
  // A category's label stays beside its band: flushed, the first and last moved off their ticks.
  axisBand: { labelFlush: false },
  legend: {
    labelFont: font,
    labelFontSize: 10,
    labelColor: MUTED_TEXT,
    titleFont: font,
    titleFontSize: 10.5,
    titleFontWeight: 'normal',
    titleColor: TEXT,
    symbolSize: 60,
    gradientThickness: 12,
    labelLimit: 180,
  },
  header: {
    labelFont: font,
    labelFontSize: 10.5,
    labelColor: TEXT,
    titleFont: font,
    titleFontSize: 11,
    titleFontWeight: 'bold',
    titleColor: TEXT,
  },
  mark: { font },
  text: { font, fontSize: 10, color: TEXT },
  line: { strokeWidth: 1.5 },
  point: { size: 16, filled: true },
  range: {
    category: CATEGORY_PALETTE,
    ordinal: { scheme: DEFAULT_SEQUENTIAL_SCHEME },
    ramp: { scheme: DEFAULT_SEQUENTIAL_SCHEME },
    heatmap: { scheme: DEFAULT_SEQUENTIAL_SCHEME },
    diverging: { scheme: 'blueorange' },
  },
};
