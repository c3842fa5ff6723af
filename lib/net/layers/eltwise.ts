// eltwise.ts — the Eltwise layer: element-wise SUM (with coefficients), PROD or MAX of its bottoms.
import { axpby, axpy, maxAccumulate, maxSelectBackward, multiply } from '../../ops/elementwise.js';
import { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/**
 * Eltwise over bottoms of one shape:
 * SUM: y = sum_i coeff_i x_i (coeff defaults to 1), dx_i = coeff_i dy;
 * PROD: y = prod_i x_i, dx_i = dy * prod_{j != i} x_j;
 * MAX: y = max_i x_i (the first maximum wins), dx_i = dy where bottom i won, else 0.
 */
export class EltwiseLayer extends Layer {
  static readonly type = 'Eltwise';
  private coefficients: number[] = [];
  private winners: Blob | undefined;

  override get blobCounts(): BlobCounts {
    return { minBottoms: 2, exactTops: 1 };
  }

  private get operation(): 'SUM' | 'PROD' | 'MAX' {
    return this.param.eltwise_param?.operation ?? 'SUM';
  }

  protected override layerSetUp(bottoms: Blob[], tops: Blob[]): void {
    const coefficients = this.param.eltwise_param?.coeff ?? [];
    if (coefficients.length > 0 && this.operation !== 'SUM')
      throw this.fail('INVALID_LAYER', 'coeff is only for the SUM operation');
    if (coefficients.length > 0 && coefficients.length !== bottoms.length)
      throw this.fail('INVALID_LAYER', `coeff needs one value per bottom (${bottoms.length}), not ${coefficients.length}`);
    this.coefficients = bottoms.map((_, i) => coefficients[i] ?? 1);
    if (bottoms.includes(tops[0])) throw this.fail('INVALID_LAYER', 'Eltwise cannot run in place; give the top its own name');
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    for (const bottom of bottoms) this.requireShape('bottom', bottom, bottoms[0].shape);
    tops[0].reshape(bottoms[0].shape);
    if (this.operation === 'MAX') {
      this.winners ??= new Blob(`${this.name}/mask`, this.device);
      this.winners.reshape(bottoms[0].shape);
    }
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    const y = tops[0].data;
    if (this.operation === 'SUM') {
      axpby(this.coefficients[0], bottoms[0].data, 0, y);
      for (let i = 1; i < bottoms.length; i++) axpy(this.coefficients[i], bottoms[i].data, y);
    } else if (this.operation === 'PROD') {
      multiply(bottoms[0].data, bottoms[1].data, y);
      for (let i = 2; i < bottoms.length; i++) multiply(y, bottoms[i].data, y);
    } else {
      bottoms.forEach((bottom, i) => maxAccumulate(i, bottom.data, y, this.winners!.data));
    }
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    const dy = tops[0].diff;
    bottoms.forEach((bottom, i) => {
      if (!propagateDown[i]) return;
      const dx = bottom.diff;
      if (this.operation === 'SUM') axpby(this.coefficients[i], dy, 0, dx);
      else if (this.operation === 'MAX') maxSelectBackward(i, this.winners!.data, dy, dx);
      else this.productGradient(bottoms, i, dy, dx);
    });
  }

  /** dx_i = dy * prod_{j != i} x_j (Caffe's stable_prod_grad: no division by x_i). */
  private productGradient(bottoms: Blob[], index: number, dy: Blob['data'], dx: Blob['data']): void {
    let first = true;
    bottoms.forEach((bottom, j) => {
      if (j === index) return;
      multiply(first ? dy : dx, bottom.data, dx);
      first = false;
    });
  }

  override dispose(): void {
    this.winners?.dispose();
  }
}
