// data.ts — the Data layer: batches from a BatchSource (an LMDB split, an array, ...) into its data and label tops.
import type { BatchSource } from '../../data/batch-source.js';
import type { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/**
 * Data: reads the next batch at every forward from the BatchSource given in NetOptions.sources
 * under this layer's name (or '*'). Top 0 is the data [N, C, H, W], top 1 (optional) the labels [N].
 * The source applies the transform_param (crop, mirror, mean, scale) and prefetches.
 */
export class DataLayer extends Layer {
  static readonly type = 'Data';
  private source!: BatchSource;

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 0, minTops: 1, maxTops: 2 };
  }

  override get hasBackward(): boolean {
    return false;
  }

  protected override layerSetUp(): void {
    const sources = this.context.sources ?? {};
    const source = sources[this.name] ?? sources['*'];
    if (!source) {
      const given = Object.keys(sources);
      throw this.fail('NO_BATCH_SOURCE',
        `no batch source for this Data layer: pass NetOptions.sources['${this.name}'] (or '*')` +
        (given.length ? `; sources were given for ${given.map((name) => `'${name}'`).join(', ')}` : ''));
    }
    this.source = source;
  }

  override reshape(_bottoms: Blob[], tops: Blob[]): void {
    const shape = this.source.batchShape;
    tops[0].reshape(shape);
    tops[1]?.reshape([shape[0]]);
  }

  override async forward(_bottoms: Blob[], tops: Blob[]): Promise<void> {
    const { data, labels } = await this.source.next();
    tops[0].data.write(data);
    tops[1]?.data.write(labels);
  }
}
