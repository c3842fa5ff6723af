// softmax.ts — the Softmax layer: y = exp(x - max) / sum exp(x - max) over `axis`, at every other position.
import { softmaxBackward, softmaxForward } from '../../ops/softmax.js';
import type { Blob } from '../blob.js';
import { Layer, canonicalAxis, type BlobCounts } from '../layer.js';

/** Softmax over `axis` (default 1, the channels). Backward: dx = y * (dy - sum_c dy*y). */
export class SoftmaxLayer extends Layer {
  static readonly type = 'Softmax';
  private axis = 1;

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, exactTops: 1 };
  }

  protected override layerSetUp(bottoms: Blob[]): void {
    this.axis = canonicalAxis(this.param.softmax_param?.axis ?? 1, bottoms[0].shape.length);
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    if (tops[0] !== bottoms[0]) tops[0].reshape(bottoms[0].shape);
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    softmaxForward(bottoms[0].data, tops[0].data, { axis: this.axis });
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    if (propagateDown[0]) softmaxBackward(tops[0].data, tops[0].diff, bottoms[0].diff, { axis: this.axis });
  }
}
