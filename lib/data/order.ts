// The order records are read in: epoch after epoch, each epoch in key order or a seeded permutation.
import { createRandom, mixSeed, shuffleInPlace } from './random.js';

/**
 * Maps a running sample position (0, 1, 2, ... across epochs) to a record index.
 * Like Caffe's Data layer, a batch may span the end of one epoch and the start of the next.
 * Permutation e depends only on (seed, e), so any batch can be planned independently.
 */
export class EpochOrder {
  private cache = new Map<number, Uint32Array>();

  constructor(readonly count: number, private readonly shuffle: boolean, private readonly seed: number) {}

  private permutation(epoch: number): Uint32Array {
    let order = this.cache.get(epoch);
    if (order === undefined) {
      const indices = Array.from({ length: this.count }, (_, index) => index);
      order = Uint32Array.from(shuffleInPlace(indices, createRandom(mixSeed(this.seed, 0x0e90c4, epoch))));
      this.cache.set(epoch, order);
      // Batches are planned in increasing order; two epochs cover any batch that spans a boundary.
      for (const old of this.cache.keys()) if (old < epoch - 1) this.cache.delete(old);
    }
    return order;
  }

  /** Record index at running position `position`. */
  at(position: number): number {
    const epoch = Math.floor(position / this.count);
    const offset = position - epoch * this.count;
    return this.shuffle ? this.permutation(epoch)[offset]! : offset;
  }
}
