// softmax.test.ts — softmax, SoftmaxWithLoss (every normalization, ignore_label) and top-k accuracy, as Caffe.
import t from 'tap';
import { Tensor } from '../../lib/index.js';
import {
  accuracy, softmaxBackward, softmaxForward, softmaxLossBackward, softmaxLossForward, type SoftmaxLossOptions,
} from '../../lib/ops/softmax.js';
import { assertClose, assertThrowsCode, checkGradient, forEachDevice, poison, randomArray, rng } from '../helpers/index.js';

const random = rng(51);
const FLT_MIN = 1.1754943508222875e-38;

/** [outer, channels, inner] of a shape split at `axis`. */
function split(shape: number[], axis: number): [number, number, number] {
  const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  return [product(shape.slice(0, axis)), shape[axis], product(shape.slice(axis + 1))];
}

function softmaxReference(x: ArrayLike<number>, [outer, channels, inner]: [number, number, number]): Float64Array {
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const at = (c: number) => (o * channels + c) * inner + i;
      let maximum = -Infinity, sum = 0;
      for (let c = 0; c < channels; c++) maximum = Math.max(maximum, x[at(c)]);
      for (let c = 0; c < channels; c++) sum += Math.exp(x[at(c)] - maximum);
      for (let c = 0; c < channels; c++) y[at(c)] = Math.exp(x[at(c)] - maximum) / sum;
    }
  return y;
}

/** Integer labels in [0, channels) as floats. */
const randomLabels = (n: number, channels: number) => Float32Array.from({ length: n }, () => Math.floor(random() * channels));

forEachDevice(t, async (t, dev) => {
  for (const [shape, axis] of [[[1, 10], 1], [[3, 7, 2, 5], 1], [[2, 3, 4], 2], [[4, 6, 300], 1]] as [number[], number][])
    t.test(`softmax ${shape.join('x')} over axis ${axis}`, async (t) => {
      const count = shape.reduce((a, b) => a * b);
      const values = randomArray(count, random, -30, 30);
      const y = softmaxForward(Tensor.from(values, shape, dev), poison(Tensor.empty(shape, dev)), { axis });
      const yValues = await y.data();
      assertClose(t, yValues, softmaxReference(values, split(shape, axis)), 'forward');
      const dy = randomArray(count, random);
      const dx = softmaxBackward(y, Tensor.from(dy, shape, dev), poison(Tensor.empty(shape, dev)), { axis });
      const [outer, channels, inner] = split(shape, axis);
      const expected = new Float64Array(count);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          const at = (c: number) => (o * channels + c) * inner + i;
          let dot = 0;
          for (let c = 0; c < channels; c++) dot += dy[at(c)] * yValues[at(c)];
          for (let c = 0; c < channels; c++) expected[at(c)] = yValues[at(c)] * (dy[at(c)] - dot);
        }
      assertClose(t, await dx.data(), expected, 'backward');
    });

  t.test('softmax gradient by finite differences', async (t) => {
    const shape = [2, 5, 3];
    await checkGradient(t, 'softmax', {
      inputs: { x: randomArray(30, random, -2, 2) },
      forward: async ({ x }) => softmaxForward(Tensor.from(x, shape, dev), Tensor.empty(shape, dev)).data(),
      backward: async ({ x }, dy) => {
        const y = softmaxForward(Tensor.from(x, shape, dev), Tensor.empty(shape, dev));
        return { x: await softmaxBackward(y, Tensor.from(dy, shape, dev), Tensor.empty(shape, dev)).data() };
      },
    });
  });

  // A 2x5x3x3 score map with 3 ignored positions and one fractional label (truncated to int).
  const lossShape = [2, 5, 3, 3];
  const scores = randomArray(90, random, -3, 3);
  const labels = randomLabels(18, 5);
  labels[2] = labels[9] = labels[16] = 255;
  labels[5] = 3.7;
  const probValues = softmaxReference(scores, [2, 5, 9]);
  const normalizers = { FULL: 18, VALID: 15, BATCH_SIZE: 2, NONE: 1 } as const;

  for (const [normalization, normalizer] of Object.entries(normalizers) as [keyof typeof normalizers, number][])
    t.test(`softmax loss, normalization ${normalization}`, async (t) => {
      const options: SoftmaxLossOptions = { normalization, ignoreLabel: 255 };
      const prob = softmaxForward(Tensor.from(scores, lossShape, dev), Tensor.empty(lossShape, dev));
      const labelTensor = Tensor.from(labels, [2, 1, 3, 3], dev);
      let sum = 0;
      const expectedDx = new Float64Array(90);
      for (let position = 0; position < 18; position++) {
        if (labels[position] === 255) continue;
        const o = Math.floor(position / 9), i = position % 9, label = Math.trunc(labels[position]);
        sum -= Math.log(Math.max(probValues[(o * 5 + label) * 9 + i], FLT_MIN));
        for (let c = 0; c < 5; c++) {
          const at = (o * 5 + c) * 9 + i;
          expectedDx[at] = ((probValues[at] - (c === label ? 1 : 0)) * 0.5) / normalizer;
        }
      }
      const loss = softmaxLossForward(prob, labelTensor, poison(Tensor.empty([1], dev)), options);
      assertClose(t, await loss.data(), [sum / normalizer], 'loss');
      const dx = poison(Tensor.empty(lossShape, dev));
      softmaxLossBackward(prob, labelTensor, Tensor.from([0.5], [1], dev), dx, options);
      assertClose(t, await dx.data(), expectedDx, 'backward (loss weight 0.5; 0 at ignored positions)');
    });

  t.test('softmax loss: VALID by default, normalizer clamped to >= 1, FLT_MIN clamp', async (t) => {
    const prob = Tensor.from([1, 0, 0, 1], [2, 2], dev);
    const loss = softmaxLossForward(prob, Tensor.from([1, 1], [2], dev));
    assertClose(t, await loss.data(), [-Math.log(FLT_MIN) / 2], 'log(0) is clamped to log(FLT_MIN)');
    const allIgnored = softmaxLossForward(prob, Tensor.from([7, 7], [2], dev), undefined, { ignoreLabel: 7 });
    t.same(Array.from(await allIgnored.data()), [0], 'no valid label: loss 0 over a normalizer of 1');
  });

  t.test('softmax loss gradient by finite differences (through softmax)', async (t) => {
    const shape = [3, 4, 2];
    const targets = Tensor.from(randomLabels(6, 4), [3, 2], dev);
    const options: SoftmaxLossOptions = { normalization: 'FULL' };
    await checkGradient(t, 'softmax loss', {
      inputs: { x: randomArray(24, random, -2, 2) },
      forward: async ({ x }) => {
        const prob = softmaxForward(Tensor.from(x, shape, dev), Tensor.empty(shape, dev));
        return softmaxLossForward(prob, targets, undefined, options).data();
      },
      backward: async ({ x }, dy) => {
        const prob = softmaxForward(Tensor.from(x, shape, dev), Tensor.empty(shape, dev));
        const dx = softmaxLossBackward(prob, targets, Tensor.from(dy, [1], dev), Tensor.empty(shape, dev), options);
        return { x: await dx.data() };
      },
    });
  });

  t.test('accuracy: top k with ties counting against', async (t) => {
    const values = [
      0.1, 0.5, 0.5, 0.2, //   label 1 ties with class 2
      0.9, 0.1, 0.0, 0.0, //   label 0, a clear winner
      0.3, 0.3, 0.3, 0.3, //   all tied, label 3
      0.2, 0.1, 0.4, 0.3, //   label 3, second best
    ];
    const scoreTensor = Tensor.from(values, [4, 4], dev), labelTensor = Tensor.from([1, 0, 3, 3], [4], dev);
    const expected = [0.25, 0.75, 0.75, 1];
    for (let topK = 1; topK <= 4; topK++) {
      const out = accuracy(scoreTensor, labelTensor, poison(Tensor.empty([1], dev)), { topK });
      assertClose(t, await out.data(), [expected[topK - 1]], `top ${topK}`);
    }
    const ignoring = accuracy(scoreTensor, labelTensor, undefined, { ignoreLabel: 1 });
    assertClose(t, await ignoring.data(), [1 / 3], 'ignoreLabel leaves the position out of the count');
  });

  t.test('accuracy over a spatial score map against a reference', async (t) => {
    const [N, C, H, W] = [3, 6, 2, 5];
    const values = Float32Array.from({ length: N * C * H * W }, () => Math.floor(random() * 4)); // many ties
    const labelValues = randomLabels(N * H * W, C);
    for (const topK of [1, 2, 3]) {
      let correct = 0;
      for (let n = 0; n < N; n++)
        for (let i = 0; i < H * W; i++) {
          const label = labelValues[n * H * W + i];
          const trueScore = values[(n * C + label) * H * W + i];
          let others = 0;
          for (let c = 0; c < C; c++) if (c !== label && values[(n * C + c) * H * W + i] >= trueScore) others++;
          if (others < topK) correct++;
        }
      const out = accuracy(Tensor.from(values, [N, C, H, W], dev), Tensor.from(labelValues, [N, 1, H, W], dev), undefined,
        { topK });
      assertClose(t, await out.data(), [correct / (N * H * W)], `top ${topK}`);
    }
  });

  t.test('labels outside [0, channels) fail the op, naming the label and its position', async (t) => {
    const prob = Tensor.zeros([5, 10], dev, 0.1);
    const labelTensor = Tensor.from([1, 2, 3, 12, 4], [5], dev);
    await assertThrowsCode(t, () => softmaxLossForward(prob, labelTensor).data(), 'INVALID_ARGUMENT',
      'softmax loss forward(outer=5, channels=10, inner=1): label 12 at position 3 is outside [0, 10)');
    await assertThrowsCode(t, () => accuracy(prob, Tensor.from([1, -1, 3, 2, 4], [5], dev)).data(), 'INVALID_ARGUMENT',
      'accuracy(outer=5, channels=10, inner=1): label -1 at position 1 is outside [0, 10)');
    const ignored = softmaxLossForward(prob, Tensor.from([1, 2, 3, -1, 4], [5], dev), undefined, { ignoreLabel: -1 });
    assertClose(t, await ignored.data(), [-Math.log(0.1)], 'an ignored label may be outside the range');
    const dx = Tensor.zeros([5, 10], dev, 3);
    await assertThrowsCode(t, () => softmaxLossBackward(prob, Tensor.from([1, 2, NaN, 10, 4], [5], dev),
      Tensor.zeros([1], dev, 1), dx).data(), 'INVALID_ARGUMENT',
      'softmax loss backward(outer=5, channels=10, inner=1): label nan at position 2 is outside [0, 10)');
    // dx is not written (the op stops at the label), and it carries the op's error until overwritten.
    await assertThrowsCode(t, () => dx.data(), 'INVALID_ARGUMENT',
      'softmax loss backward(outer=5, channels=10, inner=1): label nan at position 2 is outside [0, 10)');
    dx.write(new Float32Array(50).fill(3));
    t.same(Array.from(await dx.data()), new Array(50).fill(3), 'once overwritten it reads again');
  });

  t.test('accuracy with every label ignored is 0, as Caffe (not 0/0)', async (t) => {
    const scores = Tensor.from(randomArray(12, random), [4, 3], dev);
    const out = accuracy(scores, Tensor.from([2, 2, 2, 2], [4], dev), undefined, { ignoreLabel: 2 });
    t.same(Array.from(await out.data()), [0]);
  });

  t.test('argument errors', async (t) => {
    const prob = Tensor.zeros([2, 3, 4], dev);
    await assertThrowsCode(t, () => softmaxLossForward(prob, Tensor.zeros([2, 3], dev)), 'SHAPE_MISMATCH',
      'softmax loss: labels has shape 2x3 (6 elements) but prob of shape 2x3x4 needs 8 labels (one per position outside the axis)');
    await assertThrowsCode(t, () => softmaxForward(prob, Tensor.empty([2, 3, 4], dev), { axis: 3 }), 'INVALID_ARGUMENT',
      'softmax: Expected an axis below 3 for axis but received 3 (x has shape 2x3x4)');
    await assertThrowsCode(t, () => softmaxForward(prob, Tensor.empty([2, 4, 3], dev)), 'SHAPE_MISMATCH',
      'softmax: y has shape 2x4x3 but 2x3x4 was expected');
    await assertThrowsCode(t, () => softmaxLossForward(prob, Tensor.zeros([8], dev), undefined,
      { normalization: 'BATCH' as never }), 'INVALID_ARGUMENT',
    'softmax loss: Expected "FULL", "VALID", "BATCH_SIZE" or "NONE" for normalization but received "BATCH"');
    await assertThrowsCode(t, () => softmaxLossForward(prob, Tensor.zeros([8], dev), undefined, { ignoreLabel: 1.5 }),
      'INVALID_ARGUMENT', 'softmax loss: Expected an integer for ignoreLabel but received 1.5');
    await assertThrowsCode(t, () => softmaxLossBackward(prob, Tensor.zeros([8], dev), Tensor.zeros([2], dev),
      Tensor.empty([2, 3, 4], dev)), 'SHAPE_MISMATCH', 'softmax loss backward: lossWeight has shape 2 (2 elements) but 1 elements were expected');
    await assertThrowsCode(t, () => accuracy(prob, Tensor.zeros([8], dev), undefined, { topK: 4 }), 'INVALID_ARGUMENT',
      'accuracy: Expected at most 3 (the number of classes) for topK but received 4');
    await assertThrowsCode(t, () => accuracy(prob, Tensor.zeros([8], dev), undefined, { top_k: 2 } as never),
      'INVALID_ARGUMENT', "accuracy: unknown option 'top_k'; did you mean 'topK'?");
  });
});
