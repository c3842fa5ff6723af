// train-data.ts — what `cudnet train` trains on: the MNIST digits of the mnist package, or a dataset folder made by `cudnet dataset create`.
import { join, resolve } from 'node:path';
import type { NetParameter } from '../caffe/index.js';
import {
  ArrayBatchSource, LmdbBatchSource, loadMnistDigits, mnistSplit, readDatasetManifest, transformFromCaffe, type BatchSource,
} from '../data/index.js';
import { CudnetError } from '../errors.js';
import { dataLayerOf } from '../models/index.js';

/** What a training run needs to know about its data. */
export interface TrainingData {
  /** Where the data comes from, for the summary line. */
  description: string;
  labels: string[];
  /** [C, H, W] of one stored image (before any crop). */
  imageShape: [number, number, number];
  trainCount: number;
  valCount: number;
  /** The mean image of a dataset folder (for nets whose Data layers subtract one). */
  meanFile?: string;
  /** How the stored images were resized (squash, crop, fill, half_crop). */
  resizeMode?: string;
  /** Opens the batch sources once the net's Data layers (their transform_param) are known. */
  open(network: NetParameter, batchSize: number, valBatchSize: number, seed: number): Promise<{ train: BatchSource; val: BatchSource }>;
}

/**
 * MNIST from the `mnist` package: 10,000 digits as 0..1 floats; per class the last 20% in the
 * package's order are held out for validation. Caffe's LeNet scales 0..255 bytes by 1/256, so the
 * digits are fed as value*255 and the Data layer's transform_param scale (1/256) is applied to them:
 * the net sees value*255/256, exactly what it would read from an MNIST LMDB.
 */
export function mnistData(): TrainingData {
  const digits = loadMnistDigits();
  const split = mnistSplit();
  const bytes = digits.images.map((value) => value * 255);
  const sourceFor = (indices: number[], batchSize: number, scale: number, shuffle: boolean, seed: number) =>
    new ArrayBatchSource({ images: bytes, labels: digits.labels, shape: [1, 28, 28], batchSize, indices, shuffle, seed, scale });
  return {
    description: `MNIST digits of the mnist package (${split.train.length} training, ${split.val.length} validation)`,
    labels: Array.from({ length: 10 }, (_, digit) => String(digit)),
    imageShape: [1, 28, 28],
    trainCount: split.train.length,
    valCount: split.val.length,
    async open(network, batchSize, valBatchSize, seed) {
      const trainScale = dataLayerOf(network, 'TRAIN')?.transform_param?.scale ?? 1;
      const valScale = dataLayerOf(network, 'TEST')?.transform_param?.scale ?? trainScale;
      return {
        train: sourceFor(split.train, batchSize, trainScale, true, seed),
        val: sourceFor(split.val, valBatchSize, valScale, false, seed),
      };
    },
  };
}

/** A folder made by `cudnet dataset create`: its train and val LMDBs, labels and mean image. */
export async function datasetFolderData(folder: string): Promise<TrainingData> {
  const manifest = await readDatasetManifest(folder);
  const train = manifest.splits.train;
  const val = manifest.splits.val;
  if (!train || !val || val.count === 0)
    throw new CudnetError('INVALID_ARGUMENT', `The dataset ${folder} needs a train and a val split to train with (it has ${Object.keys(manifest.splits).join(', ')})`);
  const meanFile = resolve(folder, manifest.mean.binaryproto);
  return {
    description: `dataset ${folder} (${train.count} training, ${val.count} validation)`,
    labels: manifest.labels,
    imageShape: [manifest.image.channels, manifest.image.height, manifest.image.width],
    trainCount: train.count,
    valCount: val.count,
    meanFile,
    resizeMode: manifest.image.resizeMode,
    async open(network, batchSize, valBatchSize, seed) {
      const open = (db: string, phase: 'TRAIN' | 'TEST', size: number) => LmdbBatchSource.open({
        // A net's own mean_file (Caffe's example path) is replaced by the dataset's mean, as DIGITS does.
        source: join(folder, db), batchSize: size, phase, transform: transformFromCaffe(dataLayerOf(network, phase)?.transform_param, meanFile),
        shuffle: phase === 'TRAIN', seed, reuseBuffers: true,
      });
      return { train: await open(train.db, 'TRAIN', batchSize), val: await open(val.db, 'TEST', valBatchSize) };
    },
  };
}
