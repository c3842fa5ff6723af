// ArrayBatchSource: batches from images already in memory (MNIST), in order or reshuffled every epoch.
import type { BatchSource } from './batch-source.js';
import { DatasetError } from './errors.js';
import { EpochOrder } from './order.js';

export interface ArrayBatchSourceOptions {
  /** count x C x H x W values. */
  images: Float32Array;
  labels: ArrayLike<number>;
  /** [C, H, W] of one image. */
  shape: [number, number, number];
  batchSize: number;
  /** Which images to use (e.g. mnistSplit().train); all by default. */
  indices?: ArrayLike<number>;
  shuffle?: boolean;
  seed?: number;
  /** Multiplies every value (Caffe's transform_param.scale). */
  scale?: number;
}

export class ArrayBatchSource implements BatchSource {
  readonly batchShape: [number, number, number, number];
  private readonly indices: ArrayLike<number>;
  private readonly order: EpochOrder;
  private readonly imageSize: number;
  private batchIndex = 0;
  private closed = false;

  constructor(private readonly options: ArrayBatchSourceOptions) {
    const [channels, height, width] = options.shape;
    this.imageSize = channels * height * width;
    const count = options.images.length / this.imageSize;
    if (!Number.isInteger(count) || count !== options.labels.length) {
      throw new DatasetError('INVALID_OPTION', `Expected ${options.labels.length} images of ${channels}x${height}x${width} but received ${options.images.length} values`);
    }
    if (!Number.isInteger(options.batchSize) || options.batchSize <= 0) {
      throw new DatasetError('INVALID_OPTION', `Expected a positive integer for batchSize but received ${options.batchSize}`);
    }
    this.indices = options.indices ?? Uint32Array.from({ length: count }, (_, index) => index);
    if (this.indices.length === 0) throw new DatasetError('NO_IMAGES', 'ArrayBatchSource has no images to serve');
    this.order = new EpochOrder(this.indices.length, options.shuffle ?? false, options.seed ?? 0);
    this.batchShape = [options.batchSize, channels, height, width];
  }

  async next(): Promise<{ data: Float32Array; labels: Float32Array }> {
    if (this.closed) throw new DatasetError('SOURCE_CLOSED', 'Batch source is closed');
    const { batchSize, images, labels } = this.options;
    const scale = this.options.scale ?? 1;
    const data = new Float32Array(batchSize * this.imageSize);
    const batchLabels = new Float32Array(batchSize);
    const start = this.batchIndex++ * batchSize;
    for (let i = 0; i < batchSize; i++) {
      const image = this.indices[this.order.at(start + i)]!;
      const source = images.subarray(image * this.imageSize, (image + 1) * this.imageSize);
      if (scale === 1) data.set(source, i * this.imageSize);
      else for (let j = 0; j < this.imageSize; j++) data[i * this.imageSize + j] = source[j]! * scale;
      batchLabels[i] = labels[image]!;
    }
    return { data, labels: batchLabels };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
