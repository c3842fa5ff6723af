// Encoded (PNG) and raw datasets of the same images serve identical batches: greyscale (MNIST) and colour.
import path from 'node:path';
import t from 'tap';
import { createDataset } from '../../lib/data/create.js';
import { createMnistDataset } from '../../lib/data/mnist.js';
import { LmdbBatchSource, type LmdbBatchSourceOptions } from '../../lib/data/source.js';
import { makeClassFolder, tempFolder } from './helpers.js';

/** The first `count` batches of a split, copied out (the source may reuse its memory). */
async function readBatches(options: LmdbBatchSourceOptions, count: number): Promise<{ shape: number[]; data: Float32Array[]; labels: number[][] }> {
  const source = await LmdbBatchSource.open(options);
  const data: Float32Array[] = [];
  const labels: number[][] = [];
  try {
    for (let i = 0; i < count; i++) {
      const batch = await source.next();
      data.push(batch.data.slice());
      labels.push(Array.from(batch.labels));
    }
  } finally {
    await source.close();
  }
  return { shape: [...source.batchShape], data, labels };
}

const identical = (a: Float32Array[], b: Float32Array[]): boolean => a.length === b.length && a.every((batch, i) => batch.length === b[i]!.length && batch.every((value, j) => value === b[i]![j]));

t.test('MNIST: a PNG-encoded dataset reads back as 1 x 28 x 28, equal to the raw one', async (t) => {
  const root = tempFolder(t);
  await createMnistDataset(path.join(root, 'raw'), { encoding: 'none' });
  await createMnistDataset(path.join(root, 'png'), { encoding: 'png' });
  const options = (dataset: string): LmdbBatchSourceOptions => ({
    source: path.join(root, dataset, 'train_db'), batchSize: 64, phase: 'TRAIN', shuffle: true, seed: 3, workers: 2,
    transform: { scale: 1 / 256, meanFile: path.join(root, dataset, 'mean.binaryproto') },
  });
  const raw = await readBatches(options('raw'), 4);
  const png = await readBatches(options('png'), 4);
  t.same(png.shape, [64, 1, 28, 28]);
  t.same(raw.shape, png.shape);
  t.same(png.labels, raw.labels);
  t.ok(identical(png.data, raw.data), 'PNG batches equal the raw batches value for value');
  t.ok(raw.data[0]!.some((value) => value > 0.5), 'the digits are there');
});

t.test('colour: PNG-encoded and raw datasets give the same crops, mirrors and mean subtraction', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { red: 6, green: 6, blue: 6 }, 'jpg');
  for (const encoding of ['none', 'png'] as const) {
    await createDataset({ folder: path.join(root, 'images'), dest: path.join(root, encoding), width: 20, height: 14, encoding, valPercent: 0, seed: 9 });
  }
  const options = (dataset: string, workers: number): LmdbBatchSourceOptions => ({
    source: path.join(root, dataset, 'train_db'), batchSize: 5, phase: 'TRAIN', shuffle: true, seed: 11, workers,
    transform: { cropSize: 12, mirror: true, meanFile: path.join(root, dataset, 'mean.binaryproto') },
  });
  const raw = await readBatches(options('none', 1), 6);
  const png = await readBatches(options('png', 2), 6);
  t.same(png.shape, [5, 3, 12, 12]);
  t.same(png.labels, raw.labels);
  t.ok(identical(png.data, raw.data), 'PNG batches equal the raw batches value for value');
});
