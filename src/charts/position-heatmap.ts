import type { PositionCounts } from '../engine/positions.js';
import { rasterHeatmapSpec, type VegaLiteSpec } from '../render/index.js';

export interface PositionHeatmapOptions {
  caption: string;
  /** Small multiples for at most this many maps (most visited first). Default 6. */
  maxMaps?: number;
  /** Names of map ids, when known. */
  mapNames?: Map<number, string>;
}

/**
 * Visit counts per tile as small multiples, one per map (the most visited maps), on a shared
 * logarithmic colour scale — a few hot tiles would otherwise wash out the rest.
 */
export function positionHeatmapSpec(counts: PositionCounts, options: PositionHeatmapOptions): VegaLiteSpec {
  const byMap = new Map<number, number>();
  for (let i = 0; i < counts.map.length; i++)
    byMap.set(counts.map[i], (byMap.get(counts.map[i]) ?? 0) + counts.visits[i]);
  const maps = [...byMap]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, options.maxMaps ?? 6)
    .map(([map]) => map);
  const maxVisits = Math.max(1, ...counts.visits);
  const panels = maps.map((map) => {
    let x0 = Infinity,
      x1 = -Infinity,
      y0 = Infinity,
      y1 = -Infinity;
    for (let i = 0; i < counts.map.length; i++) {
      if (counts.map[i] !== map) continue;
      x0 = Math.min(x0, counts.x[i]);
      x1 = Math.max(x1, counts.x[i]);
      y0 = Math.min(y0, counts.y[i]);
      y1 = Math.max(y1, counts.y[i]);
    }
    const cols = x1 - x0 + 1;
    const rows = y1 - y0 + 1;
    const values = new Float64Array(rows * cols).fill(NaN);
    for (let i = 0; i < counts.map.length; i++) {
      if (counts.map[i] !== map) continue;
      values[(counts.y[i] - y0) * cols + (counts.x[i] - x0)] = counts.visits[i];
    }
    const name = options.mapNames?.get(map);
    const scale = Math.min(150 / cols, 150 / rows);
    return {
      ...rasterHeatmapSpec(
        { values, rows, cols },
        {
          xDomain: [x0 - 0.5, x1 + 0.5],
          yDomain: [y0 - 0.5, y1 + 0.5],
          rowZero: 'top',
          log: true,
          domain: [1, maxVisits > 1 ? maxVisits : 2],
          xTitle: 'x',
          yTitle: 'y',
          colorTitle: 'visits (log)',
          title: `map ${map}${name ? ` · ${name}` : ''} (${byMap.get(map)!.toLocaleString('en-US')})`,
        },
      ),
      width: Math.max(40, Math.round(cols * scale)),
      height: Math.max(40, Math.round(rows * scale)),
    };
  });
  const shown =
    maps.length < byMap.size ? `${maps.length} of ${byMap.size} maps, most visited` : `${maps.length} maps`;
  return {
    title: {
      text: 'Agent positions: visits per tile',
      subtitle: [
        options.caption,
        `${counts.total.toLocaleString('en-US')} positions · ${shown} · log colour scale`,
      ],
    },
    concat: panels,
    columns: 3,
    spacing: 20,
  } as unknown as VegaLiteSpec;
}
