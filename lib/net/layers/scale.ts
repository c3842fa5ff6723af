// scale.ts — the Scale layer: y = x * scale + bias, with scale and bias per channel (learned, or the scale from a second bottom).
import { channelAffineBackward, channelAffineForward } from '../../ops/elementwise.js';
import { Blob } from '../blob.js';
import { Layer, canonicalAxis, type BlobCounts } from '../layer.js';

/**
 * Scale: the scale's shape is x.shape[axis .. axis+num_axes) (axis 1, num_axes 1: one value per
 * channel; num_axes -1: every axis from `axis`). y[o, c, i] = x[o, c, i] * scale[c] (+ bias[c]).
 * One bottom: the scale is learned (blob 0, filler default constant 1); two bottoms: the scale is
 * bottom 1. With bias_term the bias is the next blob (filler default constant 0).
 * Backward: dx = dy * scale; dscale = sum dy * x; dbias = sum dy. In place, the input is kept.
 */
export class ScaleLayer extends Layer {
  static readonly type = 'Scale';
  private axis = 1;
  private scaleAxes = 1;
  /** A copy of the input when the layer runs in place (backward needs x). */
  private savedInput: Blob | undefined;
  /** dy copied before dx overwrites it, in place. */
  private savedDiff: Blob | undefined;

  override get blobCounts(): BlobCounts {
    return { minBottoms: 1, maxBottoms: 2, exactTops: 1 };
  }

  protected override layerSetUp(bottoms: Blob[]): void {
    const param = this.param.scale_param;
    const shape = bottoms[0].shape;
    this.axis = canonicalAxis(param?.axis ?? 1, shape.length, 'scale_param.axis');
    const numAxes = param?.num_axes ?? 1;
    if (numAxes < -1) throw this.fail('INVALID_LAYER', `num_axes must be -1 or more, not ${numAxes}`);
    // A scale given as a second bottom covers as many axes as it has; num_axes is for the learned one.
    this.scaleAxes = bottoms.length === 2 ? bottoms[1].shape.length : numAxes === -1 ? shape.length - this.axis : numAxes;
    if (this.axis + this.scaleAxes > shape.length)
      throw this.fail('SHAPE_MISMATCH', `axis ${this.axis} with num_axes ${numAxes} runs past the bottom's ${shape.length} axes`);
    const scaleShape = shape.slice(this.axis, this.axis + this.scaleAxes);
    if (bottoms.length === 1) this.createParam(0, scaleShape, param?.filler ?? { type: 'constant', value: 1 });
    if (param?.bias_term) this.createParam(this.blobs.length, scaleShape, param.bias_filler);
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const expected = bottoms[0].shape.slice(this.axis, this.axis + this.scaleAxes);
    this.requireShape('scale', this.scaleBlob(bottoms), expected);
    tops[0].reshape(bottoms[0].shape);
    if (tops[0] === bottoms[0]) {
      this.savedInput ??= new Blob(`${this.name}/input`, this.device);
      this.savedInput.reshape(bottoms[0].shape);
    }
  }

  private scaleBlob(bottoms: Blob[]): Blob {
    return bottoms.length === 2 ? bottoms[1] : this.blobs[0];
  }

  private get biasBlob(): Blob | undefined {
    return this.param.scale_param?.bias_term ? this.blobs[this.blobs.length - 1] : undefined;
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    if (this.savedInput) this.savedInput.data.copyFrom(bottoms[0].data);
    channelAffineForward(bottoms[0].data, this.scaleBlob(bottoms).data, this.biasBlob?.data ?? null, tops[0].data, this.axis);
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    const scale = this.scaleBlob(bottoms);
    const learned = bottoms.length === 1;
    const bias = this.biasBlob;
    const wantScale = learned ? this.paramPropagateDown[0] : propagateDown[1];
    if (!learned && wantScale) scale.diff.fill(0); // a bottom diff is overwritten, the op accumulates
    let dy = tops[0].diff;
    if (this.savedInput && propagateDown[0]) {
      this.savedDiff ??= new Blob(`${this.name}/diff`, this.device);
      this.savedDiff.reshape(tops[0].shape);
      dy = this.savedDiff.data.copyFrom(dy);
    }
    channelAffineBackward(this.savedInput?.data ?? bottoms[0].data, scale.data, dy, {
      dx: propagateDown[0] ? bottoms[0].diff : null,
      dscale: wantScale ? scale.diff : null,
      dbias: bias && this.paramPropagateDown[this.blobs.length - 1] ? bias.diff : null,
    }, this.axis);
  }

  override dispose(): void {
    this.savedInput?.dispose();
    this.savedDiff?.dispose();
  }
}
