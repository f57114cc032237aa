/**
 * The slice of the Pokémon Red world the simulated agents walk: a chain of outdoor maps (the route a
 * playthrough takes) with side buildings. Ids and tile sizes are the region table's
 * (data/pokemon-red-map_data.json), so every simulated position lands on the global map grid.
 */
export type Direction = 'N' | 'S' | 'E' | 'W';

export interface WorldMap {
  id: number;
  width: number;
  height: number;
  /** Wild battles happen here. */
  wild: boolean;
  /** Level of wild pokémon (and the gym leader, for gyms). */
  level: number;
  /** Pokémon Center: heals the party. */
  heals?: boolean;
  /** Gym: beating it grants the badge with this number (1-based). */
  badge?: number;
}

export interface ChainStep {
  map: WorldMap;
  /** Which edge leads to the next map in the chain. */
  exit: Direction;
  /** Badges needed before the exit opens (gym leaders block the way). */
  badgesToLeave: number;
  /** Buildings and side areas entered from this map. */
  sides: WorldMap[];
}

function map(id: number, width: number, height: number, extra: Partial<WorldMap> = {}): WorldMap {
  return { id, width, height, wild: false, level: 0, ...extra };
}

const house = (id: number, width = 8, height = 8) => map(id, width, height);
const center = (id: number) => map(id, 14, 8, { heals: true });

export const CHAIN: readonly ChainStep[] = [
  {
    map: map(0, 20, 18),
    exit: 'N',
    badgesToLeave: 0,
    sides: [house(37), house(38), house(39), map(40, 10, 12)],
  },
  { map: map(12, 20, 36, { wild: true, level: 3 }), exit: 'N', badgesToLeave: 0, sides: [] },
  {
    map: map(1, 40, 36),
    exit: 'N',
    badgesToLeave: 0,
    sides: [center(41), house(42), house(43), house(44), map(33, 40, 18, { wild: true, level: 5 })],
  },
  { map: map(13, 20, 72, { wild: true, level: 4 }), exit: 'N', badgesToLeave: 0, sides: [] },
  { map: map(51, 34, 48, { wild: true, level: 5 }), exit: 'N', badgesToLeave: 0, sides: [] },
  {
    map: map(2, 40, 36),
    exit: 'E',
    badgesToLeave: 1,
    sides: [map(52, 20, 8), map(54, 10, 14, { badge: 1, level: 13 }), house(56), center(58)],
  },
  { map: map(14, 70, 18, { wild: true, level: 8 }), exit: 'E', badgesToLeave: 0, sides: [] },
  { map: map(59, 40, 36, { wild: true, level: 10 }), exit: 'E', badgesToLeave: 0, sides: [] },
  { map: map(60, 28, 28, { wild: true, level: 10 }), exit: 'E', badgesToLeave: 0, sides: [] },
  { map: map(61, 40, 36, { wild: true, level: 11 }), exit: 'E', badgesToLeave: 0, sides: [] },
  { map: map(15, 90, 18, { wild: true, level: 11 }), exit: 'E', badgesToLeave: 0, sides: [center(68)] },
  {
    map: map(3, 40, 36),
    exit: 'S',
    badgesToLeave: 2,
    sides: [
      center(64),
      map(65, 10, 14, { badge: 2, level: 21 }),
      house(66),
      house(67),
      map(35, 20, 36, { wild: true, level: 13 }),
      map(36, 60, 18, { wild: true, level: 14 }),
      house(88),
    ],
  },
  { map: map(16, 20, 36, { wild: true, level: 15 }), exit: 'S', badgesToLeave: 0, sides: [] },
  { map: map(119, 8, 48), exit: 'S', badgesToLeave: 0, sides: [] },
  { map: map(17, 20, 36, { wild: true, level: 16 }), exit: 'S', badgesToLeave: 0, sides: [] },
  {
    map: map(5, 40, 36),
    exit: 'E',
    badgesToLeave: 3,
    sides: [
      center(89),
      house(90),
      house(91),
      map(92, 10, 18, { badge: 3, level: 24 }),
      map(94, 28, 12),
      map(95, 40, 18),
      map(99, 20, 14),
    ],
  },
  { map: map(22, 60, 18, { wild: true, level: 18 }), exit: 'E', badgesToLeave: 0, sides: [] },
  { map: house(85), exit: 'N', badgesToLeave: 0, sides: [] },
  { map: map(197, 40, 36, { wild: true, level: 22 }), exit: 'E', badgesToLeave: 0, sides: [] },
];

/** Internal species ids of the wild pokémon met along the way (party slots log these ids). */
export const WILD_SPECIES = [36, 165, 123, 112, 84, 5, 15, 3, 109, 100, 4, 29, 57, 173];

/** The starter's species id (Squirtle), as in the sample logs. */
export const STARTER_SPECIES = 177;
