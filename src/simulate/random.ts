/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so every simulated log is reproducible:
 * same seed, same bytes. Never use Math.random in the simulator.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    let state = Math.trunc(seed) >>> 0;
    const splitmix32 = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    // Mix in the high bits of large seeds too.
    state = (state ^ Math.trunc(seed / 0x100000000)) >>> 0;
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform float in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [min, max] (both inclusive). */
  intBetween(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Standard normal deviate (Box-Muller, caching the second value). */
  normal(): number {
    const spare = this.spareNormal;
    if (spare !== undefined) {
      this.spareNormal = undefined;
      return spare;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal deviate with the given median and log-space spread. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Distinct integers from [0, n), `count` of them, in random order (partial Fisher-Yates). */
  sample(n: number, count: number, scratch?: Int32Array): number[] {
    const pool = scratch && scratch.length >= n ? scratch : new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    const k = Math.min(count, n);
    const out: number[] = new Array<number>(k);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const swap = pool[i];
      pool[i] = pool[j];
      pool[j] = swap;
      out[i] = pool[i];
    }
    return out;
  }

  /** A child generator with its own stream, derived from this one. */
  fork(): Random {
    return new Random(this.uint32() * 4096 + (this.uint32() & 4095));
  }
}

/** Clamps `value` to [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
