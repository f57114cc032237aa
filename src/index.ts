export { UserError } from './errors.js';
export { parseJsonRecord, stringifyJsonRecord } from './formats/json-record.js';
export { discoverRun, type RunLocation, type DiscoverOptions } from './formats/discover.js';
export { readRecords } from './formats/read-records.js';
export type { ReadProblem } from './formats/problems.js';
export type { Profile } from './formats/profile.js';
export { Run, type OpenRunOptions, type RunSummary } from './engine/run.js';
export { Session } from './engine/session.js';
export { cacheRoot, listCache, clearCache, type CachedRun } from './engine/run-cache.js';
export { ident, lit, sql, type Sql } from './engine/sql.js';
export {
  binnedStats,
  type BinnedStats,
  type BinnedSeries,
  type BinnedStatsOptions,
} from './engine/binned-stats.js';
export { reservoirSample, type ReservoirSample, type ReservoirOptions } from './engine/reservoir.js';
export { positionCounts, type PositionCounts } from './engine/positions.js';
export { movingAverageScores, type ScoreMatrix } from './engine/moving-average-scores.js';
export { inspectRun, type RunInspection } from './analysis/inspect.js';
export {
  uidIndexedMatrix,
  weightsMatrix,
  type UidIndexedMatrix,
  type WeightsMatrix,
} from './engine/uid-indexed-matrix.js';
export {
  renderChart,
  renderSvg,
  renderPng,
  renderPdf,
  rasterHeatmap,
  rasterHeatmapSpec,
  schemeColor,
  runlensConfig,
  CHART_FORMATS,
  type ChartFormat,
  type RenderChartOptions,
  type VegaLiteSpec,
  type HeatmapMatrix,
  type RasterHeatmapSpecOptions,
} from './render/index.js';
export {
  simulate,
  simulateProfiles,
  parseSize,
  type SimulateOptions,
  type SimulateProfile,
  type SimulateProgress,
  type SimulateResult,
} from './simulate/index.js';
export {
  EventLog,
  listRotatedSet,
  readRotatedSet,
  fileTaoEvents,
  openValidatorsEvents,
  EventValidationError,
  startHostMetrics,
  type EventLogOptions,
  type FileTaoEvent,
  type OpenValidatorsEvent,
  type SystemEvent,
} from './log/index.js';
export {
  followFile,
  followLines,
  type FollowedLine,
  type FollowNotice,
  type FollowOptions,
} from './live/follow.js';
export { readCompleteLines } from './live/read-lines.js';
export { buildReport, writeReport, type BuiltReport, type WrittenReport } from './report/write-report.js';
export type { ReportOptions, ReportModel } from './report/gather-report.js';
export * from './server/index.js';
export {
  analyzeRun,
  ANALYSES,
  ANALYSIS_KINDS,
  type AnalysisKind,
  type AnalysisOptions,
  type AnalysisResult,
} from './analysis/analyses.js';
export {
  exportRuns,
  type ExportFormat,
  type ExportOptions,
  type ExportReport,
} from './export/export-runs.js';
