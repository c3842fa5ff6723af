// The training split's mean image: exact sums against a float64 reference, round half to even, and wrong sizes refused.
import t from 'tap';
import { MeanAccumulator, roundHalfEven } from '../../lib/data/mean.js';
import { pseudoRandomBytes } from './helpers.js';

function referenceMean(images: Uint8Array[]): Uint8Array {
  const mean = new Uint8Array(images[0]!.length);
  for (let i = 0; i < mean.length; i++) {
    let sum = 0;
    for (const image of images) sum += image[i]!;
    mean[i] = roundHalfEven(sum / images.length);
  }
  return mean;
}

t.test('mean of odd-sized images equals a direct float64 computation', async (t) => {
  const [width, height, channels] = [7, 5, 3];
  const accumulator = new MeanAccumulator(width, height, channels);
  const images: Uint8Array[] = [];
  for (let n = 0; n < 13; n++) {
    images.push(pseudoRandomBytes(width * height * channels, n + 1));
    accumulator.add({ pixels: images[n]!, width, height, channels });
  }
  const first = accumulator.meanImage();
  t.same([first.width, first.height, first.channels], [width, height, channels]);
  t.same(first.pixels, referenceMean(images));
  t.same(accumulator.meanImage().pixels, first.pixels, 'asking twice gives the same mean');
  // More images after a mean was taken keep counting from the same totals.
  for (let n = 13; n < 20; n++) {
    images.push(pseudoRandomBytes(width * height * channels, n + 1));
    accumulator.add({ pixels: images[n]!, width, height, channels });
  }
  t.equal(accumulator.count, 20);
  t.same(accumulator.meanImage().pixels, referenceMean(images));
});

t.test('ties round to even as numpy.around does', async (t) => {
  const accumulator = new MeanAccumulator(4, 1, 1);
  accumulator.add({ pixels: Uint8Array.from([1, 2, 255, 0]), width: 4, height: 1, channels: 1 });
  accumulator.add({ pixels: Uint8Array.from([2, 3, 255, 1]), width: 4, height: 1, channels: 1 });
  // 1.5 -> 2, 2.5 -> 2, 255 -> 255, 0.5 -> 0
  t.same([...accumulator.meanImage().pixels], [2, 2, 255, 0]);
});

t.test('an image of the wrong size is refused', async (t) => {
  const accumulator = new MeanAccumulator(4, 4, 3);
  t.throws(() => accumulator.add({ pixels: new Uint8Array(4 * 4), width: 4, height: 4, channels: 1 }), /mean of 4x4x3 images given 16 bytes/);
});
