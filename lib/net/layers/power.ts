// power.ts — the Power layer: y = (shift + scale * x)^power.
import { powerBackward, powerForward, type PowerOptions } from '../../ops/elementwise.js';
import type { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/** Power: y = (shift + scale*x)^power; dx = dy * power*scale*(shift + scale*x)^(power-1). Not in place. */
export class PowerLayer extends Layer {
  static readonly type = 'Power';

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, exactTops: 1 };
  }

  private get options(): PowerOptions {
    const param = this.param.power_param;
    return { power: param?.power ?? 1, scale: param?.scale ?? 1, shift: param?.shift ?? 0 };
  }

  protected override layerSetUp(bottoms: Blob[], tops: Blob[]): void {
    if (tops[0] === bottoms[0]) throw this.fail('INVALID_LAYER', 'Power cannot run in place (backward reads the input)');
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    tops[0].reshape(bottoms[0].shape);
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    powerForward(bottoms[0].data, tops[0].data, this.options);
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    if (propagateDown[0]) powerBackward(bottoms[0].data, tops[0].diff, bottoms[0].diff, this.options);
  }
}
