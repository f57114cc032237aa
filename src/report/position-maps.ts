import type { PositionCounts } from '../engine/positions.js';
import { axis, baseLayout, MAGMA, type Figure } from './figure.js';

export interface PositionMaps {
  figure: Figure;
  /** Selector labels, most visited map first; `groups` of the figure uses the same labels. */
  maps: string[];
  total: number;
  omittedMaps: number;
}

/**
 * Visit counts per tile, one heatmap per map (a selector shows one at a time), on a log colour
 * scale so a few hot tiles do not wash out the rest. Hover gives the exact count.
 */
export function positionMapsFigure(
  counts: PositionCounts,
  options: { maxMaps?: number; maxSide?: number; maxCells?: number } = {},
): PositionMaps {
  const byMap = new Map<number, number>();
  for (let i = 0; i < counts.map.length; i++)
    byMap.set(counts.map[i], (byMap.get(counts.map[i]) ?? 0) + counts.visits[i]);
  const ranked = [...byMap].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const maxSide = options.maxSide ?? 200;
  let budget = options.maxCells ?? 400_000;
  const maxLog = Math.log10(Math.max(1, ...counts.visits));
  const ticks = Array.from({ length: Math.floor(maxLog) + 1 }, (_, k) => k);
  const data = [];
  for (const [map] of ranked.slice(0, options.maxMaps ?? 24)) {
    const cells = [];
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < counts.map.length; i++) {
      if (counts.map[i] !== map) continue;
      cells.push(i);
      x0 = Math.min(x0, counts.x[i]);
      x1 = Math.max(x1, counts.x[i]);
      y0 = Math.min(y0, counts.y[i]);
      y1 = Math.max(y1, counts.y[i]);
    }
    // Tiles of very large maps are merged so no map is wider or taller than maxSide cells.
    const step = Math.max(1, Math.ceil(Math.max(x1 - x0 + 1, y1 - y0 + 1) / maxSide));
    const cols = Math.floor((x1 - x0) / step) + 1;
    const rows = Math.floor((y1 - y0) / step) + 1;
    // Most visited maps first, as long as the page's cell budget lasts (always at least one).
    if (data.length && rows * cols > budget) break;
    budget -= rows * cols;
    const visits: (number | null)[][] = Array.from({ length: rows }, () => new Array(cols).fill(null));
    for (const i of cells) {
      const r = Math.floor((counts.y[i] - y0) / step);
      const c = Math.floor((counts.x[i] - x0) / step);
      visits[r][c] = (visits[r][c] ?? 0) + counts.visits[i];
    }
    data.push({
      type: 'heatmap',
      name: mapLabel(map, byMap.get(map)!),
      visible: data.length === 0,
      x: Array.from({ length: cols }, (_, c) => x0 + c * step),
      y: Array.from({ length: rows }, (_, r) => y0 + r * step),
      z: visits.map((row) => row.map((v) => (v === null ? null : Number(Math.log10(v).toFixed(3))))),
      customdata: visits,
      zmin: 0,
      zmax: Math.max(maxLog, 1),
      colorscale: MAGMA,
      colorbar: {
        title: { text: 'visits', side: 'right' },
        tickvals: ticks,
        ticktext: ticks.map((k) => (10 ** k).toLocaleString('en-US')),
        thickness: 14,
      },
      hovertemplate: `map ${map}<br>x %{x}, y %{y}<br>%{customdata:,} visits<extra></extra>`,
      hoverongaps: false,
    });
  }
  const maps = data.map((d) => d.name);
  return {
    figure: {
      data,
      groups: maps,
      autorangeOnSelect: true,
      logColor: true,
      layout: baseLayout({
        height: 520,
        xaxis: axis('x', { constrain: 'domain', showgrid: false, zeroline: false }),
        yaxis: axis('y', { autorange: 'reversed', scaleanchor: 'x', showgrid: false, zeroline: false }),
        plot_bgcolor: '#f0f2f5',
        margin: { l: 50, r: 20, t: 12, b: 44 },
      }),
    },
    maps,
    total: counts.total,
    omittedMaps: ranked.length - data.length,
  };
}

function mapLabel(map: number, visits: number): string {
  return `map ${map} · ${visits.toLocaleString('en-US')} visits`;
}
