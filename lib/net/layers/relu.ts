// relu.ts — the ReLU layer: y = max(x, 0) + negative_slope * min(x, 0), usually in place.
import { reluBackward, reluForward } from '../../ops/activation.js';
import type { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/**
 * ReLU, any shape. Backward: dx = dy * (x > 0 ? 1 : negative_slope). In place (top == bottom) the
 * backward reads the output instead of the input, which has the same sign pattern.
 */
export class ReLULayer extends Layer {
  static readonly type = 'ReLU';

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, exactTops: 1 };
  }

  private get negativeSlope(): number {
    return this.param.relu_param?.negative_slope ?? 0;
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    if (tops[0] !== bottoms[0]) tops[0].reshape(bottoms[0].shape);
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    reluForward(bottoms[0].data, tops[0].data, { negativeSlope: this.negativeSlope });
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    if (!propagateDown[0]) return;
    reluBackward(bottoms[0].data, tops[0].diff, bottoms[0].diff, { negativeSlope: this.negativeSlope });
  }
}
