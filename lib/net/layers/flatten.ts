// flatten.ts — the Flatten layer: a view of the bottom with axes [axis, end_axis] merged into one (no copy).
import type { Blob } from '../blob.js';
import { Layer, canonicalAxis, countOf, type BlobCounts } from '../layer.js';

/**
 * Flatten: top shape = shape[0..axis) + [product of shape[axis..end_axis]] + shape(end_axis..];
 * axis defaults to 1, end_axis to -1 (the last). The top shares the bottom's data and diff.
 */
export class FlattenLayer extends Layer {
  static readonly type = 'Flatten';

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 1, exactTops: 1 };
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const bottom = bottoms[0];
    if (tops[0] === bottom) throw this.fail('INVALID_LAYER', 'Flatten cannot run in place; give the top its own name');
    const shape = bottom.shape;
    const param = this.param.flatten_param;
    const start = canonicalAxis(param?.axis ?? 1, shape.length, 'flatten_param.axis');
    const end = canonicalAxis(param?.end_axis ?? -1, shape.length, 'flatten_param.end_axis');
    if (end < start) throw this.fail('INVALID_LAYER', `end_axis ${end} comes before axis ${start}`);
    tops[0].reshape([...shape.slice(0, start), countOf(shape, start, end + 1), ...shape.slice(end + 1)]);
    tops[0].shareData(bottom);
    tops[0].shareDiff(bottom);
  }

  override forward(): void {}

  override backward(): void {}
}
