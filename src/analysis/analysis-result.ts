import type { VegaLiteSpec } from '../render/index.js';

export type CellValue = string | number | null;

/** What an analysis returns: a small table (already aggregated in DuckDB), notes and a chart. */
export interface AnalysisResult {
  kind: string;
  title: string;
  /** Output columns in order; `text` columns are left-aligned and truncated in the terminal table. */
  columns: { name: string; type: 'number' | 'text' }[];
  rows: Record<string, CellValue>[];
  /** What was computed and how (definitions used, rows left out), one sentence each. */
  notes: string[];
  /** Rows the analysis would have produced without `--top` (for "showing 20 of 311"). */
  total?: number;
  chart?: VegaLiteSpec;
}

/** Options every analysis accepts; each reads the ones it needs. */
export interface AnalysisOptions {
  /** `10m`, `1h`, `30s` (of `_timestamp`) or a number of x units such as `100` (blocks). */
  interval?: string;
  by?: 'uid' | 'completion';
  metric?: string;
  sort?: 'mean' | 'max' | 'count';
  /** How many rows to keep (0 = all); each analysis has its own default. */
  top?: number;
  /** completion-rates: follow completions matching this RE2 expression instead of the top N. */
  match?: string;
  /** similarity: how many of the most frequent completions link uids. */
  completions?: number;
  task?: string[];
  xRange?: { min?: number; max?: number };
  /** Uid rows per range of x above which an analysis that adds up over ranges splits (tests). */
  pieceRows?: number;
}
