// conv.test.ts — 2-D convolution against a float64 reference, gradients by finite differences, accumulation, errors.
import t from 'tap';
import { Tensor } from '../../lib/index.js';
import {
  conv2dBackwardBias, conv2dBackwardData, conv2dBackwardFilter, conv2dForward, type ConvOptions,
} from '../../lib/ops/conv.js';
import { assertClose, assertThrowsCode, checkGradient, forEachDevice, poison, randomArray, rng } from '../helpers/index.js';

const random = rng(23);

interface Case {
  N: number; C: number; H: number; W: number; K: number; kernelH: number; kernelW: number;
  options: ConvOptions;
}

const pairOf = (value: number | [number, number] | undefined, fallback: number): [number, number] =>
  value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : value;

/** A case's pads, strides, dilations, output size and per-group channels and filters. */
function geometry(c: Case) {
  const [padH, padW] = pairOf(c.options.pad, 0);
  const [strideH, strideW] = pairOf(c.options.stride, 1);
  const [dilationH, dilationW] = pairOf(c.options.dilation, 1);
  const group = c.options.group ?? 1;
  const outH = Math.floor((c.H + 2 * padH - (dilationH * (c.kernelH - 1) + 1)) / strideH) + 1;
  const outW = Math.floor((c.W + 2 * padW - (dilationW * (c.kernelW - 1) + 1)) / strideW) + 1;
  return { padH, padW, strideH, strideW, dilationH, dilationW, outH, outW, channels: c.C / group, filters: c.K / group };
}

/** Plain float64 convolution, straight from the formula in lib/ops/conv.ts. */
function referenceForward(c: Case, x: Float32Array, w: Float32Array, b: Float32Array | null) {
  const { padH, padW, strideH, strideW, dilationH, dilationW, outH, outW, channels, filters } = geometry(c);
  const y = new Float64Array(c.N * c.K * outH * outW);
  for (let n = 0; n < c.N; n++)
    for (let k = 0; k < c.K; k++)
      for (let oh = 0; oh < outH; oh++)
        for (let ow = 0; ow < outW; ow++) {
          let sum = b ? b[k] : 0;
          for (let ch = 0; ch < channels; ch++)
            for (let i = 0; i < c.kernelH; i++)
              for (let j = 0; j < c.kernelW; j++) {
                const h = oh * strideH - padH + i * dilationH, col = ow * strideW - padW + j * dilationW;
                if (h < 0 || h >= c.H || col < 0 || col >= c.W) continue;
                const input = Math.floor(k / filters) * channels + ch;
                sum += x[((n * c.C + input) * c.H + h) * c.W + col] * w[((k * channels + ch) * c.kernelH + i) * c.kernelW + j];
              }
          y[((n * c.K + k) * outH + oh) * outW + ow] = sum;
        }
  return { y, shape: [c.N, c.K, outH, outW] };
}

/** Float64 backward data and filter gradients: every product of the forward formula, distributed back. */
function referenceBackward(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const { padH, padW, strideH, strideW, dilationH, dilationW, outH, outW, channels, filters } = geometry(c);
  const dx = new Float64Array(x.length), dw = new Float64Array(w.length);
  for (let n = 0; n < c.N; n++)
    for (let k = 0; k < c.K; k++)
      for (let oh = 0; oh < outH; oh++)
        for (let ow = 0; ow < outW; ow++) {
          const g = dy[((n * c.K + k) * outH + oh) * outW + ow];
          for (let ch = 0; ch < channels; ch++)
            for (let i = 0; i < c.kernelH; i++)
              for (let j = 0; j < c.kernelW; j++) {
                const h = oh * strideH - padH + i * dilationH, col = ow * strideW - padW + j * dilationW;
                if (h < 0 || h >= c.H || col < 0 || col >= c.W) continue;
                const xi = ((n * c.C + Math.floor(k / filters) * channels + ch) * c.H + h) * c.W + col;
                const wi = ((k * channels + ch) * c.kernelH + i) * c.kernelW + j;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
        }
  return { dx, dw };
}

const cases: Array<[string, Case]> = [
  ['batch 1, 3x3 pad 1', { N: 1, C: 3, H: 7, W: 9, K: 5, kernelH: 3, kernelW: 3, options: { pad: 1 } }],
  ['batch 3, group 2, stride 2, non-square', { N: 3, C: 4, H: 9, W: 7, K: 6, kernelH: 3, kernelW: 2, options: { pad: 1, stride: 2, group: 2 } }],
  ['dilation 2, group 3', { N: 2, C: 6, H: 11, W: 10, K: 9, kernelH: 3, kernelW: 3, options: { pad: 2, dilation: 2, group: 3 } }],
  ['depthwise (group = C)', { N: 2, C: 6, H: 8, W: 8, K: 6, kernelH: 3, kernelW: 3, options: { pad: 1, group: 6 } }],
  ['1x1 pointwise, group 2', { N: 5, C: 8, H: 6, W: 5, K: 12, kernelH: 1, kernelW: 1, options: { group: 2 } }],
  ['1x1 with pad and stride', { N: 2, C: 5, H: 6, W: 7, K: 7, kernelH: 1, kernelW: 1, options: { pad: 1, stride: 2 } }],
  ['AlexNet conv1 geometry (k11 s4)', { N: 2, C: 3, H: 23, W: 19, K: 20, kernelH: 11, kernelW: 11, options: { stride: 4 } }],
  ['per-axis pad/stride/dilation', { N: 3, C: 6, H: 10, W: 12, K: 6, kernelH: 2, kernelW: 4, options: { pad: [1, 2], stride: [2, 1], dilation: [1, 2], group: 3 } }],
  ['larger, two threads per image batch', { N: 4, C: 16, H: 13, W: 13, K: 24, kernelH: 5, kernelW: 5, options: { pad: 2, group: 2 } }],
  // Outputs of fewer than 384 positions are lowered several images to one GEMM (native/cpu/gemm/convolution.cpp):
  // LeNet's conv2 itself; a LeNet-like batch that splits into uneven runs of 6 images; LeNet's conv1 and an
  // image of 20x20 outputs, lowered image by image.
  ['LeNet conv2 (batch 64, several images per GEMM)', { N: 64, C: 20, H: 12, W: 12, K: 50, kernelH: 5, kernelW: 5, options: {} }],
  ['LeNet-like, uneven runs of images', { N: 14, C: 4, H: 12, W: 12, K: 6, kernelH: 5, kernelW: 5, options: {} }],
  ['LeNet conv1 (one image per GEMM)', { N: 8, C: 1, H: 28, W: 28, K: 20, kernelH: 5, kernelW: 5, options: {} }],
  ['20x20 outputs, one image per GEMM, group 2', { N: 3, C: 4, H: 22, W: 22, K: 6, kernelH: 3, kernelW: 3, options: { group: 2 } }],
  // Same-size convolutions (stride 1, output as large as the input: AlexNet conv2..5) unfold each col row as
  // the shifted image plane (native/cpu/im2col_avx512.cpp): rows wider than a vector, outputs longer than
  // 64 positions, images side by side, a non-square kernel, and a small one for finite differences.
  ['same-size 3x3 pad 1, 19-wide rows, group 2', { N: 5, C: 6, H: 13, W: 19, K: 10, kernelH: 3, kernelW: 3, options: { pad: 1, group: 2 } }],
  ['same-size 5x5 pad 2, 27-wide rows (AlexNet conv2)', { N: 2, C: 4, H: 6, W: 27, K: 8, kernelH: 5, kernelW: 5, options: { pad: 2 } }],
  ['same-size 3x5 kernel, pad [1, 2]', { N: 3, C: 3, H: 9, W: 11, K: 4, kernelH: 3, kernelW: 5, options: { pad: [1, 2] } }],
  ['same-size 3x3 pad 1, small', { N: 3, C: 4, H: 5, W: 18, K: 6, kernelH: 3, kernelW: 3, options: { pad: 1, group: 2 } }],
  // Shallow stride-1 layers run the direct loops where the CPU has AVX-512 (native/cpu/gemm/direct.h):
  // filter tiles of 7+6, kernel rows of 5+2 taps, dy padded for backward data; one image split over
  // threads by filters; padding wider than the kernel (backward data then takes the GEMM path); dilation
  // on both axes; a depth just under and one just over the direct loops' limit (800); an image large enough
  // that the forward output is made in runs of lines.
  ['direct: 7x7 pad 3, 13 filters', { N: 3, C: 2, H: 9, W: 11, K: 13, kernelH: 7, kernelW: 7, options: { pad: 3 } }],
  ['direct: one image, 19 filters', { N: 1, C: 3, H: 10, W: 10, K: 19, kernelH: 3, kernelW: 3, options: { pad: 1 } }],
  ['direct: pad wider than the kernel', { N: 2, C: 2, H: 5, W: 6, K: 4, kernelH: 2, kernelW: 3, options: { pad: [2, 3] } }],
  ['direct: dilation [2, 3], group 2', { N: 2, C: 4, H: 12, W: 17, K: 10, kernelH: 3, kernelW: 4, options: { pad: [2, 3], dilation: [2, 3], group: 2 } }],
  ['direct: depth 792, 37 images', { N: 37, C: 88, H: 7, W: 9, K: 9, kernelH: 3, kernelW: 3, options: { pad: 1 } }],
  ['depth 828, past the direct limit', { N: 3, C: 92, H: 7, W: 9, K: 9, kernelH: 3, kernelW: 3, options: { pad: 1 } }],
  ['direct: a 300x300 image, output in runs of lines', { N: 1, C: 2, H: 300, W: 300, K: 3, kernelH: 3, kernelW: 3, options: { pad: 1 } }],
];

forEachDevice(t, async (t, dev) => {
  t.test('forward matches the float64 reference (output poisoned first)', async (t) => {
    for (const [name, c] of cases) {
      const channels = c.C / (c.options.group ?? 1);
      const x = randomArray(c.N * c.C * c.H * c.W, random);
      const w = randomArray(c.K * channels * c.kernelH * c.kernelW, random);
      const b = randomArray(c.K, random);
      const expected = referenceForward(c, x, w, b);
      const out = poison(Tensor.empty(expected.shape, dev));
      const y = conv2dForward(Tensor.from(x, [c.N, c.C, c.H, c.W], dev),
        Tensor.from(w, [c.K, channels, c.kernelH, c.kernelW], dev), Tensor.from(b, [c.K], dev), c.options, out);
      t.same(y.shape, expected.shape, `${name}: output shape`);
      assertClose(t, await y.data(), expected.y, name);
    }
  });

  t.test('backward data and filter match the float64 reference', async (t) => {
    for (const [name, c] of cases) {
      const channels = c.C / (c.options.group ?? 1);
      const xShape = [c.N, c.C, c.H, c.W], wShape = [c.K, channels, c.kernelH, c.kernelW];
      const x = randomArray(c.N * c.C * c.H * c.W, random), w = randomArray(c.K * channels * c.kernelH * c.kernelW, random);
      const { outH, outW } = geometry(c);
      const dyValues = randomArray(c.N * c.K * outH * outW, random);
      const expected = referenceBackward(c, x, w, dyValues);
      const dx = poison(Tensor.empty(xShape, dev));
      const dw = Tensor.zeros(wShape, dev);
      const dy = Tensor.from(dyValues, [c.N, c.K, outH, outW], dev);
      conv2dBackwardData(Tensor.from(w, wShape, dev), dy, dx, c.options);
      conv2dBackwardFilter(Tensor.from(x, xShape, dev), dy, dw, c.options);
      assertClose(t, await dx.data(), expected.dx, `${name}: backward data`);
      assertClose(t, await dw.data(), expected.dw, `${name}: backward filter`);
    }
  });

  t.test('forward without bias allocates the output', async (t) => {
    const [name, c] = cases[1];
    const x = randomArray(c.N * c.C * c.H * c.W, random), w = randomArray(c.K * 2 * 3 * 2, random);
    const y = conv2dForward(Tensor.from(x, [c.N, c.C, c.H, c.W], dev), Tensor.from(w, [c.K, 2, 3, 2], dev), null, c.options);
    assertClose(t, await y.data(), referenceForward(c, x, w, null).y, `${name}, no bias`);
  });

  for (const [name, c] of [cases[1], cases[7], cases[2], cases[10], cases[12], cases[16], cases[15]]) {
    t.test(`gradients by finite differences: ${name}`, async (t) => {
      const channels = c.C / (c.options.group ?? 1);
      const xShape = [c.N, c.C, c.H, c.W], wShape = [c.K, channels, c.kernelH, c.kernelW];
      const run = (inputs: Record<string, Float32Array>) =>
        conv2dForward(Tensor.from(inputs.x, xShape, dev), Tensor.from(inputs.w, wShape, dev),
          Tensor.from(inputs.b, [c.K], dev), c.options);
      await checkGradient(t, `convolution (${name})`, {
        inputs: {
          x: randomArray(c.N * c.C * c.H * c.W, random),
          w: randomArray(c.K * channels * c.kernelH * c.kernelW, random),
          b: randomArray(c.K, random),
        },
        forward: async (inputs) => run(inputs).data(),
        backward: async (inputs, dyValues) => {
          const y = run(inputs);
          const dy = Tensor.from(dyValues, y.shape, dev);
          const dx = poison(Tensor.empty(xShape, dev));
          const dw = Tensor.zeros(wShape, dev), db = Tensor.zeros([c.K], dev);
          conv2dBackwardData(Tensor.from(inputs.w, wShape, dev), dy, dx, c.options);
          conv2dBackwardFilter(Tensor.from(inputs.x, xShape, dev), dy, dw, c.options);
          conv2dBackwardBias(dy, db);
          return { x: await dx.data(), w: await dw.data(), b: await db.data() };
        },
      });
    });
  }

  t.test('filter and bias gradients accumulate', async (t) => {
    const [, c] = cases[2];
    const xShape = [c.N, c.C, c.H, c.W], wShape = [c.K, 2, 3, 3];
    const x = Tensor.from(randomArray(c.N * c.C * c.H * c.W, random), xShape, dev);
    const w = Tensor.from(randomArray(c.K * 2 * 9, random), wShape, dev);
    const y = conv2dForward(x, w, null, c.options);
    const dy = Tensor.from(randomArray(y.size, random), y.shape, dev);
    const once = Tensor.zeros(wShape, dev), onceBias = Tensor.zeros([c.K], dev);
    conv2dBackwardFilter(x, dy, once, c.options);
    conv2dBackwardBias(dy, onceBias);
    const start = randomArray(once.size, random), startBias = randomArray(c.K, random);
    const twice = Tensor.from(start, wShape, dev), twiceBias = Tensor.from(startBias, [c.K], dev);
    for (let r = 0; r < 2; r++) {
      conv2dBackwardFilter(x, dy, twice, c.options);
      conv2dBackwardBias(dy, twiceBias);
    }
    const single = await once.data(), singleBias = await onceBias.data();
    assertClose(t, await twice.data(), Array.from(start, (v, i) => v + 2 * single[i]), 'dw = start + 2 * gradient');
    assertClose(t, await twiceBias.data(), Array.from(startBias, (v, i) => v + 2 * singleBias[i]), 'db = start + 2 * gradient');
    const dx = poison(Tensor.empty(xShape, dev));
    conv2dBackwardData(w, dy, dx, c.options);
    const first = await dx.data();
    conv2dBackwardData(w, dy, dx, c.options);
    assertClose(t, await dx.data(), first, 'dx is overwritten, not accumulated');
  });

  t.test('bad input is a clear error', async (t) => {
    const x = Tensor.zeros([2, 4, 6, 6], dev), w = Tensor.zeros([6, 2, 3, 3], dev);
    await assertThrowsCode(t, () => conv2dForward(Tensor.zeros([4, 6, 6], dev), w, null, { group: 2 }), 'SHAPE_MISMATCH',
      'convolution: x must be 4-D ([N, C, H, W]) but has shape 4x6x6');
    await assertThrowsCode(t, () => conv2dForward(x, w, null), 'SHAPE_MISMATCH',
      'convolution: weight has shape 6x2x3x3 but 6x4x3x3 was expected');
    await assertThrowsCode(t, () => conv2dForward(x, w, null, { group: 3 }), 'INVALID_ARGUMENT',
      'convolution: group 3 does not divide the 4 input channels');
    await assertThrowsCode(t, () => conv2dForward(x, Tensor.zeros([5, 2, 3, 3], dev), null, { group: 2 }),
      'INVALID_ARGUMENT', 'convolution: group 2 does not divide the 5 output channels');
    await assertThrowsCode(t, () => conv2dForward(x, Tensor.zeros([6, 2, 9, 3], dev), null, { group: 2 }),
      'SHAPE_MISMATCH', /kernel 9x3 \(dilation 1x1\) is larger than the padded input 6x6, so the output would be empty/);
    await assertThrowsCode(t, () => conv2dForward(x, w, Tensor.zeros([5], dev), { group: 2 }), 'SHAPE_MISMATCH',
      'convolution: bias has shape 5 but 6 was expected');
    await assertThrowsCode(t, () => conv2dForward(x, w, null, { group: 2 }, Tensor.zeros([2, 6, 4, 5], dev)),
      'SHAPE_MISMATCH', 'convolution: out has shape 2x6x4x5 but 2x6x4x4 was expected');
    await assertThrowsCode(t, () => conv2dForward(x, w, null, { group: 2, pad: Infinity }), 'INVALID_ARGUMENT',
      'convolution: Expected a non-negative integer or a pair [h, w] of them for pad but received Infinity');
    await assertThrowsCode(t, () => conv2dForward(x, w, null, { group: 2, stride: Number.NaN }), 'INVALID_ARGUMENT',
      'convolution: Expected a positive integer or a pair [h, w] of them for stride but received NaN');
    await assertThrowsCode(t, () => conv2dForward(x, w, null, { group: 2, dilation: 0 }), 'INVALID_ARGUMENT',
      /Expected a positive integer or a pair \[h, w\] of them for dilation but received 0/);
    await assertThrowsCode(t, () => conv2dForward(x, w, null, { group: 1.5 }), 'INVALID_ARGUMENT',
      'convolution: Expected a positive integer for group but received 1.5');
    await assertThrowsCode(t, () => conv2dForward(x, w, null, { groups: 2 } as ConvOptions), 'INVALID_ARGUMENT',
      "convolution: unknown option 'groups'; did you mean 'group'?");
    await assertThrowsCode(t, () => conv2dBackwardData(w, Tensor.zeros([2, 6, 4, 3], dev), Tensor.zeros([2, 4, 6, 6], dev),
      { group: 2 }), 'SHAPE_MISMATCH', 'convolution backward data: dy has shape 2x6x4x3 but 2x6x4x4 was expected');
    await assertThrowsCode(t, () => conv2dBackwardFilter(x, Tensor.zeros([2, 6, 4, 4], dev), Tensor.zeros([6, 4, 3, 3], dev),
      { group: 2 }), 'SHAPE_MISMATCH', 'convolution backward filter: dweight has shape 6x4x3x3 but 6x2x3x3 was expected');
    await assertThrowsCode(t, () => conv2dBackwardBias(Tensor.zeros([2, 6, 4, 4], dev), Tensor.zeros([4], dev)),
      'SHAPE_MISMATCH', 'convolution backward bias: dbias has shape 4 but 6 was expected');
    await assertThrowsCode(t, () => conv2dForward(x, 'w' as unknown as Tensor, null), 'INVALID_ARGUMENT',
      'convolution: Expected a Tensor for weight but received "w"');
  });
});
