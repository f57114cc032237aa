import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { PositionCounts } from '../engine/positions.js';
import { rasterHeatmapSpec, type VegaLiteSpec } from '../render/index.js';

export interface MapRegion {
  id: number;
  name: string;
  /** [map_x, map_y]: the region's top-left tile on the world map. */
  coordinates: [number, number];
}

/** The world grid: 444 + 2·20 rows by 436 + 2·20 columns (20 tiles of padding each side). */
export const GLOBAL_ROWS = 484;
export const GLOBAL_COLS = 476;
const PADDING = 20;

/** Reads a region table (`pokemon-red-map_data.json`: `{regions: [{id, name, coordinates}]}`). */
export function readMapLayout(path: string): Map<number, MapRegion> {
  let parsed: { regions?: { id: string | number; name: string; coordinates: [number, number] }[] };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UserError(`--map-layout ${path}: cannot read (${(error as Error).message})`, {
      hint: 'pass a region table such as pokemon-red-map_data.json',
    });
  }
  if (!Array.isArray(parsed.regions))
    throw new UserError(`--map-layout ${path}: expected {"regions": [...]}`, {
      hint: 'pass a region table such as pokemon-red-map_data.json',
    });
  const regions = new Map<number, MapRegion>();
  for (const r of parsed.regions) {
    const id = Number(r.id);
    if (Number.isInteger(id) && id >= 0) regions.set(id, { id, name: r.name, coordinates: r.coordinates });
  }
  return regions;
}

export interface GlobalGrid {
  values: Float64Array;
  /** Map ids without a region (never drawn), with their visit counts. */
  unknownMaps: Map<number, number>;
  placed: number;
  offGrid: number;
}

/** Visit counts on the world grid: row = y + map_y + 20, col = x + map_x + 20. */
export function globalGrid(counts: PositionCounts, regions: Map<number, MapRegion>): GlobalGrid {
  const values = new Float64Array(GLOBAL_ROWS * GLOBAL_COLS).fill(NaN);
  const unknownMaps = new Map<number, number>();
  let placed = 0;
  let offGrid = 0;
  for (let i = 0; i < counts.map.length; i++) {
    const region = regions.get(counts.map[i]);
    if (!region) {
      unknownMaps.set(counts.map[i], (unknownMaps.get(counts.map[i]) ?? 0) + counts.visits[i]);
      continue;
    }
    const row = counts.y[i] + region.coordinates[1] + PADDING;
    const col = counts.x[i] + region.coordinates[0] + PADDING;
    if (row < 0 || row >= GLOBAL_ROWS || col < 0 || col >= GLOBAL_COLS) {
      offGrid += counts.visits[i];
      continue;
    }
    const k = row * GLOBAL_COLS + col;
    values[k] = (Number.isNaN(values[k]) ? 0 : values[k]) + counts.visits[i];
    placed += counts.visits[i];
  }
  return { values, unknownMaps, placed, offGrid };
}

/** The whole world map as one heatmap with a log colour scale; unknown map ids are named in the caption. */
export function globalMapHeatmapSpec(grid: GlobalGrid, options: { caption: string }): VegaLiteSpec {
  const notes = [`${grid.placed.toLocaleString('en-US')} positions placed · log colour scale`];
  if (grid.unknownMaps.size) {
    const ids = [...grid.unknownMaps.keys()].sort((a, b) => a - b);
    const skipped = [...grid.unknownMaps.values()].reduce((a, b) => a + b, 0);
    notes.push(
      `not drawn: ${skipped.toLocaleString('en-US')} positions on unknown map ids ${ids.slice(0, 12).join(', ')}${ids.length > 12 ? ', …' : ''}`,
    );
  }
  if (grid.offGrid) notes.push(`${grid.offGrid.toLocaleString('en-US')} positions outside the grid`);
  let max = 1;
  for (const v of grid.values) if (v > max) max = v;
  return {
    ...rasterHeatmapSpec(
      { values: grid.values, rows: GLOBAL_ROWS, cols: GLOBAL_COLS },
      {
        xDomain: [0, GLOBAL_COLS],
        yDomain: [0, GLOBAL_ROWS],
        rowZero: 'top',
        log: true,
        domain: [1, max > 1 ? max : 2],
        xTitle: 'global column',
        yTitle: 'global row',
        colorTitle: 'visits (log)',
      },
    ),
    title: { text: 'Agent positions on the world map', subtitle: [options.caption, ...notes] },
    width: 340,
    height: 346,
  } as unknown as VegaLiteSpec;
}
