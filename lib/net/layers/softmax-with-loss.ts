// softmax-with-loss.ts — the SoftmaxWithLoss layer: softmax then multinomial logistic loss, with ignore_label and normalization.
import { softmaxForward, softmaxLossBackward, softmaxLossForward, type SoftmaxLossOptions } from '../../ops/softmax.js';
import { Blob } from '../blob.js';
import { Layer, canonicalAxis, type BlobCounts } from '../layer.js';

/**
 * SoftmaxWithLoss: bottoms scores [outer, C, inner] (C at `axis` of softmax_param, default 1) and
 * labels (one per outer x inner position); top 0 is the scalar loss
 * -sum_{valid i} log(max(p[i, label_i], FLT_MIN)) / normalizer, top 1 (optional) the probabilities.
 * Normalization: loss_param.normalization, else the legacy `normalize` (true = VALID, false =
 * BATCH_SIZE), else VALID. Backward: dx = (p - onehot(label)) * loss_weight / normalizer, where the
 * loss weight is the top's diff (the net stores it there). No gradient reaches the labels.
 */
export class SoftmaxWithLossLayer extends Layer {
  static readonly type = 'SoftmaxWithLoss';
  private options: SoftmaxLossOptions = {};
  private ownProbabilities: Blob | undefined;
  private probabilities!: Blob;

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 2, minTops: 1, maxTops: 2 };
  }

  override defaultLossWeight(index: number): number {
    return index === 0 ? 1 : 0;
  }

  override allowForceBackward(index: number): boolean {
    return index !== 1;
  }

  protected override layerSetUp(bottoms: Blob[]): void {
    const loss = this.param.loss_param;
    const normalization =
      loss?.normalization ?? (loss?.normalize === undefined ? 'VALID' : loss.normalize ? 'VALID' : 'BATCH_SIZE');
    const axis = canonicalAxis(this.param.softmax_param?.axis ?? 1, bottoms[0].shape.length);
    this.options = { axis, normalization, ...(loss?.ignore_label !== undefined ? { ignoreLabel: loss.ignore_label } : {}) };
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const [scores, labels] = bottoms;
    this.requireOneLabelPerPosition(scores, labels, this.options.axis!);
    tops[0].reshape([]);
    this.probabilities = tops[1] ?? (this.ownProbabilities ??= new Blob(`${this.name}/prob`, this.device));
    this.probabilities.reshape(scores.shape);
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    const probabilities = this.probabilities.data;
    softmaxForward(bottoms[0].data, probabilities, { axis: this.options.axis });
    softmaxLossForward(probabilities, bottoms[1].data, tops[0].data, this.options);
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    if (!propagateDown[0]) return;
    softmaxLossBackward(this.probabilities.data, bottoms[1].data, tops[0].diff, bottoms[0].diff, this.options);
  }

  override dispose(): void {
    this.ownProbabilities?.dispose();
  }
}
