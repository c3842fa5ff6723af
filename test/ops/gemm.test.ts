// gemm.test.ts — GEMM and InnerProduct against float64 references, gradients by finite differences, errors.
import t from 'tap';
import { Tensor } from '../../lib/index.js';
import { gemm, innerProductBackward, innerProductForward } from '../../lib/ops/gemm.js';
import { assertClose, assertThrowsCode, checkGradient, forEachDevice, poison, randomArray, rng } from '../helpers/index.js';

const random = rng(31);

/** C = alpha * op(A) * op(B) + beta * C in float64 (C0 null means beta's term is absent). */
function referenceGemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  a: Float32Array, b: Float32Array, beta: number, c0: Float32Array | null): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += (transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
      c[i * N + j] = alpha * sum + (c0 ? beta * c0[i * N + j] : 0);
    }
  return c;
}

forEachDevice(t, async (t, dev) => {
  t.test('gemm: every transposition, odd shapes, alpha and beta', async (t) => {
    const shapes = [[1, 1, 1], [1, 9, 5], [7, 1, 3], [17, 33, 19], [49, 97, 130], [96, 50, 363], [3, 200, 1]];
    for (const [M, N, K] of shapes)
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          const a = randomArray(M * K, random), b = randomArray(K * N, random), c0 = randomArray(M * N, random);
          const A = Tensor.from(a, transA ? [K, M] : [M, K], dev), B = Tensor.from(b, transB ? [N, K] : [K, N], dev);
          const name = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} M=${M} N=${N} K=${K}`;
          const fresh = gemm(A, B, poison(Tensor.empty([M, N], dev)), { transA, transB, alpha: 1.5 });
          assertClose(t, await fresh.data(), referenceGemm(transA, transB, M, N, K, 1.5, a, b, 0, null),
            `${name}, beta 0 on a poisoned C`);
          const added = gemm(A, B, Tensor.from(c0, [M, N], dev), { transA, transB, alpha: -0.5, beta: 0.75 });
          assertClose(t, await added.data(), referenceGemm(transA, transB, M, N, K, -0.5, a, b, 0.75, c0),
            `${name}, alpha -0.5 beta 0.75`);
        }
  });

  t.test('gemm: few rows (M = 1..4, the unpacked small-M path), odd K and N, alpha and beta', async (t) => {
    // N and K past whole vectors and row groups; K = 1031 and N = 1037 cross the column blocks.
    const sizes = [[1, 1], [37, 1031], [1037, 19], [9, 3], [130, 257]];
    for (let M = 1; M <= 4; M++)
      for (const [N, K] of sizes)
        for (const transA of [false, true])
          for (const transB of [false, true]) {
            const a = randomArray(M * K, random), b = randomArray(K * N, random), c0 = randomArray(M * N, random);
            const A = Tensor.from(a, transA ? [K, M] : [M, K], dev), B = Tensor.from(b, transB ? [N, K] : [K, N], dev);
            const name = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} M=${M} N=${N} K=${K}`;
            const fresh = gemm(A, B, poison(Tensor.empty([M, N], dev)), { transA, transB, alpha: 0.75 });
            assertClose(t, await fresh.data(), referenceGemm(transA, transB, M, N, K, 0.75, a, b, 0, null),
              `${name}, beta 0 on a NaN-poisoned C`);
            const added = gemm(A, B, Tensor.from(c0, [M, N], dev), { transA, transB, alpha: -1.25, beta: 0.5 });
            assertClose(t, await added.data(), referenceGemm(transA, transB, M, N, K, -1.25, a, b, 0.5, c0),
              `${name}, alpha -1.25 beta 0.5`);
            const scaled = gemm(A, B, Tensor.from(c0, [M, N], dev), { transA, transB, alpha: 0, beta: 2 });
            assertClose(t, await scaled.data(), Array.from(c0, (v) => 2 * v), `${name}, alpha 0 beta 2`);
          }
  });

  t.test('gemm: a small batch (M = 5..16) against B [N,K], K in blocks, rows equal the rows alone', async (t) => {
    // K = 512 is exactly one block, 1031 and 1040 cross into a third and a second one; N = 37 and 13
    // leave single rows after the tiles of 6 (5 on AVX2).
    const sizes = [[37, 1031], [13, 512], [6, 1040], [1, 7], [64, 40]];
    for (const M of [5, 7, 8, 13, 16])
      for (const [N, K] of sizes)
        for (const transA of [false, true]) {
          const a = randomArray(M * K, random), b = randomArray(K * N, random), c0 = randomArray(M * N, random);
          const A = Tensor.from(a, transA ? [K, M] : [M, K], dev), B = Tensor.from(b, [N, K], dev);
          const name = `${transA ? 'T' : 'N'}T M=${M} N=${N} K=${K}`;
          const fresh = await gemm(A, B, poison(Tensor.empty([M, N], dev)), { transA, transB: true, alpha: 0.75 }).data();
          assertClose(t, fresh, referenceGemm(transA, true, M, N, K, 0.75, a, b, 0, null), `${name}, beta 0 on a NaN-poisoned C`);
          const added = gemm(A, B, Tensor.from(c0, [M, N], dev), { transA, transB: true, alpha: -1.25, beta: 0.5 });
          assertClose(t, await added.data(), referenceGemm(transA, true, M, N, K, -1.25, a, b, 0.5, c0), `${name}, alpha -1.25 beta 0.5`);
          if (dev !== 'cpu' || transA) continue;
          // The same products in the same order as one row at a time: bit for bit.
          let same = true;
          for (let i = 0; i < M && same; i++) {
            const row = await gemm(Tensor.from(a.subarray(i * K, (i + 1) * K), [1, K], dev), B, Tensor.empty([1, N], dev),
              { transB: true, alpha: 0.75 }).data();
            same = row.every((v, j) => Object.is(v, fresh[i * N + j]));
          }
          t.ok(same, `${name}: every row equals that row computed alone`);
        }
  });

  t.test('inner product forward on one image streams both weight layouts', async (t) => {
    const K = 1029, N = 67;
    for (const transpose of [false, true]) {
      const x = randomArray(K, random), w = randomArray(N * K, random), b = randomArray(N, random);
      const y = innerProductForward(Tensor.from(x, [1, K], dev), Tensor.from(w, transpose ? [K, N] : [N, K], dev),
        Tensor.from(b, [N], dev), { transpose }, poison(Tensor.empty([1, N], dev)));
      const expected = referenceGemm(false, !transpose, 1, N, K, 1, x, w, 0, null).map((v, i) => v + b[i]);
      assertClose(t, await y.data(), expected, `y = x * W^T + b, transpose ${transpose}`);
    }
  });

  for (const transpose of [false, true]) {
    t.test(`inner product forward and gradients (transpose ${transpose})`, async (t) => {
      const M = 3, inner = [2, 3, 5], K = 30, N = 7;
      const xShape = [M, ...inner], wShape = transpose ? [K, N] : [N, K];
      const x = randomArray(M * K, random), w = randomArray(N * K, random), b = randomArray(N, random);
      const y = innerProductForward(Tensor.from(x, xShape, dev), Tensor.from(w, wShape, dev), Tensor.from(b, [N], dev),
        { transpose }, poison(Tensor.empty([M, N], dev)));
      const expected = referenceGemm(false, !transpose, M, N, K, 1, x, w, 0, null).map((v, i) => v + b[i % N]);
      assertClose(t, await y.data(), expected, 'y = x * W^T + b');
      const run = (inputs: Record<string, Float32Array>) =>
        innerProductForward(Tensor.from(inputs.x, xShape, dev), Tensor.from(inputs.w, wShape, dev),
          Tensor.from(inputs.b, [N], dev), { transpose });
      await checkGradient(t, 'inner product', {
        inputs: { x: Float32Array.from(x), w: Float32Array.from(w), b: Float32Array.from(b) },
        forward: async (inputs) => run(inputs).data(),
        backward: async (inputs, dyValues) => {
          const dx = poison(Tensor.empty(xShape, dev)), dweight = Tensor.zeros(wShape, dev), dbias = Tensor.zeros([N], dev);
          innerProductBackward(Tensor.from(inputs.x, xShape, dev), Tensor.from(inputs.w, wShape, dev),
            Tensor.from(dyValues, [M, N], dev), { dx, dweight, dbias }, { transpose });
          return { x: await dx.data(), w: await dweight.data(), b: await dbias.data() };
        },
      });
    });
  }

  t.test('inner product parameter gradients accumulate', async (t) => {
    const M = 4, K = 11, N = 5;
    const x = Tensor.from(randomArray(M * K, random), [M, K], dev), w = Tensor.from(randomArray(N * K, random), [N, K], dev);
    const dy = Tensor.from(randomArray(M * N, random), [M, N], dev);
    const once = Tensor.zeros([N, K], dev), onceBias = Tensor.zeros([N], dev);
    innerProductBackward(x, w, dy, { dweight: once, dbias: onceBias });
    const twice = Tensor.zeros([N, K], dev, 0.5), twiceBias = Tensor.zeros([N], dev, -1);
    innerProductBackward(x, w, dy, { dweight: twice, dbias: twiceBias });
    innerProductBackward(x, w, dy, { dweight: twice, dbias: twiceBias });
    assertClose(t, await twice.data(), Array.from(await once.data(), (v) => 0.5 + 2 * v), 'dW = 0.5 + 2 * gradient');
    assertClose(t, await twiceBias.data(), Array.from(await onceBias.data(), (v) => -1 + 2 * v), 'db = -1 + 2 * gradient');
  });

  t.test('bad input is a clear error', async (t) => {
    const a = Tensor.zeros([3, 4], dev), b = Tensor.zeros([4, 5], dev), c = Tensor.zeros([3, 5], dev);
    await assertThrowsCode(t, () => gemm(a, Tensor.zeros([5, 5], dev), c), 'SHAPE_MISMATCH',
      'gemm: b has shape 5x5 but 4x5 was expected');
    await assertThrowsCode(t, () => gemm(a, b, Tensor.zeros([5, 3], dev)), 'SHAPE_MISMATCH',
      'gemm: c has shape 5x3 but 3x5 was expected');
    await assertThrowsCode(t, () => gemm(Tensor.zeros([3, 4, 1], dev), b, c), 'SHAPE_MISMATCH',
      'gemm: a must be 2-D ([M, K]) but has shape 3x4x1');
    await assertThrowsCode(t, () => gemm(a, b, c, { alpha: Infinity }), 'INVALID_ARGUMENT',
      'gemm: Expected a finite number for alpha but received Infinity');
    await assertThrowsCode(t, () => gemm(a, b, c, { beta: Number.NaN }), 'INVALID_ARGUMENT',
      'gemm: Expected a finite number for beta but received NaN');
    await assertThrowsCode(t, () => gemm(a, b, c, { transposeA: true } as never), 'INVALID_ARGUMENT',
      /gemm: unknown option 'transposeA'/);
    await assertThrowsCode(t, () => innerProductForward(a, Tensor.zeros([5, 3], dev), null), 'SHAPE_MISMATCH',
      'inner product: weight has shape 5x3 but 5x4 was expected');
    await assertThrowsCode(t, () => innerProductForward(a, Tensor.zeros([5, 4], dev), Tensor.zeros([4], dev)),
      'SHAPE_MISMATCH', 'inner product: bias has shape 4 but 5 was expected');
    await assertThrowsCode(t, () => innerProductBackward(a, Tensor.zeros([5, 4], dev), Tensor.zeros([3, 4], dev), {}),
      'SHAPE_MISMATCH', 'inner product backward: dy has shape 3x4 but 3x5 was expected');
  });
});
