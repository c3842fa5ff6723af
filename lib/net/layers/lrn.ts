// lrn.ts — the LRN layer: local response normalization across channels or within each channel plane.
import { lrnBackward, lrnForward, type LrnOptions } from '../../ops/lrn.js';
import { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/**
 * LRN, x [N, C, H, W] → y of the same shape, y = x * scale^-beta with
 * ACROSS_CHANNELS: scale = k + alpha/n * sum over n neighbouring channels of x^2;
 * WITHIN_CHANNEL: scale = 1 + alpha/n^2 * sum over the n x n neighbourhood of x^2 (k ignored, as Caffe).
 * The scale is kept for backward. Not in place.
 */
export class LRNLayer extends Layer {
  static readonly type = 'LRN';
  private scale: Blob | undefined;
  private options: LrnOptions = {};

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, exactTops: 1 };
  }

  protected override layerSetUp(bottoms: Blob[], tops: Blob[]): void {
    const param = this.param.lrn_param;
    const localSize = param?.local_size ?? 5;
    if (localSize % 2 !== 1) throw this.fail('INVALID_LAYER', `local_size must be odd but is ${localSize}`);
    if (tops[0] === bottoms[0]) throw this.fail('INVALID_LAYER', 'LRN cannot run in place; give the top its own name');
    this.options = {
      localSize, alpha: param?.alpha ?? 1, beta: param?.beta ?? 0.75, k: param?.k ?? 1,
      region: param?.norm_region ?? 'ACROSS_CHANNELS',
    };
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const shape = bottoms[0].shape;
    if (shape.length !== 4)
      throw this.fail('SHAPE_MISMATCH', `bottom '${bottoms[0].name}' must be 4-D [N, C, H, W] but is ${shape.join('x')}`);
    tops[0].reshape(shape);
    this.scale ??= new Blob(`${this.name}/scale`, this.device);
    this.scale.reshape(shape);
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    lrnForward(bottoms[0].data, tops[0].data, this.scale!.data, this.options);
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    if (!propagateDown[0]) return;
    lrnBackward(bottoms[0].data, tops[0].data, this.scale!.data, tops[0].diff, bottoms[0].diff, this.options);
  }

  override dispose(): void {
    this.scale?.dispose();
  }
}
