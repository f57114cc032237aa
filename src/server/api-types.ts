/**
 * The JSON the dashboard API returns. Types only (no imports, no code): the web front end imports
 * this file too. Numbers that are NaN or ±Infinity travel as null.
 */

export type RunState = 'closed' | 'queued' | 'indexing' | 'ready' | 'error';

export type Profile = 'filetao' | 'openvalidators' | 'rl' | 'generic';

export interface IndexProgress {
  fileIndex: number;
  fileCount: number;
  fileName: string;
  bytesDone: number;
  bytesTotal: number;
  rows: number;
  elapsedMs: number;
}

/**
 * What a run shows while it is still being read: the events indexed so far, an estimate of the
 * whole (events so far over the share of bytes read), and the bytes read.
 */
export interface PartialInfo {
  rows: number;
  estimatedRows: number;
  bytesRead: number;
  bytesTotal: number;
}

export interface RunListEntry {
  /** Path relative to the served directory ("." for the directory itself). */
  id: string;
  kind: 'file' | 'directory';
  files: number;
  bytes: number;
  /** Newest file modification time, ms since the epoch. */
  modified: number;
  profile: Profile;
  /** True until the run is opened: the profile was guessed from the first record. */
  profileGuessed: boolean;
  state: RunState;
  rows: number | null;
  progress?: IndexProgress;
  /** Set while the run is read and what is indexed so far can already be charted. */
  partial?: PartialInfo;
  error?: string;
}

export interface RunsResponse {
  root: string;
  runs: RunListEntry[];
}

export type Table = 'events' | 'uid_events';

export interface MetricInfo {
  name: string;
  table: Table;
  /** Events (or uid values) holding the metric. */
  values: number;
}

export type ChartKind = 'line' | 'scatter' | 'scatter3d' | 'heatmap' | 'positions';

export interface ChartInfo {
  /** Stable id, e.g. `line:events:step_length`, `scatter3d:rewards`, `heatmap:scores`, `positions`. */
  id: string;
  kind: ChartKind;
  title: string;
  description: string;
  metric?: string;
  table?: Table;
  heatmap?: 'scores' | 'weights';
}

export interface FileInfo {
  name: string;
  rows: number;
  bytes: number;
  status: string;
  problems: number;
}

export interface PendingResponse {
  id: string;
  state: 'closed' | 'queued' | 'indexing' | 'error';
  progress?: IndexProgress;
  error?: string;
}

export interface SummaryResponse {
  id: string;
  state: 'ready';
  profile: Profile;
  /** Increases each time appended data was read. */
  version: number;
  updatedAt: number;
  x: { label: string; column: string | null; reason: string; min: number | null; max: number | null };
  rows: number;
  uidRows: number;
  files: FileInfo[];
  bytes: number;
  uids: number;
  problems: number;
  truncated: number;
  tasks: string[];
  metrics: MetricInfo[];
  charts: ChartInfo[];
  /** Other x axes the run's events offer (a wandb history's `_runtime`, `_timestamp`). */
  xAxes: XAxisChoice[];
  indexMs: number;
  /** Bytes of the logs read when the run was opened: 0 when its cached index was up to date (null while partial). */
  bytesRead: number | null;
  /** The run's index is kept in the cache (reopening it reads only what changed). */
  cached: boolean;
  /** Set while the run is still being read: these are the facts of what is indexed so far. */
  partial: PartialInfo | null;
}

export interface BinnedSeriesJson {
  group: string | null;
  x: number[];
  count: number[];
  mean: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  nonFinite: number[];
}

export interface BinsResponse {
  run: string;
  version: number;
  /** Computed over what is indexed so far (the run is still being read). */
  partial: boolean;
  metric: string;
  table: Table;
  xLabel: string;
  bins: { x0: number; width: number; count: number };
  quantiles: 'exact' | 'approximate' | 'none';
  rows: number;
  series: BinnedSeriesJson[];
  /** Which x: the run's axis, or a wandb history's relative time (`_runtime`) or wall time. */
  xAxis: XAxisChoice;
}

/** The x a line can be drawn over: the run's axis, `_runtime` (seconds), `_timestamp` (dates). */
export type XAxisChoice = 'default' | 'runtime' | 'time';

export interface SampleResponse {
  run: string;
  version: number;
  /** Computed over what is indexed so far (the run is still being read). */
  partial: boolean;
  metric: string;
  xLabel: string;
  seed: number;
  population: number;
  size: number;
  x: number[];
  uid: number[];
  task: (string | null)[];
  value: number[];
}

export interface HeatmapResponse {
  run: string;
  version: number;
  /** Computed over what is indexed so far (the run is still being read). */
  partial: boolean;
  kind: 'scores' | 'weights';
  xLabel: string;
  caption: string;
  uids: number[];
  /** Bin centres. */
  x: number[];
  /** uids.length rows × x.length columns. */
  z: (number | null)[][];
}

export interface PositionMap {
  map: number;
  visits: number;
  x: number[];
  y: number[];
  count: number[];
}

export interface PositionsResponse {
  run: string;
  version: number;
  /** Computed over what is indexed so far (the run is still being read). */
  partial: boolean;
  total: number;
  maps: PositionMap[];
}

/** Server-sent events on /api/live: `state` while opening, then `update` after each refresh. */
export interface LiveStateEvent {
  id: string;
  state: RunState;
  progress?: IndexProgress;
  error?: string;
  version?: number;
  rows?: number;
  partial?: PartialInfo;
}

export interface LiveUpdateEvent {
  id: string;
  version: number;
  rows: number;
  newRows: number;
  newFiles: string[];
  reread: string[];
  at: number;
  /** Set when the update is a further part of a run still being read. */
  partial?: PartialInfo;
}

export interface ErrorBody {
  error: { status: number; message: string; hint?: string; valid?: string[] };
}
