import { CHAIN, STARTER_SPECIES, WILD_SPECIES, type Direction, type WorldMap } from './rl-world.js';
import { clamp, sigmoid, type Random } from './random.js';

/** Movement actions 0-3 (down, left, right, up); 4-6 are A, B, Start and do not move. */
const DX = [0, -1, 1, 0, 0, 0, 0];
const DY = [1, 0, 0, -1, 0, 0, 0];

/**
 * Cheap deterministic "is this tile a tree or wall" test. Obstacles stand only on odd/odd tiles, so
 * they never form pockets: a step sideways always clears the way (and the middle row and column
 * stay open).
 */
function blocked(map: WorldMap, x: number, y: number): boolean {
  if ((x & y & 1) === 0 || x === map.width >> 1 || y === map.height >> 1) return false;
  let h = Math.imul(map.id + 1, 0x9e3779b1) ^ Math.imul(x + 7, 0x85ebca6b) ^ Math.imul(y + 13, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return ((h ^ (h >>> 12)) >>> 0) % 100 < 45;
}

/**
 * One environment of a Pokémon Red RL run: walks the map chain (random walk with drift towards the
 * next map, stronger with skill), fights, levels, catches, heals, earns badges and dies now and then.
 * Reward components are episode-to-date, as the training stats callback logs them.
 */
export class Agent {
  step = 0;
  chainIndex = 0;
  side: WorldMap | undefined;
  x = 0;
  y = 0;
  lastAction = 0;
  maxChain = 0;
  levels = [0, 0, 0, 0, 0, 0];
  species = [0, 0, 0, 0, 0, 0];
  partySize = 1;
  levelsSum = 0;
  hp = 0;
  maxHp = 0;
  deaths = 0;
  badges = 0;
  eventFlags = 0;
  healed = 0;
  coords = 0;
  stuckSteps = 0;
  private still = 0;
  private returnX = 0;
  private returnY = 0;
  private centerChain = 0;
  private readonly visited = new Set<number>();
  // Reward components, episode to date.
  event = 0;
  level = 0;
  heal = 0;
  badge = 0;
  explore = 0;
  dead = 0;
  stuck = 0;
  total = 0;
  stepReward = 0;

  constructor(public skill: number) {
    this.reset();
  }

  get map(): WorldMap {
    return this.side ?? CHAIN[this.chainIndex].map;
  }

  get health(): number {
    return this.hp / this.maxHp;
  }

  reset(): void {
    this.step = 0;
    this.chainIndex = 0;
    this.side = undefined;
    this.x = 10;
    this.y = 11;
    this.maxChain = 0;
    this.levels = [6, 0, 0, 0, 0, 0];
    this.species = [STARTER_SPECIES, 255, 0, 0, 0, 0];
    this.partySize = 1;
    this.levelsSum = 6;
    this.maxHp = 22;
    this.hp = 22;
    this.deaths = 0;
    this.badges = 0;
    this.eventFlags = 0;
    this.healed = 0;
    this.coords = 0;
    this.stuckSteps = 0;
    this.still = 0;
    this.centerChain = 0;
    this.visited.clear();
    this.total = 0;
  }

  /** One environment step. */
  advance(random: Random): void {
    this.step++;
    const map = this.map;
    const action = this.chooseAction(random, map);
    this.lastAction = action;
    const before = this.x + this.y * 256 + map.id * 65536;
    this.move(random, map, DX[action], DY[action]);
    const place = this.map;
    const chain = CHAIN[this.chainIndex];
    const gated = this.badges < chain.badgesToLeave && !this.needsLevels();
    if (!this.side && chain.sides.length > 0 && random.chance(0.004 + (gated ? 0.03 : 0.006) * this.skill)) {
      this.enterSide(random);
    }
    if (place.wild && random.chance(0.05)) this.battle(random, place.level + random.intBetween(-2, 2));
    if (place.heals && this.hp < this.maxHp && random.chance(0.5)) {
      this.healed += this.maxHp - this.hp;
      this.hp = this.maxHp;
      this.centerChain = this.chainIndex;
    }
    if (place.badge !== undefined && this.badges === place.badge - 1 && random.chance(0.04)) {
      this.gymBattle(random, place);
    }
    if ((this.side || place.id < 11) && random.chance(0.002 + 0.003 * this.skill)) this.eventFlags++;
    const key = this.x + this.y * 256 + this.map.id * 65536;
    if (!this.visited.has(key)) {
      this.visited.add(key);
      this.coords++;
    }
    this.still = key === before ? this.still + 1 : 0;
    if (this.still > 20) this.stuckSteps++;
    this.updateRewards();
  }

  private chooseAction(random: Random, map: WorldMap): number {
    if (!random.chance(0.1 + 0.75 * this.skill)) {
      // An untrained policy mashes A, B and Start a lot.
      return random.chance(0.5 * (1 - this.skill)) ? 4 + random.int(3) : random.int(7);
    }
    let tx: number;
    let ty: number;
    if (this.side) {
      if (this.side.badge === this.badges + 1) return random.int(7);
      tx = map.width >> 1;
      ty = map.height;
    } else {
      const chain = CHAIN[this.chainIndex];
      const grinding = this.needsLevels();
      if (grinding && map.wild) return random.int(7);
      let edge: Direction | undefined = chain.exit;
      if (grinding && this.chainIndex > 0) edge = opposite(CHAIN[this.chainIndex - 1].exit);
      else if (this.badges < chain.badgesToLeave || this.chainIndex === CHAIN.length - 1) edge = undefined;
      if (edge === undefined) return random.int(7);
      tx = edge === 'E' ? map.width : edge === 'W' ? -1 : map.width >> 1;
      ty = edge === 'S' ? map.height : edge === 'N' ? -1 : map.height >> 1;
    }
    const dx = tx - this.x;
    const dy = ty - this.y;
    const horizontal = dy === 0 || (dx !== 0 && random.next() < Math.abs(dx) / (Math.abs(dx) + Math.abs(dy)));
    const action = horizontal ? (dx < 0 ? 1 : 2) : dy < 0 ? 3 : 0;
    const nx = this.x + DX[action];
    const ny = this.y + DY[action];
    const inside = nx >= 0 && ny >= 0 && nx < map.width && ny < map.height;
    if (!inside || !blocked(map, nx, ny) || !random.chance(this.skill)) return action;
    // A skilled agent steps around the tree or wall in its way.
    return horizontal ? (random.chance(0.5) ? 0 : 3) : random.chance(0.5) ? 1 : 2;
  }

  /** Close to a gym that blocks the way, and too weak for it: a trained agent grinds first. */
  private needsLevels(): boolean {
    const gate = GATES[this.badges];
    if (gate === undefined || gate.chainIndex - this.chainIndex > 2 || gate.chainIndex < this.chainIndex)
      return false;
    return Math.max(...this.levels) < gate.level + 1;
  }

  private move(random: Random, map: WorldMap, dx: number, dy: number): void {
    if (dx === 0 && dy === 0) return;
    const nx = this.x + dx;
    const ny = this.y + dy;
    if (nx >= 0 && ny >= 0 && nx < map.width && ny < map.height) {
      if (!blocked(map, nx, ny)) {
        this.x = nx;
        this.y = ny;
      }
      return;
    }
    if (this.side) {
      if (dy > 0) this.leaveSide();
      return;
    }
    const direction: Direction = dy < 0 ? 'N' : dy > 0 ? 'S' : dx < 0 ? 'W' : 'E';
    const chain = CHAIN[this.chainIndex];
    if (
      direction === chain.exit &&
      this.badges >= chain.badgesToLeave &&
      this.chainIndex < CHAIN.length - 1
    ) {
      this.enterChain(this.chainIndex + 1, chain.exit, false);
    } else if (
      this.chainIndex > 0 &&
      direction === opposite(CHAIN[this.chainIndex - 1].exit) &&
      random.chance(0.5)
    ) {
      this.enterChain(this.chainIndex - 1, CHAIN[this.chainIndex - 1].exit, true);
    }
  }

  /** Walks into chain map `index`, through the edge facing `exit` (or back through it). */
  private enterChain(index: number, exit: Direction, back: boolean): void {
    const from = this.map;
    this.chainIndex = index;
    const to = this.map;
    const side = back ? exit : opposite(exit);
    if (side === 'N' || side === 'S') {
      this.x = clamp(Math.round((this.x / from.width) * to.width), 0, to.width - 1);
      this.y = side === 'N' ? 0 : to.height - 1;
    } else {
      this.y = clamp(Math.round((this.y / from.height) * to.height), 0, to.height - 1);
      this.x = side === 'W' ? 0 : to.width - 1;
    }
    if (index > this.maxChain) {
      this.maxChain = index;
      this.eventFlags++;
    }
  }

  private enterSide(random: Random): void {
    const sides = CHAIN[this.chainIndex].sides;
    const wanted = sides.find((s) => (s.heals && this.hp < this.maxHp * 0.5) || s.badge === this.badges + 1);
    const side = wanted && random.chance(this.skill) ? wanted : random.pick(sides);
    this.returnX = this.x;
    this.returnY = this.y;
    this.side = side;
    this.x = side.width >> 1;
    this.y = side.height - 1;
  }

  private leaveSide(): void {
    this.side = undefined;
    this.x = this.returnX;
    this.y = this.returnY;
  }

  private battle(random: Random, enemyLevel: number): void {
    const lead = this.levels[0];
    const damage = Math.round(
      this.maxHp * random.uniform(0.05, 0.3) * (Math.max(2, enemyLevel) / lead) * (1.3 - this.skill),
    );
    this.hp -= Math.max(1, damage);
    if (this.hp <= 0) return this.die();
    if (!random.chance(sigmoid((lead - enemyLevel) / 3 + 2 * this.skill))) return;
    const member = random.chance(0.7) ? 0 : random.int(this.partySize);
    if (
      this.levels[member] < 60 &&
      random.chance(clamp((enemyLevel + 2) / this.levels[member] / 2, 0.05, 0.8))
    ) {
      this.levels[member]++;
      this.levelsSum++;
      if (member === 0) this.maxHp = 10 + 2 * this.levels[0];
    }
    if (this.partySize < 6 && random.chance(0.04 + 0.1 * this.skill)) {
      this.levels[this.partySize] = Math.max(2, enemyLevel);
      this.levelsSum += this.levels[this.partySize];
      this.species[this.partySize] = random.pick(WILD_SPECIES);
      this.partySize++;
      if (this.partySize < 6) this.species[this.partySize] = 255;
    }
  }

  private gymBattle(random: Random, gym: WorldMap): void {
    const best = Math.max(...this.levels);
    if (random.chance(sigmoid((best - gym.level) / 2 + 2 * (this.skill - 0.5)))) {
      this.badges++;
      this.eventFlags += 2;
    } else {
      this.die();
    }
  }

  private die(): void {
    this.deaths++;
    this.hp = this.maxHp;
    this.side = undefined;
    this.chainIndex = this.centerChain;
    this.x = this.map.width >> 1;
    this.y = this.map.height >> 1;
  }

  private updateRewards(): void {
    this.event = this.eventFlags * 0.4;
    this.level = (this.levelsSum - 6) * 0.2;
    this.heal = this.healed * 0.05;
    this.badge = this.badges * 5.0;
    this.explore = this.coords * 0.0125;
    this.dead = -0.5 * this.deaths;
    this.stuck = -0.05 * this.stuckSteps;
    const total = this.event + this.level + this.heal + this.badge + this.explore + this.dead + this.stuck;
    this.stepReward = total - this.total;
    this.total = total;
  }
}

/** For each badge count, the gym that blocks the way next: where its town is and its level. */
const GATES = CHAIN.flatMap((step, chainIndex) =>
  step.sides
    .filter((side) => side.badge !== undefined)
    .map((gym) => ({ chainIndex, level: gym.level, badge: gym.badge! })),
).sort((a, b) => a.badge - b.badge);

function opposite(direction: Direction): Direction {
  return direction === 'N' ? 'S' : direction === 'S' ? 'N' : direction === 'E' ? 'W' : 'E';
}
