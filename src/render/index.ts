export { renderChart, CHART_FORMATS, type ChartFormat, type RenderChartOptions } from './chart.js';
export { renderSvg, type RenderSvgOptions, type VegaLiteSpec } from './svg.js';
export { renderPng, renderPngAsync, DEFAULT_DPI, type RenderPngOptions } from './png.js';
export { renderPdf, type RenderPdfOptions } from './pdf.js';
export { setPngDpi, readPngPhys, pixelsPerMetre, crc32 } from './png-resolution.js';
export { stabilizeSvgIds } from './stable-svg-ids.js';
export {
  rasterHeatmap,
  HEATMAP_LEVELS,
  type HeatmapMatrix,
  type RasterHeatmap,
  type RasterHeatmapOptions,
} from './raster-heatmap.js';
export { rasterHeatmapSpec, type RasterHeatmapSpecOptions } from './raster-heatmap-spec.js';
export { schemeColor, schemeRamp, CONTINUOUS_SCHEMES, type Rgb } from './color-scheme.js';
export {
  runlensConfig,
  CATEGORY_PALETTE,
  DEFAULT_SEQUENTIAL_SCHEME,
  DEFAULT_WIDTH,
  DEFAULT_HEIGHT,
  UNITS_PER_INCH,
} from './theme.js';
export { FONT_FAMILY, fontFiles } from './fonts.js';
