// lrn.test.ts — LRN across and within channels against a float64 reference of Caffe's formulas, and by finite differences.
import t from 'tap';
import { Tensor } from '../../lib/index.js';
import { lrnBackward, lrnForward, type LrnOptions } from '../../lib/ops/lrn.js';
import { assertClose, assertThrowsCode, checkGradient, forEachDevice, poison, randomArray, rng } from '../helpers/index.js';

const random = rng(31);

type Shape4 = [number, number, number, number];
type Settings = Required<LrnOptions>;

/** scale and y in float64, straight from the definitions (k ignored within channels, as Caffe). */
function lrnReference(x: ArrayLike<number>, [N, C, H, W]: Shape4, o: Settings) {
  const half = (o.localSize - 1) / 2;
  const at = (n: number, c: number, h: number, w: number) => ((n * C + c) * H + h) * W + w;
  const scale = new Float64Array(x.length), y = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          let sum = 0;
          if (o.region === 'ACROSS_CHANNELS') {
            for (let j = Math.max(c - half, 0); j <= Math.min(c + half, C - 1); j++) sum += x[at(n, j, h, w)] ** 2;
          } else {
            for (let i = Math.max(h - half, 0); i <= Math.min(h + half, H - 1); i++)
              for (let j = Math.max(w - half, 0); j <= Math.min(w + half, W - 1); j++) sum += x[at(n, c, i, j)] ** 2;
          }
          const i = at(n, c, h, w);
          scale[i] = o.region === 'ACROSS_CHANNELS' ? o.k + (o.alpha / o.localSize) * sum
            : 1 + (o.alpha / (o.localSize * o.localSize)) * sum;
          y[i] = x[i] * scale[i] ** -o.beta;
        }
  return { scale, y };
}

const cases: { shape: Shape4; options: Settings }[] = [
  { shape: [1, 7, 5, 6], options: { localSize: 5, alpha: 1, beta: 0.75, k: 1, region: 'ACROSS_CHANNELS' } },
  { shape: [3, 9, 11, 13], options: { localSize: 3, alpha: 0.3, beta: 0.5, k: 1.5, region: 'ACROSS_CHANNELS' } },
  { shape: [2, 3, 4, 3], options: { localSize: 5, alpha: 0.5, beta: 0.6, k: 2, region: 'ACROSS_CHANNELS' } },
  { shape: [2, 16, 27, 27], options: { localSize: 5, alpha: 1e-4, beta: 0.75, k: 1, region: 'ACROSS_CHANNELS' } },
  { shape: [1, 3, 7, 9], options: { localSize: 3, alpha: 1, beta: 0.75, k: 1, region: 'WITHIN_CHANNEL' } },
  { shape: [2, 2, 10, 8], options: { localSize: 5, alpha: 2, beta: 1, k: 3, region: 'WITHIN_CHANNEL' } },
];

forEachDevice(t, async (t, dev) => {
  for (const { shape, options } of cases)
    t.test(`${options.region} ${shape.join('x')} n${options.localSize} alpha ${options.alpha} beta ${options.beta} k ${options.k}`,
      async (t) => {
        const count = shape.reduce((a, b) => a * b);
        const values = randomArray(count, random, -3, 3);
        const x = Tensor.from(values, shape, dev);
        const y = poison(Tensor.empty(shape, dev)), scale = poison(Tensor.empty(shape, dev));
        lrnForward(x, y, scale, options);
        const ref = lrnReference(values, shape, options);
        assertClose(t, await y.data(), ref.y, 'y');
        assertClose(t, await scale.data(), ref.scale, 'scale');
      });

  t.test('WITHIN_CHANNEL ignores k', async (t) => {
    const shape: Shape4 = [1, 2, 5, 5];
    const x = Tensor.from(randomArray(50, random), shape, dev);
    const a = Tensor.empty(shape, dev), b = Tensor.empty(shape, dev);
    lrnForward(x, a, Tensor.empty(shape, dev), { region: 'WITHIN_CHANNEL', localSize: 3, k: 1 });
    lrnForward(x, b, Tensor.empty(shape, dev), { region: 'WITHIN_CHANNEL', localSize: 3, k: 3 });
    t.same(Array.from(await a.data()), Array.from(await b.data()));
  });

  for (const { shape, options } of [cases[0], cases[2], cases[4], cases[5]])
    t.test(`${options.region} beta ${options.beta} gradient by finite differences`, async (t) => {
      const count = shape.reduce((a, b) => a * b);
      await checkGradient(t, `lrn ${options.region}`, {
        inputs: { x: randomArray(count, random, -2, 2) },
        forward: async ({ x }) => {
          const y = Tensor.empty(shape, dev);
          lrnForward(Tensor.from(x, shape, dev), y, Tensor.empty(shape, dev), options);
          return y.data();
        },
        backward: async ({ x }, dy) => {
          const input = Tensor.from(x, shape, dev), y = Tensor.empty(shape, dev), scale = Tensor.empty(shape, dev);
          lrnForward(input, y, scale, options);
          const dx = poison(Tensor.empty(shape, dev));
          lrnBackward(input, y, scale, Tensor.from(dy, shape, dev), dx, options);
          return { x: await dx.data() };
        },
        maxChecks: 120,
      });
    });

  t.test('argument errors', async (t) => {
    const shape: Shape4 = [1, 3, 4, 4];
    const x = Tensor.zeros(shape, dev), y = Tensor.empty(shape, dev), scale = Tensor.empty(shape, dev);
    await assertThrowsCode(t, () => lrnForward(x, y, scale, { localSize: 4 }), 'INVALID_ARGUMENT',
      'lrn: Expected an odd positive integer for localSize but received 4');
    await assertThrowsCode(t, () => lrnForward(x, y, scale, { region: 'ACROSS' as never }), 'INVALID_ARGUMENT',
      'lrn: Expected "ACROSS_CHANNELS" or "WITHIN_CHANNEL" for region but received "ACROSS"');
    await assertThrowsCode(t, () => lrnForward(x, y, scale, { alpha: Number.NaN }), 'INVALID_ARGUMENT',
      'lrn: Expected a finite number for alpha but received NaN');
    await assertThrowsCode(t, () => lrnForward(x, y, scale, { aplha: 1 } as never), 'INVALID_ARGUMENT',
      "lrn: unknown option 'aplha'; did you mean 'alpha'?");
    await assertThrowsCode(t, () => lrnForward(x, Tensor.empty([1, 3, 4, 5], dev), scale), 'SHAPE_MISMATCH',
      'lrn: y has shape 1x3x4x5 but 1x3x4x4 was expected');
    await assertThrowsCode(t, () => lrnForward(Tensor.zeros([3, 16], dev), y, scale), 'SHAPE_MISMATCH',
      'lrn: x must be 4-D (N, C, H, W) but has shape 3x16');
    await assertThrowsCode(t, () => lrnForward(x, x, scale), 'INVALID_ARGUMENT',
      'lrn: y must not share storage with x (LRN cannot run in place)');
    await assertThrowsCode(t, () => lrnBackward(x, y, scale, Tensor.empty([1, 3, 4, 3], dev), Tensor.empty(shape, dev)),
      'SHAPE_MISMATCH', 'lrn backward: dy has shape 1x3x4x3 but 1x3x4x4 was expected');
  });
});
