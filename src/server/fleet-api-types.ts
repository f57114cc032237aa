/**
 * The JSON of the dashboard's fleet API (`serve --clickhouse URL`). Types only (no imports, no
 * code): the web front end imports this file too. NaN and ±Infinity travel as null.
 */

export type FleetAnalysisKind = 'leaderboard' | 'success' | 'rewards';

/** GET /api/fleet: what the dashboard serves; answered without asking ClickHouse. */
export interface FleetInfoResponse {
  /** The nodes' addresses (http(s)://host:port, never credentials). */
  nodes: string[];
  database: string;
  cluster: string | null;
  /** Local runs are served too (a path was given); otherwise the fleet page is the home page. */
  localRuns: boolean;
}

export interface FleetRunEntry {
  run: string;
  profile: string;
  rows: number;
  uidRows: number;
  files: number;
  bytes: number;
  xLabel: string;
  xMin: number | null;
  xMax: number | null;
  /** Last push, ms since the epoch. */
  pushed: number;
}

/** GET /api/fleet/runs */
export interface FleetRunsResponse {
  database: string;
  /** Changes when a push changes the runs: answers of another version are computed again. */
  version: number;
  runs: FleetRunEntry[];
}

/** A value per (uid, run): the heatmap of a leaderboard or of success rates. */
export interface FleetMatrix {
  /** Columns, in the runs' order. */
  runs: string[];
  /** Rows, in the table's order. */
  uids: number[];
  /** uids.length rows × runs.length columns; null where the uid has no value in that run. */
  z: (number | null)[][];
  /** What the colour is ("mean rewards", "success rate"). */
  value: string;
}

/** One run's curve: exact per-bin means on bins shared by every run, and their EMA. */
export interface FleetCurve {
  run: string;
  x: number[];
  mean: (number | null)[];
  smooth: (number | null)[];
}

/** GET /api/fleet/analysis?kind=K[&runs=a,b] — analyzeFleet's result (without its Vega-Lite chart) and what to draw. */
export interface FleetAnalysisResponse {
  kind: FleetAnalysisKind;
  version: number;
  /** The runs analysed, in the fleet's order. */
  runs: string[];
  title: string;
  columns: { name: string; type: 'number' | 'text' }[];
  rows: Record<string, string | number | null>[];
  notes: string[];
  total: number | null;
  matrix?: FleetMatrix;
  curves?: { xLabel: string; metric: string; series: FleetCurve[] };
}
