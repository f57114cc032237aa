import { compile, mergeDeep, type Config, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';
import { stabilizeSvgIds } from './stable-svg-ids.js';
import { useDejaVuTextMetrics } from './text-metrics.js';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, runlensConfig } from './theme.js';

export type VegaLiteSpec = TopLevelSpec;

export interface RenderSvgOptions {
  /** Whole-figure width in points (1/72 in) for single-view specs without their own `width`. */
  width?: number;
  /** Whole-figure height in points for single-view specs without their own `height`. */
  height?: number;
  /** Extra config merged over the runlens theme (the spec's own `config` still wins). */
  config?: Config;
}

/**
 * Vega-Lite spec → SVG string, headless and deterministic: the runlens theme, DejaVu Sans,
 * text laid out with DejaVu's real widths, fixed figure size, stable ids, times shown in UTC.
 */
export async function renderSvg(spec: VegaLiteSpec, options: RenderSvgOptions = {}): Promise<string> {
  pinTimeZoneToUtc();
  useDejaVuTextMetrics();
  const config =
    options.config === undefined ? runlensConfig : mergeDeep(structuredClone(runlensConfig), options.config);
  const vegaSpec = compile(withFigureSize(spec, options), { config }).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return stabilizeSvgIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Vega formats dates in the process time zone; charts must not depend on the machine they were
 * drawn on, so rendering pins the process to UTC.
 */
function pinTimeZoneToUtc(): void {
  if (process.env.TZ !== 'UTC') process.env.TZ = 'UTC';
}

function isSingleView(spec: VegaLiteSpec): boolean {
  return 'mark' in spec || 'layer' in spec;
}

/** Single views get an exact figure size (width/height include titles, axes, legends). */
function withFigureSize(spec: VegaLiteSpec, options: RenderSvgOptions): VegaLiteSpec {
  if (!isSingleView(spec)) return spec;
  return {
    width: options.width ?? DEFAULT_WIDTH,
    height: options.height ?? DEFAULT_HEIGHT,
    autosize: { type: 'fit', contains: 'padding' },
    ...spec,
  } as VegaLiteSpec;
}
