// accuracy.ts — the Accuracy layer: the fraction of positions whose label is within the top_k scores (no backward).
import { accuracy, type AccuracyOptions } from '../../ops/softmax.js';
import type { Blob } from '../blob.js';
import { Layer, canonicalAxis, type BlobCounts } from '../layer.js';

/**
 * Accuracy: bottoms scores [outer, C, inner] (C at accuracy_param.axis, default 1) and labels (one
 * per position); top = correct / non-ignored positions, where a position is correct when fewer
 * than top_k OTHER classes score >= the label's class (ties count against). It has no gradient.
 */
export class AccuracyLayer extends Layer {
  static readonly type = 'Accuracy';
  private options: AccuracyOptions = {};

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 2, exactTops: 1 };
  }

  override get hasBackward(): boolean {
    return false;
  }

  override allowForceBackward(): boolean {
    return false;
  }

  protected override layerSetUp(bottoms: Blob[]): void {
    const param = this.param.accuracy_param;
    const axis = canonicalAxis(param?.axis ?? 1, bottoms[0].shape.length);
    const topK = param?.top_k ?? 1;
    if (topK < 1 || topK > bottoms[0].shape[axis])
      throw this.fail('INVALID_LAYER', `top_k ${topK} must be between 1 and the ${bottoms[0].shape[axis]} classes`);
    this.options = { axis, topK, ...(param?.ignore_label !== undefined ? { ignoreLabel: param.ignore_label } : {}) };
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const [scores, labels] = bottoms;
    this.requireOneLabelPerPosition(scores, labels, this.options.axis!);
    tops[0].reshape([]);
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    accuracy(bottoms[0].data, bottoms[1].data, tops[0].data, this.options);
  }
}
