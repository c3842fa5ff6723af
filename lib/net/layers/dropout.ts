// dropout.ts — the Dropout layer: inverted dropout in TRAIN (scaled mask, fresh seed every forward), identity in TEST.
import { dropoutBackward, dropoutForward } from '../../ops/activation.js';
import { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';
import { Random } from '../random.js';

/**
 * Dropout with ratio p (dropout_ratio, default 0.5). TRAIN: mask = Bernoulli(1 - p) / (1 - p),
 * y = x * mask, dx = dy * mask. TEST: y = x, dx = dy. Works in place. Each layer has its own
 * generator, seeded from the net's, that gives the native op a new seed at every forward.
 */
export class DropoutLayer extends Layer {
  static readonly type = 'Dropout';
  private mask: Blob | undefined;
  private seeds!: Random;

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, exactTops: 1 };
  }

  private get ratio(): number {
    return this.param.dropout_param?.dropout_ratio ?? 0.5;
  }

  protected override layerSetUp(): void {
    if (!(this.ratio >= 0 && this.ratio < 1))
      throw this.fail('INVALID_LAYER', `dropout_ratio must be in [0, 1) but is ${this.ratio}`);
    this.seeds = new Random(this.random.nextSeed());
  }

  /** Restarts the seed sequence (gradient checks redraw the same mask before each forward). */
  reseed(seed: number): void {
    this.seeds.reseed(seed);
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    if (tops[0] !== bottoms[0]) tops[0].reshape(bottoms[0].shape);
    if (this.phase === 'TRAIN') {
      this.mask ??= new Blob(`${this.name}/mask`, this.device);
      this.mask.reshape(bottoms[0].shape);
    }
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    if (this.phase === 'TRAIN') {
      dropoutForward(bottoms[0].data, tops[0].data, this.mask!.data, { ratio: this.ratio, seed: this.seeds.nextSeed() });
    } else if (tops[0] !== bottoms[0]) {
      tops[0].data.copyFrom(bottoms[0].data);
    }
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    if (!propagateDown[0]) return;
    if (this.phase === 'TRAIN') dropoutBackward(this.mask!.data, tops[0].diff, bottoms[0].diff);
    else if (tops[0] !== bottoms[0]) bottoms[0].diff.copyFrom(tops[0].diff);
  }

  override dispose(): void {
    this.mask?.dispose();
  }
}
