// Batch sources: Caffe's transforms (centre crop in TEST, random crop and mirror in TRAIN, mean, scale) against a plain reference.
import path from 'node:path';
import t from 'tap';
import { encodeDatum } from '../../lib/caffe/datum.js';
import { ArrayBatchSource } from '../../lib/data/array-source.js';
import { writeMeanBinaryproto } from '../../lib/data/mean.js';
import { loadMnistDigits, mnistSplit } from '../../lib/data/mnist.js';
import { createRandom } from '../../lib/data/random.js';
import { recordKey, encodeImageFile } from '../../lib/data/records.js';
import { LmdbBatchSource } from '../../lib/data/source.js';
import { RecordWriter } from '../../lib/data/store.js';
import { tempFolder } from './helpers.js';

const [C, H, W] = [3, 9, 11];
const COUNT = 7;

/** Random planar records with labels 0..COUNT-1, raw or PNG-encoded (PNG holds RGB, the record order is BGR). */
async function writeDatabase(folder: string, encoded: boolean): Promise<Uint8Array[]> {
  const random = createRandom(42);
  const images: Uint8Array[] = [];
  const writer = new RecordWriter(folder);
  for (let n = 0; n < COUNT; n++) {
    const planar = Uint8Array.from({ length: C * H * W }, () => random.int(256));
    images.push(planar);
    let record: Uint8Array;
    if (encoded) {
      const interleaved = new Uint8Array(C * H * W);
      for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) interleaved[i * C + (C - 1 - c)] = planar[c * H * W + i]!;
      record = encodeDatum({ channels: C, height: H, width: W, label: n, encoded: true, data: await encodeImageFile({ pixels: interleaved, width: W, height: H, channels: C }, 'png') });
    } else {
      record = encodeDatum({ channels: C, height: H, width: W, label: n, data: planar });
    }
    await writer.put(recordKey(n, n), record);
  }
  await writer.close();
  return images;
}

/** Caffe's DataTransformer, element by element in float64. */
function reference(image: Uint8Array, mean: Float32Array | null, meanValues: number[] | null, crop: number, top: number, left: number, mirror: boolean, scale: number): number[] {
  const [outH, outW] = crop > 0 ? [crop, crop] : [H, W];
  const out = new Array<number>(C * outH * outW);
  for (let c = 0; c < C; c++) for (let h = 0; h < outH; h++) for (let w = 0; w < outW; w++) {
    const source = (c * H + top + h) * W + left + w;
    const m = mean !== null ? mean[source]! : meanValues !== null ? meanValues[c]! : 0;
    out[(c * outH + h) * outW + (mirror ? outW - 1 - w : w)] = (image[source]! - m) * scale;
  }
  return out;
}

const close = (actual: ArrayLike<number>, expected: number[]): boolean => expected.every((value, i) => Math.abs(actual[i]! - value) < 1e-4);

t.test('TEST phase: centre crop, mean file, scale, records in key order', async (t) => {
  const root = tempFolder(t);
  const images = await writeDatabase(path.join(root, 'db'), false);
  const mean = Float32Array.from({ length: C * H * W }, (_, i) => (i % 13) * 3.5);
  await writeMeanBinaryproto(path.join(root, 'mean.binaryproto'), { channels: C, height: H, width: W, data: mean });
  const source = await LmdbBatchSource.open({ source: path.join(root, 'db'), batchSize: 3, phase: 'TEST', transform: { cropSize: 5, mirror: true, meanFile: path.join(root, 'mean.binaryproto'), scale: 0.25 } });
  t.same(source.batchShape, [3, 3, 5, 5]);
  const seen: number[] = [];
  for (let b = 0; b < 3; b++) {
    const batch = await source.next();
    seen.push(...batch.labels);
    batch.labels.forEach((label, i) => {
      // Centre: ((9 - 5) / 2, (11 - 5) / 2) = (2, 3); mirror is ignored outside TRAIN.
      t.ok(close(batch.data.subarray(i * 75, (i + 1) * 75), reference(images[label]!, mean, null, 5, 2, 3, false, 0.25)), `record ${label}`);
    });
  }
  t.same(seen, [0, 1, 2, 3, 4, 5, 6, 0, 1], 'key order, wrapping into the next epoch like Caffe');
  await source.close();
  await t.rejects(source.next(), { code: 'SOURCE_CLOSED' });
});

/** Finds which crop and mirror explain an output, by trying every one against the reference. */
function explain(image: Uint8Array, output: Float32Array, crop: number, meanValues: number[]): { top: number; left: number; mirror: boolean } | undefined {
  for (let top = 0; top <= H - crop; top++) for (let left = 0; left <= W - crop; left++) for (const mirror of [false, true]) {
    if (close(output, reference(image, null, meanValues, crop, top, left, mirror, 1))) return { top, left, mirror };
  }
  return undefined;
}

t.test('TRAIN phase: random crops and mirrors, each matching the reference; seeded and worker-independent', async (t) => {
  const root = tempFolder(t);
  for (const encoded of [false, true]) {
    const folder = path.join(root, encoded ? 'png' : 'raw');
    const images = await writeDatabase(folder, encoded);
    const open = (workers: number) => LmdbBatchSource.open({ source: folder, batchSize: 4, phase: 'TRAIN', shuffle: true, seed: 5, workers, transform: { cropSize: 6, mirror: true, meanValue: [10, 20, 30] } });
    const one = await open(1);
    const two = await open(2);
    const crops = new Set<string>();
    let mirrored = 0;
    const labels: number[] = [];
    for (let b = 0; b < 7; b++) {
      const [a, c] = [await one.next(), await two.next()];
      t.same(Array.from(a.labels), Array.from(c.labels));
      t.ok(a.data.every((value, i) => value === c.data[i]), `batch ${b} identical with 1 or 2 workers`);
      a.labels.forEach((label, i) => {
        labels.push(label);
        const choice = explain(images[label]!, a.data.subarray(i * 108, (i + 1) * 108), 6, [10, 20, 30]);
        if (choice === undefined) t.fail(`record ${label} matches no crop/mirror`);
        else {
          crops.add(`${choice.top},${choice.left}`);
          if (choice.mirror) mirrored++;
        }
      });
    }
    for (let epoch = 0; epoch < 4; epoch++) t.same(labels.slice(epoch * 7, epoch * 7 + 7).sort(), [0, 1, 2, 3, 4, 5, 6], `${encoded ? 'png' : 'raw'}: epoch ${epoch} visits each record once`);
    t.not(labels.slice(0, 7).join(), labels.slice(7, 14).join(), 'a new order each epoch');
    t.ok(crops.size > 5, `crops vary (${crops.size} positions)`);
    t.ok(mirrored > 3 && mirrored < 25, `about half mirrored (${mirrored}/28)`);
    await Promise.all([one.close(), two.close()]);
  }
});

t.test('reuseBuffers hands out shared slots in place; the default hands out copies the caller owns', async (t) => {
  const root = tempFolder(t);
  const images = await writeDatabase(path.join(root, 'db'), false);
  const source = await LmdbBatchSource.open({ source: path.join(root, 'db'), batchSize: 2, phase: 'TEST', reuseBuffers: true, workers: 1, prefetch: 1 });
  const first = await source.next();
  t.ok(first.data.buffer instanceof SharedArrayBuffer, 'a view of a shared slot');
  t.same(Array.from(first.data.subarray(0, 5)), Array.from(images[0]!.subarray(0, 5)));
  const slots = new Set<ArrayBufferLike>([first.data.buffer]);
  for (let i = 0; i < 6; i++) {
    const batch = await source.next();
    slots.add(batch.data.buffer);
    const label = batch.labels[0]!;
    t.same(Array.from(batch.data.subarray(0, 5)), Array.from(images[label]!.subarray(0, 5)), `batch ${i + 1} correct in recycled memory`);
  }
  t.equal(slots.size, 2, 'prefetch 1 + the slot the caller holds');
  await source.close();
  const owned = await LmdbBatchSource.open({ source: path.join(root, 'db'), batchSize: 2, phase: 'TEST', workers: 2, prefetch: 3 });
  const batches = [await owned.next(), await owned.next(), await owned.next(), await owned.next()];
  t.ok(batches.every((batch) => batch.data.buffer instanceof ArrayBuffer), 'copies in ordinary memory');
  t.same(batches.flatMap((batch) => Array.from(batch.labels)), [0, 1, 2, 3, 4, 5, 6, 0], 'every batch kept its contents');
  batches.forEach((batch) => batch.labels.forEach((label, i) => t.same(Array.from(batch.data.subarray(i * 297, i * 297 + 5)), Array.from(images[label]!.subarray(0, 5)))));
  await owned.close();
});

t.test('transform errors are coded', async (t) => {
  const root = tempFolder(t);
  await writeDatabase(path.join(root, 'db'), false);
  await t.rejects(LmdbBatchSource.open({ source: path.join(root, 'db'), batchSize: 2, transform: { cropSize: 10 } }), { code: 'INVALID_OPTION', message: /cropSize between 0 and 9/ });
  await t.rejects(LmdbBatchSource.open({ source: path.join(root, 'db'), batchSize: 2, transform: { meanValue: [1, 2] } }), { code: 'INVALID_OPTION' });
  await writeMeanBinaryproto(path.join(root, 'small.binaryproto'), { channels: 3, height: 2, width: 2, data: new Float32Array(12) });
  await t.rejects(LmdbBatchSource.open({ source: path.join(root, 'db'), batchSize: 2, transform: { meanFile: path.join(root, 'small.binaryproto') } }), { code: 'MEAN_FILE_INVALID', message: /3x2x2 but the records are 3x9x11/ });
  await t.rejects(LmdbBatchSource.open({ source: path.join(root, 'none'), batchSize: 2 }), { code: 'DATABASE_INVALID' });
});

t.test('ArrayBatchSource over MNIST: split, scale, reshuffled epochs, reproducible', async (t) => {
  const digits = loadMnistDigits();
  t.equal(digits.count, 10000);
  t.equal(digits.images.length, 10000 * 784);
  const split = mnistSplit();
  t.same([split.train.length, split.val.length], [8000, 2000]);
  // Class 0 has 1001 digits: indices 0..800 train, 801..1000 (the last 200) validation.
  t.same([split.train[800], split.val[0], split.val[199]], [800, 801, 1000]);
  const make = () => new ArrayBatchSource({ images: digits.images, labels: digits.labels, shape: [1, 28, 28], batchSize: 100, indices: split.val, shuffle: true, seed: 1, scale: 255 });
  const [a, b] = [make(), make()];
  const seen = new Map<number, number>();
  for (let i = 0; i < 20; i++) {
    const [x, y] = [await a.next(), await b.next()];
    t.ok(x.data.every((value, j) => value === y.data[j]) && x.labels.every((value, j) => value === y.labels[j]));
    x.labels.forEach((label) => seen.set(label, (seen.get(label) ?? 0) + 1));
  }
  t.equal(seen.get(0), 200, 'one epoch of the validation split holds each validation digit once');
  const first = await make().next();
  t.ok(first.data.every((value) => value >= 0 && value <= 255) && first.data.some((value) => value > 200), 'scaled to 0..255');
});
