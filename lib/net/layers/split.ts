// split.ts — the Split layer (inserted by the net where a blob feeds several layers): tops share the data, backward sums the diffs.
import { axpby, axpy } from '../../ops/elementwise.js';
import type { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/**
 * Split: every top views the bottom's data (no copy); each top has its own diff, and backward
 * sets the bottom diff to their sum, so every consumer's gradient reaches the producer.
 */
export class SplitLayer extends Layer {
  static readonly type = 'Split';

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, minTops: 1 };
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    for (const top of tops) {
      if (top === bottoms[0]) throw this.fail('INVALID_LAYER', `top '${top.name}' must not be the bottom (Split cannot run in place)`);
      top.reshape(bottoms[0].shape);
      top.shareData(bottoms[0]);
    }
  }

  override forward(): void {}

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    if (!propagateDown[0]) return;
    const sum = bottoms[0].diff;
    axpby(1, tops[0].diff, 0, sum);
    for (let i = 1; i < tops.length; i++) axpy(1, tops[i].diff, sum);
  }
}
