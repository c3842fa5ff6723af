// random.ts — Random: the engine's one seeded generator (fillers, dropout seeds), reproducible by seed.

/**
 * A small, fast pseudo-random generator (xoshiro128**, 128 bits of state seeded through SplitMix32).
 * The same seed gives the same stream on every machine, so a net built with the same seed gets
 * the same weights and the same dropout masks.
 */
export class Random {
  private state = new Uint32Array(4);
  /** A second gaussian from the last Box-Muller pair, used by the next call. */
  private spareGaussian: number | undefined;

  constructor(seed = 1) {
    this.reseed(seed);
  }

  /** Restarts the stream from `seed` (any number; its low 32 bits and the next 21 bits are mixed in). */
  reseed(seed: number): void {
    let mixer = (Math.floor(Math.abs(seed)) ^ Math.floor(Math.abs(seed) / 4294967296) * 0x9e3779b1) >>> 0;
    for (let i = 0; i < 4; i++) {
      // SplitMix32 spreads a single seed over the four state words (never all zero).
      mixer = (mixer + 0x9e3779b9) >>> 0;
      let z = mixer;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.state[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.state.every((word) => word === 0)) this.state[0] = 1;
    this.spareGaussian = undefined;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotateLeft(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotateLeft(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [low, high). */
  uniformIn(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** An integer in [0, bound). */
  integer(bound: number): number {
    return Math.floor(this.uniform() * bound);
  }

  /** N(mean, std) by the Box-Muller transform (two values per pair of uniforms). */
  gaussian(mean = 0, std = 1): number {
    if (this.spareGaussian !== undefined) {
      const value = this.spareGaussian;
      this.spareGaussian = undefined;
      return mean + std * value;
    }
    const u1 = 1 - this.uniform(); // in (0, 1], so the log is finite
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.spareGaussian = radius * Math.sin(2 * Math.PI * u2);
    return mean + std * radius * Math.cos(2 * Math.PI * u2);
  }

  /** A seed for another generator or a native op: an integer in [0, 2^53). */
  nextSeed(): number {
    return (this.nextUint32() & 0x1fffff) * 4294967296 + this.nextUint32();
  }
}

function rotateLeft(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}
