// concat.ts — the Concat layer: joins its bottoms along one axis (channels by default).
import { copyBlocks } from '../../ops/elementwise.js';
import type { Blob } from '../blob.js';
import { Layer, canonicalAxis, countOf, type BlobCounts } from '../layer.js';

/**
 * Concat along `axis` (concat_param.axis, default 1; the legacy concat_dim wins when given).
 * Every bottom must match the others on every other axis. Seen as [outer, axis, inner], bottom i
 * occupies the top's axis range [offset_i, offset_i + size_i); backward copies each range back.
 */
export class ConcatLayer extends Layer {
  static readonly type = 'Concat';
  private axis = 1;

  override get blobCounts(): BlobCounts {
    return { minBottoms: 1, exactTops: 1 };
  }

  protected override layerSetUp(bottoms: Blob[]): void {
    const param = this.param.concat_param;
    this.axis = canonicalAxis(param?.concat_dim ?? param?.axis ?? 1, bottoms[0].shape.length, 'concat axis');
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const first = bottoms[0].shape;
    const shape = [...first];
    shape[this.axis] = 0;
    for (const bottom of bottoms) {
      const same = bottom.shape.length === first.length &&
        bottom.shape.every((d, i) => i === this.axis || d === first[i]);
      if (!same)
        throw this.fail('SHAPE_MISMATCH',
          `bottom '${bottom.name}' (${bottom.shape.join('x')}) must match '${bottoms[0].name}' ` +
          `(${first.join('x')}) on every axis but ${this.axis}`);
      shape[this.axis] += bottom.shape[this.axis];
    }
    tops[0].reshape(shape);
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    this.eachRange(bottoms, tops[0], (bottom, outer, block, topStride, offset) =>
      copyBlocks(outer, block, bottom.data, 0, block, tops[0].data, offset, topStride));
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    this.eachRange(bottoms, tops[0], (bottom, outer, block, topStride, offset, i) => {
      if (propagateDown[i]) copyBlocks(outer, block, tops[0].diff, offset, topStride, bottom.diff, 0, block);
    });
  }

  /** Calls `visit` with each bottom's block layout inside the top: `outer` blocks of `block` floats. */
  private eachRange(bottoms: Blob[], top: Blob,
    visit: (bottom: Blob, outer: number, block: number, topStride: number, offset: number, index: number) => void): void {
    const outer = countOf(top.shape, 0, this.axis);
    const inner = countOf(top.shape, this.axis + 1);
    const topStride = top.shape[this.axis] * inner;
    let offset = 0;
    bottoms.forEach((bottom, i) => {
      const block = bottom.shape[this.axis] * inner;
      visit(bottom, outer, block, topStride, offset, i);
      offset += block;
    });
  }
}
