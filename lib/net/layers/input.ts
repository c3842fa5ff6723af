// input.ts — the Input layer: tops of fixed shapes whose data the caller writes (Caffe's net inputs).
import type { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/** Input: no bottoms; each top gets input_param.shape[i] (or the single shape for every top). */
export class InputLayer extends Layer {
  static readonly type = 'Input';
  private shapes: number[][] = [];

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 0, minTops: 1 };
  }

  override get hasBackward(): boolean {
    return false;
  }

  protected override layerSetUp(_bottoms: Blob[], tops: Blob[]): void {
    const shapes = this.param.input_param?.shape ?? [];
    if (shapes.length !== 1 && shapes.length !== tops.length)
      throw this.fail('INVALID_LAYER',
        `input_param needs one shape or one per top (${tops.length}), but gives ${shapes.length}`);
    this.shapes = tops.map((_, i) => [...(shapes.length === 1 ? shapes[0] : shapes[i]).dim]);
    for (const shape of this.shapes)
      if (shape.some((d) => !Number.isInteger(d) || d < 1))
        throw this.fail('INVALID_LAYER', `input_param shape [${shape.join(', ')}] must be positive integers`);
  }

  override reshape(_bottoms: Blob[], tops: Blob[]): void {
    tops.forEach((top, i) => top.reshape(this.shapes[i]));
  }

  override forward(): void {}

  /** Sets the first axis of every top (the batch size); the net reshapes afterwards. */
  setBatchSize(batchSize: number): void {
    for (const shape of this.shapes) if (shape.length > 0) shape[0] = batchSize;
  }
}
