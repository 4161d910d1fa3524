/**
 * A small seeded pseudo-random generator (mulberry32) and the sampling helpers the demo generator needs.
 * Same seed, same sequence, on every platform: the demo data must be reproducible.
 */

/** Mixes a seed and a stream number into an independent 32-bit seed. */
export function streamSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit integer hash (lowbias32), for values that must be a fixed function of their input. */
export function hash32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return at(items, Math.floor(this.next() * items.length));
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const a = at(out, i);
      out[i] = at(out, j);
      out[j] = a;
    }
    return out;
  }
}

/** Indexed access that fails loudly instead of yielding undefined. */
export function at<T>(items: readonly T[], i: number): T {
  const v = items[i];
  if (v === undefined) throw new RangeError(`index ${i} out of range 0..${items.length - 1}`);
  return v;
}

/** A weighted choice among items, prepared once and sampled many times (binary search on the cumulative weights). */
export class Weighted<T> {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(
    readonly items: readonly T[],
    weights: readonly number[],
  ) {
    if (items.length === 0 || items.length !== weights.length) throw new Error('weighted choice needs one weight per item');
    this.cumulative = new Float64Array(items.length);
    let sum = 0;
    weights.forEach((w, i) => {
      sum += w;
      this.cumulative[i] = sum;
    });
    this.total = sum;
  }

  sample(rng: Rng): T {
    const u = rng.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] ?? 0) > u) hi = mid;
      else lo = mid + 1;
    }
    return at(this.items, lo);
  }
}

/** Weights 1, 1/2^s, 1/3^s, …: a Zipf distribution over ranks. */
export function zipfWeights(n: number, s: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
}

const MASK24 = 0xffffff;

/**
 * A bijection on [0, 2^24): distinct inputs give distinct outputs, so sequence numbers become unique
 * numbers that do not look sequential. Each step (odd multiply, xor-shift, add) is invertible mod 2^24.
 */
export function permute24(x: number, key: number): number {
  let y = x & MASK24;
  y = Math.imul(y, 0x5bd1e5 | 1) & MASK24;
  y ^= y >>> 13;
  y = (y + (key & MASK24)) & MASK24;
  y = Math.imul(y, 0x9e3779 | 1) & MASK24;
  y ^= y >>> 11;
  y = (y + ((key >>> 8) & MASK24)) & MASK24;
  y = Math.imul(y, 0x2c1b3d | 1) & MASK24;
  y ^= y >>> 12;
  return y;
}
