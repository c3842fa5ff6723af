// cross-check.test.ts — every op on the CPU and on CUDA with the same random data: the results agree
// to float32 tolerance (masks and integer outputs exactly). Without a usable GPU the whole file is
// one skipped test that prints why. CUDNET_CROSS_CHECK_REPORT=<file> writes each op's largest relative
// error per output as JSON (the GPU check's report); CUDNET_CROSS_CHECK_DEVICE=cpu lets the CPU stand
// in for the GPU, so the GPU check's rehearsal runs every case on a machine without one.
// CUDNET_CROSS_CHECK_TF32=1 runs the GPU side with TF32 tensor cores allowed (convolutions and GEMM),
// where agreement within 1e-3 is what TF32's 10-bit mantissa allows.
import { writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { Tensor, cudaUnavailableReason, device, devices, type DeviceName, type Shape } from '../../lib/index.js';
import { applyPrecision } from '../../lib/bench/run.js';
import * as ops from '../../lib/ops/index.js';
import { assertClose, poison, randomArray, relativeError, rng } from '../helpers/index.js';

type Outputs = Record<string, Tensor>;
const random = rng(7);
const standIn = process.env.CUDNET_CROSS_CHECK_DEVICE as DeviceName | undefined;
const gpu = standIn ?? devices().find((name) => name.startsWith('cuda:')) as DeviceName | undefined;
const tf32 = process.env.CUDNET_CROSS_CHECK_TF32 === '1';
/** Per case, per output: the largest relative error of the GPU's result against the CPU's. */
const agreement: Record<string, Record<string, number>> = {};

const size = (shape: Shape) => shape.reduce((a, b) => a * b, 1);
const values = (shape: Shape, low = -1, high = 1) => randomArray(size(shape), random, low, high);
/** A tensor on `device` holding `data`. */
const on = (device: DeviceName, data: Float32Array, shape: Shape) => Tensor.from(data, shape, device);
/** A NaN-filled tensor on `device`, so an element an op forgets to write fails. */
const empty = (device: DeviceName, shape: Shape) => poison(Tensor.empty(shape, device));

/** Where both devices give NaN (Caffe's 0/0 for an AVE window beyond the input), they agree: use 0. */
function sameNaNsAsZero(actual: Float32Array, expected: Float32Array): void {
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]) && Number.isNaN(actual[i])) actual[i] = expected[i] = 0;
  }
}

/** Runs `run` on the CPU and on the GPU and compares every output it returns. */
async function agree(t: Test, name: string, run: (device: DeviceName) => Outputs | Promise<Outputs>,
  tolerance = 1e-5, exact: string[] = []): Promise<void> {
  await t.test(name, async (t) => {
    const cpu = await run('cpu');
    const cuda = await run(gpu as DeviceName);
    for (const key of Object.keys(cpu)) {
      const expected = await cpu[key].data();
      const actual = await cuda[key].data();
      sameNaNsAsZero(actual, expected);
      (agreement[name] ??= {})[key] = relativeError(actual, expected);
      if (exact.includes(key)) t.same(Array.from(actual), Array.from(expected), `${key} is identical`);
      else assertClose(t, actual, expected, key, tf32 ? Math.max(tolerance, 1e-3) : tolerance);
    }
  });
}

async function elementwise(t: Test) {
  const shape = [3, 5, 7, 2];
  const x = values(shape), y = values(shape), positive = values(shape, 0.5, 2);
  await agree(t, 'axpby', (d) => ({ y: ops.axpby(0.7, on(d, x, shape), -1.3, on(d, y, shape)) }));
  await agree(t, 'axpby with beta 0 ignores NaN in y', (d) => ({ y: ops.axpby(2, on(d, x, shape), 0, empty(d, shape)) }));
  await agree(t, 'multiply', (d) => ({ y: ops.multiply(on(d, x, shape), on(d, y, shape), empty(d, shape)) }));
  const power = { power: 1.7, scale: 0.9, shift: 0.2 };
  await agree(t, 'power forward and backward', (d) => ({
    y: ops.powerForward(on(d, positive, shape), empty(d, shape), power),
    dx: ops.powerBackward(on(d, positive, shape), on(d, y, shape), empty(d, shape), power),
  }));
  await agree(t, 'eltwise max', (d) => {
    const out = empty(d, shape), mask = empty(d, shape), dx = empty(d, shape);
    ops.maxAccumulate(0, on(d, x, shape), out, mask);
    ops.maxAccumulate(1, on(d, y, shape), out, mask);
    ops.maxSelectBackward(1, mask, on(d, positive, shape), dx);
    return { out, mask, dx };
  }, 0, ['mask']);
  const channels = [5];
  const scale = values(channels), bias = values(channels);
  await agree(t, 'channel affine forward and backward (accumulating)', (d) => {
    const out = ops.channelAffineForward(on(d, x, shape), on(d, scale, channels), on(d, bias, channels), empty(d, shape));
    const dx = empty(d, shape), dscale = on(d, values(channels).fill(0.5), channels), dbias = Tensor.zeros(channels, d);
    ops.channelAffineBackward(on(d, x, shape), on(d, scale, channels), on(d, y, shape), { dx, dscale, dbias });
    return { out, dx, dscale, dbias };
  }, 1e-5);
  await agree(t, 'copy blocks', (d) => {
    const out = Tensor.zeros([40], d);
    ops.copyBlocks(4, 3, on(d, x, shape), 2, 7, out, 1, 9);
    return { out };
  }, 0);
  const big = [1 << 20];
  const a = values(big), b = values(big);
  await agree(t, 'dot, sum of squares, sum of |x| over 2^20 values', (d) => ({
    dot: ops.dot(on(d, a, big), on(d, b, big)),
    squares: ops.sumSquares(on(d, a, big)),
    abs: ops.sumAbs(on(d, a, big)),
  }), 1e-6);
}

async function dense(t: Test) {
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    const [M, N, K] = [37, 29, 53];
    const aShape = transA ? [K, M] : [M, K], bShape = transB ? [N, K] : [K, N];
    const a = values(aShape), b = values(bShape), c = values([M, N]);
    await agree(t, `gemm transA=${transA} transB=${transB} alpha 0.5 beta 2`, (d) => ({
      c: ops.gemm(on(d, a, aShape), on(d, b, bShape), on(d, c, [M, N]), { transA, transB, alpha: 0.5, beta: 2 }),
    }), 1e-5);
  }
  const x = values([16, 3, 4, 5]), w = values([10, 60]), bias = values([10]), dy = values([16, 10]);
  await agree(t, 'inner product forward and backward (parameter gradients accumulate)', (d) => {
    const y = ops.innerProductForward(on(d, x, [16, 3, 4, 5]), on(d, w, [10, 60]), on(d, bias, [10]));
    const dx = empty(d, [16, 3, 4, 5]), dweight = Tensor.zeros([10, 60], d, 0.25), dbias = Tensor.zeros([10], d, 1);
    ops.innerProductBackward(on(d, x, [16, 3, 4, 5]), on(d, w, [10, 60]), on(d, dy, [16, 10]), { dx, dweight, dbias });
    return { y, dx, dweight, dbias };
  }, 1e-5);
}

async function convolution(t: Test) {
  const cases: { name: string; x: number[]; w: number[]; options: ops.ConvOptions }[] = [
    { name: 'AlexNet conv1 (11x11 stride 4)', x: [4, 3, 51, 51], w: [16, 3, 11, 11], options: { stride: 4 } },
    { name: 'groups 2, pad 2', x: [3, 8, 13, 11], w: [12, 4, 5, 5], options: { pad: 2, group: 2 } },
    { name: 'rectangular kernel, stride and dilation', x: [2, 3, 17, 14], w: [5, 3, 3, 2],
      options: { pad: [1, 0], stride: [2, 1], dilation: [2, 3] } },
    { name: 'depthwise (group = channels)', x: [2, 6, 9, 9], w: [6, 1, 3, 3], options: { pad: 1, group: 6 } },
  ];
  for (const c of cases) {
    const x = values(c.x), w = values(c.w), bias = values([c.w[0]]);
    const yShape = ops.conv2dOutputShape(c.x, on('cpu', w, c.w), c.options);
    const dy = values(yShape);
    await agree(t, `convolution ${c.name}`, (d) => {
      const y = ops.conv2dForward(on(d, x, c.x), on(d, w, c.w), on(d, bias, [c.w[0]]), c.options);
      const dx = ops.conv2dBackwardData(on(d, w, c.w), on(d, dy, yShape), empty(d, c.x), c.options);
      const dweight = on(d, values(c.w).fill(0.5), c.w), dbias = Tensor.zeros([c.w[0]], d, -1);
      ops.conv2dBackwardFilter(on(d, x, c.x), on(d, dy, yShape), dweight, c.options);
      ops.conv2dBackwardFilter(on(d, x, c.x), on(d, dy, yShape), dweight, c.options);  // accumulates twice
      ops.conv2dBackwardBias(on(d, dy, yShape), dbias);
      return { y, dx, dweight, dbias };
    }, 1e-4);
  }
}

async function pooling(t: Test) {
  const cases: { name: string; x: number[]; options: ops.PoolOptions }[] = [
    { name: 'AlexNet 3x3 stride 2 (ceil rule)', x: [2, 4, 13, 13], options: { kernel: 3, stride: 2 } },
    { name: '9x10 k3 s2 → 4x5', x: [1, 3, 9, 10], options: { kernel: 3, stride: 2 } },
    { name: 'padded, clipped last window', x: [2, 2, 3, 3], options: { kernel: 2, stride: 2, pad: 1 } },
    { name: 'window beyond the input (stride > kernel)', x: [1, 2, 6, 7], options: { kernel: 2, stride: 3 } },
    { name: 'rectangular, padded', x: [2, 3, 11, 8], options: { kernel: [3, 2], stride: [2, 1], pad: [1, 1] } },
  ];
  for (const c of cases) {
    // Integer values make ties, so the first-maximum rule is exercised.
    const x = Float32Array.from(values(c.x, -3, 3), Math.round);
    for (const method of ['MAX', 'AVE'] as const) {
      const options = { ...c.options, method };
      const yShape = ops.poolOutputShape(on('cpu', x, c.x), options);
      const dy = values(yShape);
      await agree(t, `${method} pooling ${c.name}`, (d) => {
        const mask = method === 'MAX' ? empty(d, yShape) : null;
        const y = ops.poolForward(on(d, x, c.x), empty(d, yShape), mask, options);
        const dx = ops.poolBackward(on(d, x, c.x), on(d, dy, yShape), mask, empty(d, c.x), options);
        return (mask ? { y, mask, dx } : { y, dx }) as Outputs;
      }, 1e-6, ['mask']);
    }
  }
}

async function normalization(t: Test) {
  const shape = [2, 7, 5, 6];
  const x = values(shape), dy = values(shape);
  const settings: ops.LrnOptions[] = [
    { localSize: 5, alpha: 1e-4, beta: 0.75, k: 1 },
    { localSize: 3, alpha: 2, beta: 0.6, k: 2 },
    { localSize: 17, alpha: 1, beta: 0.75, k: 1 },  // beyond cuDNN's window: our kernel
    { localSize: 3, alpha: 1.5, beta: 0.75, k: 3, region: 'WITHIN_CHANNEL' },
  ];
  for (const options of settings) {
    await agree(t, `LRN ${JSON.stringify(options)}`, (d) => {
      const y = empty(d, shape), scale = empty(d, shape);
      ops.lrnForward(on(d, x, shape), y, scale, options);
      const dx = ops.lrnBackward(on(d, x, shape), y, scale, on(d, dy, shape), empty(d, shape), options);
      return { y, scale, dx };
    }, 1e-5);
  }
}

async function activations(t: Test) {
  const shape = [4, 3, 7, 9];
  const x = values(shape), dy = values(shape);
  x[0] = 0;  // the gradient at exactly 0 is the slope
  for (const negativeSlope of [0, 0.1]) {
    await agree(t, `ReLU slope ${negativeSlope}`, (d) => ({
      y: ops.reluForward(on(d, x, shape), empty(d, shape), { negativeSlope }),
      dx: ops.reluBackward(on(d, x, shape), on(d, dy, shape), empty(d, shape), { negativeSlope }),
    }), 0);
  }
  await agree(t, 'dropout draws the same mask on both devices', (d) => {
    const y = empty(d, shape), mask = empty(d, shape);
    ops.dropoutForward(on(d, x, shape), y, mask, { ratio: 0.3, seed: 123456789 });
    return { y, mask, dx: ops.dropoutBackward(mask, on(d, dy, shape), empty(d, shape)) };
  }, 0, ['mask']);
}

async function classification(t: Test) {
  const shape = [6, 10, 2, 3];
  const logits = values(shape, -4, 4), dy = values(shape);
  const labels = Float32Array.from({ length: 6 * 6 }, () => Math.floor(random() * 10));
  labels[3] = 255;
  labels[7] = 255;
  await agree(t, 'softmax forward and backward', (d) => {
    const y = ops.softmaxForward(on(d, logits, shape), empty(d, shape));
    return { y, dx: ops.softmaxBackward(y, on(d, dy, shape), empty(d, shape)) };
  }, 1e-5);
  for (const normalization of ['FULL', 'VALID', 'BATCH_SIZE', 'NONE'] as const) {
    await agree(t, `softmax loss, ${normalization}, ignore label 255`, (d) => {
      const prob = ops.softmaxForward(on(d, logits, shape), empty(d, shape));
      const options = { normalization, ignoreLabel: 255 };
      const loss = ops.softmaxLossForward(prob, on(d, labels, [6, 2, 3]), undefined, options);
      const dx = ops.softmaxLossBackward(prob, on(d, labels, [6, 2, 3]), Tensor.zeros([1], d, 0.5), empty(d, shape),
        options);
      return { loss, dx };
    }, 1e-5);
  }
  const scores = Float32Array.from(values(shape, 0, 4), Math.round);  // ties
  for (const topK of [1, 3]) {
    await agree(t, `accuracy top-${topK} with ties`, (d) => ({
      accuracy: ops.accuracy(on(d, scores, shape), on(d, labels, [6, 2, 3]), undefined, { topK, ignoreLabel: 255 }),
    }), 0);
  }
}

async function solvers(t: Test) {
  const shape = [1000];
  const w = values(shape), g = values(shape), h1 = values(shape, 0, 1), h2 = values(shape, 0, 1);
  for (const type of ['SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam'] as const) {
    for (const regularization of ['L2', 'L1'] as const) {
      await agree(t, `${type} update, ${regularization}`, (d) => {
        const weights = on(d, w, shape), gradient = on(d, g, shape), history1 = on(d, h1, shape);
        const history2 = ops.needsSecondHistory(type) ? on(d, h2, shape) : null;
        ops.solverUpdate(weights, gradient, history1, history2, {
          type, learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4, regularization, iteration: 3, delta: 1e-6,
        });
        return (history2 ? { weights, gradient, history1, history2 } : { weights, gradient, history1 }) as Outputs;
      }, 1e-5);
    }
  }
}

if (!gpu) {
  t.test('CPU and CUDA agree on every op', { skip: `no usable CUDA device: ${cudaUnavailableReason().split('\n')[0]}` },
    () => {});
} else {
  const precision = await applyPrecision(device(gpu), tf32 ? 'tf32' : 'fp32');
  await t.test('element-wise ops and reductions', elementwise);
  await t.test('GEMM and inner product', dense);
  await t.test('convolution', convolution);
  await t.test('pooling', pooling);
  await t.test('LRN', normalization);
  await t.test('ReLU and dropout', activations);
  await t.test('softmax, loss and accuracy', classification);
  await t.test('solver updates', solvers);
  const reportFile = process.env.CUDNET_CROSS_CHECK_REPORT;
  if (reportFile) writeFileSync(reportFile, JSON.stringify({ device: gpu, standIn: standIn !== undefined, precision, agreement }, null, 2));
}
