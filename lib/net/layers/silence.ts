// silence.ts — the Silence layer: consumes blobs so they are not net outputs; backward writes zero diffs.
import type { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/** Silence: no tops; forward does nothing; backward sets the bottoms' diffs to 0. */
export class SilenceLayer extends Layer {
  static readonly type = 'Silence';

  override get blobCounts(): BlobCounts {
    return { minBottoms: 1, exactTops: 0 };
  }

  override reshape(): void {}

  override forward(): void {}

  override backward(_tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    bottoms.forEach((bottom, i) => {
      if (propagateDown[i]) bottom.diff.fill(0);
    });
  }
}
