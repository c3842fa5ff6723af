// inner-product.ts — the InnerProduct layer (fully connected): y = x * W^T + b over the axes from `axis` on.
import { innerProductBackward, innerProductForward, type InnerProductOptions } from '../../ops/gemm.js';
import type { Blob } from '../blob.js';
import { Layer, canonicalAxis, countOf, type BlobCounts } from '../layer.js';

/**
 * InnerProduct: x is flattened from `axis` (default 1) into [M, K]; y = x * W^T + b is
 * [M, num_output] and keeps x's leading axes: shape[0..axis) + [num_output].
 * Weight (blob 0) is [num_output, K], or [K, num_output] with transpose; bias (blob 1) [num_output].
 */
export class InnerProductLayer extends Layer {
  static readonly type = 'InnerProduct';
  private axis = 1;
  private options: InnerProductOptions = {};

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, exactTops: 1 };
  }

  protected override layerSetUp(bottoms: Blob[]): void {
    const param = this.param.inner_product_param;
    if (!param) throw this.fail('INVALID_LAYER', 'inner_product_param is missing');
    if (param.num_output === undefined || param.num_output < 1)
      throw this.fail('INVALID_LAYER', 'inner_product_param.num_output must be given (a positive integer)');
    this.axis = canonicalAxis(param.axis, bottoms[0].shape.length);
    if (this.axis < 1) throw this.fail('INVALID_LAYER', 'inner_product_param.axis must leave at least one leading axis');
    this.options = { axis: this.axis, transpose: param.transpose };
    const K = countOf(bottoms[0].shape, this.axis);
    const N = param.num_output;
    this.createParam(0, param.transpose ? [K, N] : [N, K], param.weight_filler);
    if (param.bias_term) this.createParam(1, [N], param.bias_filler);
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const shape = bottoms[0].shape;
    const K = countOf(shape, this.axis);
    const weightShape = this.blobs[0].shape;
    const expectedK = this.options.transpose ? weightShape[0] : weightShape[1];
    if (K !== expectedK)
      throw this.fail('SHAPE_MISMATCH',
        `bottom '${bottoms[0].name}' (${shape.join('x')}) has ${K} inputs per row from axis ${this.axis} ` +
        `but the weights were made for ${expectedK}`);
    const N = this.options.transpose ? weightShape[1] : weightShape[0];
    tops[0].reshape([...shape.slice(0, this.axis), N]);
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    innerProductForward(bottoms[0].data, this.blobs[0].data, this.blobs[1]?.data ?? null, this.options, tops[0].data);
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    const [weight, bias] = this.blobs;
    innerProductBackward(bottoms[0].data, weight.data, tops[0].diff, {
      dx: propagateDown[0] ? bottoms[0].diff : null,
      dweight: this.paramPropagateDown[0] ? weight.diff : null,
      dbias: bias && this.paramPropagateDown[1] ? bias.diff : null,
    }, this.options);
  }
}
