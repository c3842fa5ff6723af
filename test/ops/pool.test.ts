// pool.test.ts — max and average pooling against a float64 reference of Caffe's rules, and by finite differences.
import t from 'tap';
import { Tensor } from '../../lib/index.js';
import { poolBackward, poolForward, poolOutputShape, poolOutputSize, type PoolOptions } from '../../lib/ops/pool.js';
import { assertClose, assertThrowsCode, checkGradient, forEachDevice, poison, randomArray, rng } from '../helpers/index.js';

const random = rng(21);
const FLT_MAX = 3.4028234663852886e38;

interface Case { shape: [number, number, number, number]; kernel: [number, number]; stride: [number, number]; pad: [number, number] }

/** Caffe's pooling in float64: y, and the MAX argmax index h*W + w (-1 for an empty window). */
function poolReference(x: Float32Array, c: Case, method: 'MAX' | 'AVE') {
  const [N, C, H, W] = c.shape;
  const outH = poolOutputSize(H, c.kernel[0], c.pad[0], c.stride[0]);
  const outW = poolOutputSize(W, c.kernel[1], c.pad[1], c.stride[1]);
  const y = new Float64Array(N * C * outH * outW);
  const mask = new Int32Array(y.length).fill(-1);
  const windows: { hs: number; he: number; ws: number; we: number; size: number }[] = [];
  for (let ph = 0; ph < outH; ph++)
    for (let pw = 0; pw < outW; pw++) {
      let hs = ph * c.stride[0] - c.pad[0], ws = pw * c.stride[1] - c.pad[1];
      let he = Math.min(hs + c.kernel[0], H + c.pad[0]), we = Math.min(ws + c.kernel[1], W + c.pad[1]);
      const size = (he - hs) * (we - ws);
      hs = Math.max(hs, 0); ws = Math.max(ws, 0); he = Math.min(he, H); we = Math.min(we, W);
      windows.push({ hs, he, ws, we, size });
    }
  for (let plane = 0; plane < N * C; plane++)
    windows.forEach((win, o) => {
      let best = -FLT_MAX, bestIndex = -1, sum = 0;
      for (let h = win.hs; h < win.he; h++)
        for (let w = win.ws; w < win.we; w++) {
          const v = x[plane * H * W + h * W + w];
          sum += v;
          if (v > best) { best = v; bestIndex = h * W + w; }
        }
      y[plane * outH * outW + o] = method === 'MAX' ? best : sum / win.size;
      mask[plane * outH * outW + o] = bestIndex;
    });
  return { y, mask, outH, outW, windows };
}

/** dx of the reference: MAX routes dy to the argmax, AVE spreads dy / divisor (accumulated). */
function poolBackwardReference(dy: Float32Array, c: Case, method: 'MAX' | 'AVE', ref: ReturnType<typeof poolReference>) {
  const [N, C, H, W] = c.shape;
  const dx = new Float64Array(N * C * H * W);
  const outPlane = ref.outH * ref.outW;
  for (let plane = 0; plane < N * C; plane++)
    ref.windows.forEach((win, o) => {
      const g = dy[plane * outPlane + o];
      if (method === 'MAX') {
        const index = ref.mask[plane * outPlane + o];
        if (index >= 0) dx[plane * H * W + index] += g;
        return;
      }
      for (let h = win.hs; h < win.he; h++)
        for (let w = win.ws; w < win.we; w++) dx[plane * H * W + h * W + w] += g / win.size;
    });
  return dx;
}

const options = (c: Case, method: 'MAX' | 'AVE'): PoolOptions => ({ method, kernel: c.kernel, stride: c.stride, pad: c.pad });

/** Integers in [-2, 2]: many ties inside windows, so the first-maximum rule is exercised. */
const tiedArray = (n: number) => Float32Array.from({ length: n }, () => Math.floor(random() * 5) - 2);

const cases: Case[] = [
  { shape: [1, 1, 3, 3], kernel: [2, 2], stride: [2, 2], pad: [1, 1] },     // ceil 3 clipped to 2
  { shape: [2, 3, 9, 10], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },    // 4x5 (floor would be 4x4)
  { shape: [3, 2, 13, 11], kernel: [3, 2], stride: [2, 3], pad: [1, 1] },   // non-square everything
  { shape: [1, 4, 8, 7], kernel: [5, 5], stride: [1, 1], pad: [2, 2] },
  { shape: [2, 2, 12, 12], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },   // overlapping windows
  { shape: [1, 2, 6, 41], kernel: [3, 3], stride: [1, 1], pad: [1, 1] },    // wide rows (8 outputs at once)
  { shape: [2, 2, 9, 45], kernel: [3, 2], stride: [2, 2], pad: [0, 1] },    // wide rows, stride 2
  { shape: [2, 3, 24, 24], kernel: [2, 2], stride: [2, 2], pad: [0, 0] },   // LeNet pool1: 2x2 tiles, 8 + 4 (masked) lanes
  { shape: [2, 2, 8, 8], kernel: [2, 2], stride: [2, 2], pad: [0, 0] },     // LeNet pool2: one masked vector per row
  { shape: [1, 3, 9, 37], kernel: [2, 2], stride: [2, 2], pad: [0, 0] },    // odd sizes: clipped last tile row and column
  { shape: [1, 2, 10, 13], kernel: [3, 3], stride: [3, 3], pad: [0, 0] },   // 3x3 tiles, clipped
  { shape: [2, 2, 17, 41], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },   // overlapping k3 s2, odd sizes, masked tail
  { shape: [1, 1, 7, 7], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },     // overlapping k3 s2, 3 outputs per row
  { shape: [1, 2, 17, 17], kernel: [3, 3], stride: [2, 2], pad: [0, 0] },   // k3 s2 with W = 2*outW + 1
];

forEachDevice(t, async (t, dev) => {
  t.test('output shape: ceil, then clip when padded', async (t) => {
    t.same(poolOutputShape(Tensor.empty([1, 1, 3, 3], dev), { kernel: 2, stride: 2, pad: 1 }), [1, 1, 2, 2]);
    t.same(poolOutputShape(Tensor.empty([1, 1, 9, 10], dev), { kernel: 3, stride: 2 }), [1, 1, 4, 5]);
    t.same(poolOutputShape(Tensor.empty([2, 3, 55, 55], dev), { kernel: 3, stride: 2 }), [2, 3, 27, 27]);
    t.same(poolOutputShape(Tensor.empty([1, 1, 6, 7], dev), { kernel: 2, stride: 3 }), [1, 1, 3, 3]);
  });

  for (const method of ['MAX', 'AVE'] as const)
    for (const c of cases)
      for (const ties of [false, true])
        t.test(`${method} ${c.shape.join('x')} k${c.kernel.join('x')} s${c.stride.join('x')} p${c.pad.join('x')}${ties ? ' ties' : ''}`,
          async (t) => {
            const values = ties ? tiedArray(c.shape.reduce((a, b) => a * b)) : randomArray(c.shape.reduce((a, b) => a * b), random);
            const x = Tensor.from(values, c.shape, dev);
            const ref = poolReference(values, c, method);
            const outShape = [c.shape[0], c.shape[1], ref.outH, ref.outW];
            const y = poison(Tensor.empty(outShape, dev));
            const mask = method === 'MAX' ? poison(Tensor.empty(outShape, dev)) : null;
            poolForward(x, y, mask, options(c, method));
            assertClose(t, await y.data(), ref.y, 'forward');
            if (mask) t.same(Array.from(await mask.data()), Array.from(ref.mask), 'mask: first maximum in row-major order');
            const dyValues = randomArray(y.size, random);
            const dx = poison(Tensor.empty(c.shape, dev));
            poolBackward(x, Tensor.from(dyValues, outShape, dev), mask, dx, options(c, method));
            assertClose(t, await dx.data(), poolBackwardReference(dyValues, c, method, ref), 'backward (dx overwritten)');
          });

  t.test('windows beyond the input (stride > kernel, no pad): -FLT_MAX and 0/0 as Caffe', async (t) => {
    const c: Case = { shape: [1, 2, 6, 7], kernel: [2, 2], stride: [3, 3], pad: [0, 0] };
    const values = randomArray(2 * 6 * 7, random);
    const x = Tensor.from(values, c.shape, dev);
    const y = poison(Tensor.empty([1, 2, 3, 3], dev)), mask = poison(Tensor.empty([1, 2, 3, 3], dev));
    poolForward(x, y, mask, options(c, 'MAX'));
    const maxOut = await y.data(), maskOut = await mask.data();
    t.same(Array.from(maxOut.slice(6, 9)), [-FLT_MAX, -FLT_MAX, -FLT_MAX], 'MAX: last row is -FLT_MAX');
    t.same(Array.from(maskOut.slice(6, 9)), [-1, -1, -1], 'MAX: mask -1 there');
    const ref = poolReference(values, c, 'MAX');
    assertClose(t, maxOut.slice(0, 6), ref.y.slice(0, 6), 'MAX: the other rows');
    const average = poison(Tensor.empty([1, 2, 3, 3], dev));
    poolForward(x, average, null, options(c, 'AVE'));
    const averageOut = await average.data();
    t.ok(Array.from(averageOut.slice(6, 9)).every(Number.isNaN), 'AVE: last row is NaN');
    const dx = poison(Tensor.empty(c.shape, dev));
    poolBackward(x, Tensor.zeros([1, 2, 3, 3], dev, 1), mask, dx, options(c, 'MAX'));
    t.ok(Array.from(await dx.data()).every(Number.isFinite), 'MAX backward: empty windows route nothing');
  });

  const gradientCases: Case[] = [
    { shape: [2, 2, 7, 6], kernel: [3, 2], stride: [2, 2], pad: [1, 1] },
    { shape: [1, 2, 5, 19], kernel: [2, 2], stride: [2, 2], pad: [0, 0] },  // tiling windows: dx written directly
  ];
  for (const method of ['MAX', 'AVE'] as const)
    for (const c of gradientCases)
      t.test(`${method} gradient by finite differences, ${c.shape.join('x')} k${c.kernel.join('x')}`, async (t) => {
        const count = c.shape.reduce((a, b) => a * b);
        // Distinct values 0.05 apart: a step of 1e-2 never changes which element is the maximum.
        const order = Array.from({ length: count }, (_, i) => i).sort(() => random() - 0.5);
        const values = Float32Array.from(order, (rank) => (rank - count / 2) * 0.05);
        const outShape = poolOutputShape(Tensor.empty(c.shape, dev), options(c, method));
        await checkGradient(t, `${method} pool`, {
          inputs: { x: values },
          forward: async ({ x }) => {
            const y = Tensor.empty(outShape, dev);
            poolForward(Tensor.from(x, c.shape, dev), y, method === 'MAX' ? Tensor.empty(outShape, dev) : null, options(c, method));
            return y.data();
          },
          backward: async ({ x }, dy) => {
            const input = Tensor.from(x, c.shape, dev);
            const mask = method === 'MAX' ? Tensor.empty(outShape, dev) : null;
            poolForward(input, Tensor.empty(outShape, dev), mask, options(c, method));
            const dx = poison(Tensor.empty(c.shape, dev));
            poolBackward(input, Tensor.from(dy, outShape, dev), mask, dx, options(c, method));
            return { x: await dx.data() };
          },
          maxChecks: 200,
        });
      });

  t.test('argument errors', async (t) => {
    const x = Tensor.zeros([1, 2, 5, 5], dev);
    const y = Tensor.empty([1, 2, 3, 3], dev), mask = Tensor.empty([1, 2, 3, 3], dev);
    await assertThrowsCode(t, () => poolForward(x, y, mask, { kernel: 2, pad: 2, stride: 2 }), 'INVALID_ARGUMENT',
      'pool: Expected a pad smaller than the kernel for pad but received 2x2 with kernel 2x2');
    await assertThrowsCode(t, () => poolForward(x, Tensor.empty([1, 2, 2, 2], dev), mask, { kernel: 2, stride: 2 }),
      'SHAPE_MISMATCH', 'pool: y has shape 1x2x2x2 but 1x2x3x3 was expected');
    await assertThrowsCode(t, () => poolForward(x, y, null, { kernel: 2, stride: 2 }), 'INVALID_ARGUMENT',
      'pool: MAX pooling needs a mask tensor of shape 1x2x3x3');
    await assertThrowsCode(t, () => poolForward(x, y, mask, { method: 'AVE', kernel: 2, stride: 2 }), 'INVALID_ARGUMENT',
      'pool: AVE pooling takes no mask (pass null)');
    await assertThrowsCode(t, () => poolForward(Tensor.zeros([2, 5, 5], dev), y, mask, { kernel: 2 }), 'SHAPE_MISMATCH',
      'pool: x must be 4-D (N, C, H, W) but has shape 2x5x5');
    await assertThrowsCode(t, () => poolForward(x, y, mask, { kernel: 2, strid: 2 } as never), 'INVALID_ARGUMENT',
      "pool: unknown option 'strid'; did you mean 'stride'?");
    await assertThrowsCode(t, () => poolForward(x, y, mask, { kernal: 2 } as never), 'INVALID_ARGUMENT',
      "pool: unknown option 'kernal'; did you mean 'kernel'?");
    await assertThrowsCode(t, () => poolForward(x, y, mask, { kernel: 0 }), 'INVALID_ARGUMENT',
      'pool: Expected a positive integer or a [height, width] pair of them for kernel but received 0');
    await assertThrowsCode(t, () => poolForward(x, y, mask, { method: 'MIN' as never, kernel: 2 }), 'INVALID_ARGUMENT',
      'pool: Expected "MAX" or "AVE" for method but received "MIN"');
    await assertThrowsCode(t, () => poolForward(x, y, mask, { kernel: 7 }), 'SHAPE_MISMATCH',
      'pool: kernel 7x7 is larger than the padded input 5x5 (x has shape 1x2x5x5)');
    await assertThrowsCode(t, () => poolBackward(x, Tensor.empty([1, 2, 3, 3], dev), mask, Tensor.empty([1, 2, 4, 4], dev),
      { kernel: 2, stride: 2 }), 'SHAPE_MISMATCH', 'pool backward: dx has shape 1x2x4x4 but 1x2x5x5 was expected');
  });
});
