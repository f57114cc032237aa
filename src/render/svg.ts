import { compile, mergeDeep, type Config, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';
import { stabilizeSvgIds } from './stable-svg-ids.js';
import { dejaVuTextWidth, useDejaVuTextMetrics } from './text-metrics.js';
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

/**
 * Single views get an exact figure size (width/height include titles, axes, legends), and their
 * title and subtitle are wrapped to fit its width: with a fixed size Vega clips what is wider
 * (a weights chart lost the end of its caption).
 */
function withFigureSize(spec: VegaLiteSpec, options: RenderSvgOptions): VegaLiteSpec {
  if (!isSingleView(spec)) return spec;
  const width = options.width ?? DEFAULT_WIDTH;
  const sized: Record<string, unknown> = {
    width,
    height: options.height ?? DEFAULT_HEIGHT,
    autosize: { type: 'fit', contains: 'padding' },
    ...spec,
  };
  // A spec that sizes itself otherwise (autosize "pad": the view grows around its title) is not cut.
  if ((sized.autosize as { type?: string }).type === 'fit' && sized.title !== undefined)
    sized.title = fitTitle(
      sized.title,
      (typeof sized.width === 'number' ? sized.width : width) - 2 * PADDING,
    );
  return sized as unknown as VegaLiteSpec;
}

/** A Vega-Lite title (text, or text and subtitle) wrapped to `room` points. */
function fitTitle(title: unknown, room: number): unknown {
  if (typeof title === 'string') return wrapText(title, room, TITLE_SIZE, 'bold');
  if (!title || typeof title !== 'object' || Array.isArray(title)) return title;
  const { text, subtitle } = title as { text?: string | string[]; subtitle?: string | string[] };
  return {
    ...title,
    ...(text === undefined ? {} : { text: wrapText(text, room, TITLE_SIZE, 'bold') }),
    ...(subtitle === undefined ? {} : { subtitle: wrapText(subtitle, room, SUBTITLE_SIZE) }),
  };
}

const PADDING = Number(runlensConfig.padding ?? 0);
const TITLE_SIZE = Number(runlensConfig.title?.fontSize ?? 13);
const SUBTITLE_SIZE = Number(runlensConfig.title?.subtitleFontSize ?? 10.5);

/**
 * Lines of `text` no wider than `room` points in DejaVu Sans: each line is broken at " · " first,
 * then at spaces; a single word wider than the room stays whole.
 */
export function wrapText(
  text: string | readonly string[],
  room: number,
  fontSize: number,
  fontWeight: 'bold' | 'normal' = 'normal',
): string | string[] {
  const fits = (line: string) => dejaVuTextWidth({ fontSize, fontWeight }, line) <= room;
  const lines = typeof text === 'string' ? [text] : [...text];
  if (lines.every(fits)) return typeof text === 'string' ? text : lines;
  const out: string[] = [];
  for (const line of lines) {
    if (fits(line)) {
      out.push(line);
      continue;
    }
    let current = '';
    for (const part of line.split(' · ')) {
      const joined = current ? `${current} · ${part}` : part;
      if (fits(joined)) current = joined;
      else {
        if (current) out.push(current);
        current = '';
        // A part wider than the room on its own: break it at spaces.
        for (const word of part.split(' ')) {
          const next = current ? `${current} ${word}` : word;
          if (fits(next) || !current) current = next;
          else {
            out.push(current);
            current = word;
          }
        }
      }
    }
    if (current) out.push(current);
  }
  return out;
}
