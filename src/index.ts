export { UserError } from './errors.js';
export { parseJsonRecord, stringifyJsonRecord } from './formats/json-record.js';
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
