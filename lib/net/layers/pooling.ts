// pooling.ts — the Pooling layer: MAX (with the argmax mask kept for backward) and AVE, Caffe's rounding, global pooling.
import type { PoolingParameter } from '../../caffe/index.js';
import { poolBackward, poolForward, poolOutputSize, type PoolOptions } from '../../ops/pool.js';
import { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/**
 * Pooling per channel plane: x [N, C, H, W] → y [N, C, outH, outW] with
 * outH = ceil((H + 2*pad - kernel) / stride) + 1 (one less when padded and the last window would
 * start past H + pad). global_pooling takes the whole plane. MAX keeps the argmax in a mask
 * (also written to a second top when one is given) for backward.
 */
export class PoolingLayer extends Layer {
  static readonly type = 'Pooling';
  private method: 'MAX' | 'AVE' = 'MAX';
  private kernel: [number, number] = [1, 1];
  private stride: [number, number] = [1, 1];
  private pad: [number, number] = [0, 0];
  /** The argmax of each MAX window: the second top when given, else the layer's own blob. */
  private mask: Blob | undefined;
  private ownMask: Blob | undefined;

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, minTops: 1, maxTops: 2 };
  }

  protected override layerSetUp(bottoms: Blob[], tops: Blob[]): void {
    const param = this.param.pooling_param;
    if (!param) throw this.fail('INVALID_LAYER', 'pooling_param is missing');
    if (param.pool === 'STOCHASTIC') throw this.fail('INVALID_LAYER', 'STOCHASTIC pooling is not supported (use MAX or AVE)');
    if (param.round_mode === 'FLOOR') throw this.fail('INVALID_LAYER', 'round_mode FLOOR is not supported (Caffe 1.0 rounds up: CEIL)');
    this.method = param.pool;
    if (tops.length === 2 && this.method !== 'MAX') throw this.fail('BLOB_COUNT', 'only MAX pooling has a second (mask) top');
    this.pad = this.pairOf(param.pad, param.pad_h, param.pad_w, 'pad');
    this.stride = this.pairOf(param.stride, param.stride_h, param.stride_w, 'stride');
    if (param.global_pooling) this.setUpGlobal(param, bottoms[0]);
    else this.kernel = this.kernelOf(param);
    if (this.pad[0] >= this.kernel[0] || this.pad[1] >= this.kernel[1])
      throw this.fail('INVALID_LAYER', `pad ${this.pad.join('x')} must be smaller than the kernel ${this.kernel.join('x')}`);
  }

  private setUpGlobal(param: PoolingParameter, bottom: Blob): void {
    if (param.kernel_size !== undefined || param.kernel_h !== undefined || param.kernel_w !== undefined)
      throw this.fail('INVALID_LAYER', 'global_pooling takes the whole plane; give no kernel size');
    if (this.pad.some((p) => p !== 0) || this.stride.some((s) => s !== 1))
      throw this.fail('INVALID_LAYER', 'global_pooling needs pad 0 and stride 1');
    this.requireImage(bottom);
    this.kernel = [bottom.shape[2], bottom.shape[3]];
  }

  private kernelOf(param: PoolingParameter): [number, number] {
    if (param.kernel_size !== undefined) {
      if (param.kernel_h !== undefined || param.kernel_w !== undefined)
        throw this.fail('INVALID_LAYER', 'give either kernel_size or kernel_h/kernel_w, not both');
      return [param.kernel_size, param.kernel_size];
    }
    if (param.kernel_h === undefined || param.kernel_w === undefined)
      throw this.fail('INVALID_LAYER', 'pooling_param needs kernel_size (or kernel_h and kernel_w) unless global_pooling');
    return [param.kernel_h, param.kernel_w];
  }

  private pairOf(both: number, h: number | undefined, w: number | undefined, name: string): [number, number] {
    if (h === undefined && w === undefined) return [both, both];
    if (h === undefined || w === undefined) throw this.fail('INVALID_LAYER', `give both ${name}_h and ${name}_w`);
    return [h, w];
  }

  private requireImage(bottom: Blob): void {
    if (bottom.shape.length !== 4)
      throw this.fail('SHAPE_MISMATCH', `bottom '${bottom.name}' must be 4-D [N, C, H, W] but is ${bottom.shape.join('x')}`);
  }

  private get options(): PoolOptions {
    return { method: this.method, kernel: this.kernel, stride: this.stride, pad: this.pad };
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const bottom = bottoms[0];
    this.requireImage(bottom);
    if (this.param.pooling_param?.global_pooling) this.kernel = [bottom.shape[2], bottom.shape[3]];
    const [N, C, H, W] = bottom.shape;
    if (this.kernel[0] > H + 2 * this.pad[0] || this.kernel[1] > W + 2 * this.pad[1])
      throw this.fail('SHAPE_MISMATCH',
        `kernel ${this.kernel.join('x')} is larger than the padded input ${H + 2 * this.pad[0]}x${W + 2 * this.pad[1]} ` +
        `(bottom '${bottom.name}' is ${bottom.shape.join('x')})`);
    const shape = [N, C, poolOutputSize(H, this.kernel[0], this.pad[0], this.stride[0]),
      poolOutputSize(W, this.kernel[1], this.pad[1], this.stride[1])];
    tops[0].reshape(shape);
    if (this.method === 'MAX') {
      this.mask = tops[1] ?? (this.ownMask ??= new Blob(`${this.name}/mask`, this.device));
      this.mask.reshape(shape);
    }
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    poolForward(bottoms[0].data, tops[0].data, this.mask?.data ?? null, this.options);
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    if (!propagateDown[0]) return;
    poolBackward(bottoms[0].data, tops[0].diff, this.mask?.data ?? null, bottoms[0].diff, this.options);
  }

  override dispose(): void {
    this.ownMask?.dispose();
  }
}
