// activation.test.ts — ReLU (negative slope, the x == 0 rule) and train-time dropout (mask, scale, statistics).
import t from 'tap';
import { Tensor } from '../../lib/index.js';
import { dropoutBackward, dropoutForward, reluBackward, reluForward } from '../../lib/ops/activation.js';
import { assertClose, assertThrowsCode, checkGradient, forEachDevice, poison, randomArray, rng } from '../helpers/index.js';

const random = rng(41);

/** Element-wise equality of two arrays (tap's deep comparison is slow on large typed arrays). */
const sameValues = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

/** native/core/random.h's uniformAt(seed, index), in BigInt: SplitMix64's finaliser, top 24 bits. */
function uniformAt(seed: bigint, index: bigint): number {
  const mask64 = (1n << 64n) - 1n;
  let z = (seed + 0x9e3779b97f4a7c15n * (index + 1n)) & mask64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask64;
  z ^= z >> 31n;
  return Number(z >> 40n) / 16777216;
}

forEachDevice(t, async (t, dev) => {
  for (const negativeSlope of [0, 0.1])
    t.test(`relu, negative slope ${negativeSlope}`, async (t) => {
      const n = 10_007;
      // A quarter exact zeros: the gradient there must be the slope (Caffe's x <= 0 rule).
      const values = Float32Array.from(randomArray(n, random), (v, i) => (i % 4 === 0 ? 0 : v));
      const x = Tensor.from(values, [n], dev);
      const y = reluForward(x, poison(Tensor.empty([n], dev)), { negativeSlope });
      assertClose(t, await y.data(), Array.from(values, (v) => (v > 0 ? v : negativeSlope * v)), 'forward');
      const dyValues = randomArray(n, random);
      const dx = reluBackward(x, Tensor.from(dyValues, [n], dev), poison(Tensor.empty([n], dev)), { negativeSlope });
      const dxValues = await dx.data();
      assertClose(t, dxValues, Array.from(values, (v, i) => dyValues[i] * (v > 0 ? 1 : negativeSlope)), 'backward');
      t.equal(dxValues[0], Math.fround(dyValues[0] * negativeSlope), 'at x == 0 the gradient is the slope');
      const inPlace = Tensor.from(values, [n], dev);
      reluForward(inPlace, inPlace, { negativeSlope });
      t.ok(sameValues(await inPlace.data(), await y.data()), 'in place gives the same result');
    });

  t.test('relu gradient by finite differences (kinks skipped)', async (t) => {
    const shape = [3, 5, 7];
    await checkGradient(t, 'relu', {
      inputs: { x: randomArray(105, random) },
      forward: async ({ x }) => reluForward(Tensor.from(x, shape, dev), Tensor.empty(shape, dev), { negativeSlope: 0.2 }).data(),
      backward: async ({ x }, dy) => {
        const dx = reluBackward(Tensor.from(x, shape, dev), Tensor.from(dy, shape, dev), Tensor.empty(shape, dev),
          { negativeSlope: 0.2 });
        return { x: await dx.data() };
      },
      skip: (_, i, { x }) => Math.abs(x[i]) < 0.02,
    });
  });

  for (const ratio of [0.5, 0.3])
    t.test(`dropout ratio ${ratio}`, async (t) => {
      const n = 100_003;
      const values = randomArray(n, random);
      const x = Tensor.from(values, [n], dev);
      const y = poison(Tensor.empty([n], dev)), mask = poison(Tensor.empty([n], dev));
      dropoutForward(x, y, mask, { ratio, seed: 1234 });
      const [yValues, maskValues] = [await y.data(), await mask.data()];
      const scale = Math.fround(1 / Math.fround(1 - ratio));
      t.ok(maskValues.every((m) => m === 0 || m === scale), 'mask is 0 or 1/(1-ratio)');
      const kept = maskValues.reduce((sum, m) => sum + (m !== 0 ? 1 : 0), 0) / n;
      t.ok(Math.abs(kept - (1 - ratio)) < 0.01, `keeps about 1 - ratio (${kept.toFixed(4)})`);
      t.ok(yValues.every((v, i) => v === Math.fround(values[i] * maskValues[i])), 'y = x * mask');
      const expected = Array.from({ length: 1000 }, (_, i) => (uniformAt(1234n, BigInt(i)) >= Math.fround(ratio) ? scale : 0));
      t.ok(sameValues(maskValues.slice(0, 1000), expected), 'mask = u(seed, i) >= ratio (the shared generator)');
      const again = Tensor.empty([n], dev), other = Tensor.empty([n], dev);
      dropoutForward(x, Tensor.empty([n], dev), again, { ratio, seed: 1234 });
      dropoutForward(x, Tensor.empty([n], dev), other, { ratio, seed: 1235 });
      t.ok(sameValues(await again.data(), maskValues), 'the same seed gives the same mask');
      t.notOk(sameValues(await other.data(), maskValues), 'another seed gives another mask');
      const dyValues = randomArray(n, random);
      const dx = dropoutBackward(mask, Tensor.from(dyValues, [n], dev), poison(Tensor.empty([n], dev)));
      t.ok((await dx.data()).every((v, i) => v === Math.fround(dyValues[i] * maskValues[i])), 'dx = dy * mask');
    });

  t.test('dropout ratio 0 keeps everything unscaled', async (t) => {
    const values = randomArray(999, random);
    const y = Tensor.empty([999], dev), mask = Tensor.empty([999], dev);
    dropoutForward(Tensor.from(values, [999], dev), y, mask, { ratio: 0, seed: 5 });
    t.ok(sameValues(await y.data(), values), 'y = x');
  });

  t.test('argument errors', async (t) => {
    const x = Tensor.zeros([10], dev), y = Tensor.empty([10], dev), mask = Tensor.empty([10], dev);
    await assertThrowsCode(t, () => dropoutForward(x, y, mask, { ratio: 1, seed: 1 }), 'INVALID_ARGUMENT',
      'dropout: Expected a number in [0, 1) for ratio but received 1');
    await assertThrowsCode(t, () => dropoutForward(x, y, mask, { ratio: 0.5, seed: -1 }), 'INVALID_ARGUMENT',
      'dropout: Expected a non-negative safe integer for seed but received -1');
    await assertThrowsCode(t, () => dropoutForward(x, y, mask, { ratio: 0.5 } as never), 'INVALID_ARGUMENT',
      'dropout: Expected a non-negative safe integer for seed but received undefined');
    await assertThrowsCode(t, () => dropoutForward(x, Tensor.empty([11], dev), mask, { seed: 1 }), 'SHAPE_MISMATCH',
      'dropout: y has shape 11 (11 elements) but 10 elements were expected');
    await assertThrowsCode(t, () => reluForward(x, y, { negativeSlop: 0.1 } as never), 'INVALID_ARGUMENT',
      "relu: unknown option 'negativeSlop'; did you mean 'negativeSlope'?");
    await assertThrowsCode(t, () => reluBackward(x, Tensor.empty([9], dev), y), 'SHAPE_MISMATCH',
      'relu backward: dy has shape 9 (9 elements) but 10 elements were expected');
    await assertThrowsCode(t, () => reluForward(x, 'y' as never), 'INVALID_ARGUMENT',
      'relu: Expected a Tensor for y but received "y"');
  });
});
