// elementwise.test.ts — element-wise ops and reductions against float64 references.
import t from 'tap';
import { Tensor, ops } from '../../lib/index.js';
import { assertClose, assertThrowsCode, checkGradient, forEachDevice, poison, randomArray, rng } from '../helpers/index.js';

const random = rng(11);

forEachDevice(t, async (t, dev) => {
  const n = 100_003; // odd and above the parallel threshold
  const xs = randomArray(n, random);
  const ys = randomArray(n, random);
  const x = Tensor.from(xs, [n], dev);

  t.test('axpby, axpy, scale', async (t) => {
    const y = Tensor.from(ys, [n], dev);
    ops.axpby(1.5, x, -0.25, y);
    assertClose(t, await y.data(), Array.from(xs, (v, i) => 1.5 * v - 0.25 * ys[i]), 'axpby');
    const z = poison(Tensor.empty([n], dev));
    ops.axpby(2, x, 0, z);
    assertClose(t, await z.data(), Array.from(xs, (v) => 2 * v), 'beta 0 never reads y (poisoned)');
    ops.scale(-3, z);
    assertClose(t, await z.data(), Array.from(xs, (v) => -6 * v), 'scale');
    y.dispose();
    z.dispose();
  });

  t.test('multiply, power forward and backward', async (t) => {
    const y = Tensor.from(ys, [n], dev);
    const product = ops.multiply(x, y);
    assertClose(t, await product.data(), Array.from(xs, (v, i) => v * ys[i]), 'multiply');
    const positive = Tensor.from(Array.from(xs, (v) => Math.abs(v) + 0.5), [n], dev);
    const options = { power: 1.7, scale: 0.8, shift: 0.3 };
    const powered = ops.powerForward(positive, poison(Tensor.empty([n], dev)), options);
    const pos = await positive.data();
    assertClose(t, await powered.data(), Array.from(pos, (v) => Math.pow(0.3 + 0.8 * v, 1.7)), 'power forward');
    const small = Float32Array.from(pos.slice(0, 37));
    await checkGradient(t, 'power', {
      inputs: { x: small },
      forward: async ({ x }) => {
        const input = Tensor.from(x, [x.length], dev);
        const out = ops.powerForward(input, Tensor.empty([x.length], dev), options);
        return out.data();
      },
      backward: async ({ x }, dy) => {
        const dx = poison(Tensor.empty([x.length], dev));
        ops.powerBackward(Tensor.from(x, [x.length], dev), Tensor.from(dy, [x.length], dev), dx, options);
        return { x: await dx.data() };
      },
    });
    for (const tensor of [y, product, positive, powered]) tensor.dispose();
  });

  t.test('eltwise max accumulate and select backward', async (t) => {
    const a = randomArray(1001, random), b = randomArray(1001, random), c = randomArray(1001, random);
    const y = poison(Tensor.empty([1001], dev)), mask = poison(Tensor.empty([1001], dev));
    [a, b, c].forEach((values, index) => ops.maxAccumulate(index, Tensor.from(values, [1001], dev), y, mask));
    const expectedMax = a.map((v, i) => Math.max(v, b[i], c[i]));
    assertClose(t, await y.data(), expectedMax, 'max of three');
    const expectedMask = Array.from(a, (v, i) => (c[i] > Math.max(v, b[i]) ? 2 : b[i] > v ? 1 : 0));
    t.same(Array.from(await mask.data()), expectedMask, 'mask holds the first winner');
    const dy = randomArray(1001, random);
    const dx = poison(Tensor.empty([1001], dev));
    ops.maxSelectBackward(1, mask, Tensor.from(dy, [1001], dev), dx);
    t.same(Array.from(await dx.data()), Array.from(dy, (g, i) => (expectedMask[i] === 1 ? g : 0)), 'routes to winner');
  });

  t.test('channel affine (Scale layer) forward and backward', async (t) => {
    const shape = [3, 5, 2, 7];
    const count = 3 * 5 * 14;
    const xv = randomArray(count, random), sv = randomArray(5, random), bv = randomArray(5, random);
    const xt = Tensor.from(xv, shape, dev), st = Tensor.from(sv, [5], dev), bt = Tensor.from(bv, [5], dev);
    const yt = ops.channelAffineForward(xt, st, bt, poison(Tensor.empty(shape, dev)));
    const channelOf = (i: number) => Math.floor(i / 14) % 5;
    assertClose(t, await yt.data(), Array.from(xv, (v, i) => v * sv[channelOf(i)] + bv[channelOf(i)]), 'forward');
    const dy = randomArray(count, random);
    const dx = poison(Tensor.empty(shape, dev));
    const dscale = Tensor.zeros([5], dev, 1), dbias = Tensor.zeros([5], dev, 1);
    ops.channelAffineBackward(xt, st, Tensor.from(dy, shape, dev), { dx, dscale, dbias });
    assertClose(t, await dx.data(), Array.from(dy, (g, i) => g * sv[channelOf(i)]), 'dx');
    const expectedScale = new Float64Array(5).fill(1), expectedBias = new Float64Array(5).fill(1);
    dy.forEach((g, i) => { expectedScale[channelOf(i)] += g * xv[i]; expectedBias[channelOf(i)] += g; });
    assertClose(t, await dscale.data(), expectedScale, 'dscale accumulates');
    assertClose(t, await dbias.data(), expectedBias, 'dbias accumulates');
  });

  t.test('copyBlocks (concat along channels)', async (t) => {
    const a = Tensor.from(randomArray(2 * 3 * 4, random), [2, 3, 4], dev);
    const b = Tensor.from(randomArray(2 * 5 * 4, random), [2, 5, 4], dev);
    const out = poison(Tensor.empty([2, 8, 4], dev));
    ops.copyBlocks(2, 12, a, 0, 12, out, 0, 32);
    ops.copyBlocks(2, 20, b, 0, 20, out, 12, 32);
    const [av, bv, ov] = [await a.data(), await b.data(), await out.data()];
    const expected = [...av.slice(0, 12), ...bv.slice(0, 20), ...av.slice(12), ...bv.slice(20)];
    t.same(Array.from(ov), expected);
    await assertThrowsCode(t, () => ops.copyBlocks(3, 12, a, 0, 12, out, 0, 32), 'SHAPE_MISMATCH',
      'copyBlocks: the blocks run past the end of a tensor');
  });

  t.test('dot, sumSquares, sumAbs in double', async (t) => {
    const y = Tensor.from(ys, [n], dev);
    let dotExpected = 0, squares = 0, abs = 0;
    for (let i = 0; i < n; i++) { dotExpected += xs[i] * ys[i]; squares += xs[i] * xs[i]; abs += Math.abs(xs[i]); }
    assertClose(t, await ops.dot(x, y).data(), [dotExpected], 'dot', 1e-6);
    assertClose(t, await ops.sumSquares(x).data(), [squares], 'sumSquares', 1e-6);
    assertClose(t, await ops.sumAbs(x).data(), [abs], 'sumAbs', 1e-6);
    const bad = Tensor.from([1, Number.NaN, 2], [3], dev);
    t.ok(Number.isNaN((await ops.sumAbs(bad).data())[0]), 'NaN propagates into sumAbs');
  });

  t.test('argument errors', async (t) => {
    const small = Tensor.zeros([3], dev);
    await assertThrowsCode(t, () => ops.axpby(1, x, 1, small), 'SHAPE_MISMATCH',
      `axpby: y has shape 3 (3 elements) but ${n} elements were expected`);
    await assertThrowsCode(t, () => ops.axpby(Number.NaN, small, 1, small), 'INVALID_ARGUMENT',
      'axpby: Expected a finite number for alpha but received NaN');
    await assertThrowsCode(t, () => ops.multiply(small, 'x' as never), 'INVALID_ARGUMENT',
      'multiply: Expected a Tensor for b but received "x"');
  });
});
