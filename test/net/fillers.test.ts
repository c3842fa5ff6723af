// fillers.test.ts — fillers' statistics against Caffe's definitions, reproducibility by seed, errors.
import t, { type Test } from 'tap';
import { Net, Random, fanSize, fillValues } from '../../lib/net/index.js';
import { assertThrowsCode } from '../helpers/index.js';
import { readFileSync } from 'node:fs';

function moments(values: Float32Array): { mean: number; std: number; min: number; max: number } {
  let sum = 0, squares = 0, min = Infinity, max = -Infinity;
  for (const v of values) {
    sum += v;
    squares += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(squares / values.length - mean * mean), min, max };
}

const near = (t: Test, actual: number, expected: number, tolerance: number, what: string) =>
  t.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual.toFixed(4)} within ${tolerance} of ${expected.toFixed(4)}`);

t.test('statistics', async (t) => {
  const random = new Random(42);
  const shape = [64, 32, 3, 3]; // fan_in 288, fan_out 576
  t.equal(fanSize(shape, { variance_norm: 'FAN_IN' }), 288, 'fan_in = count / shape[0]');
  t.equal(fanSize(shape, { variance_norm: 'FAN_OUT' }), 576, 'fan_out = count / shape[1]');
  t.equal(fanSize(shape, { variance_norm: 'AVERAGE' }), 432, 'average');
  t.ok(fillValues(undefined, [3, 4], random).every((v) => v === 0), 'absent filler: constant 0 (Caffe\'s default)');
  t.ok(fillValues({ type: 'constant', value: 2.5 }, [5], random).every((v) => v === 2.5), 'constant');
  const uniform = moments(fillValues({ type: 'uniform', min: -2, max: 3 }, shape, random));
  near(t, uniform.mean, 0.5, 0.05, 'uniform mean');
  t.ok(uniform.min >= -2 && uniform.max < 3, 'uniform range');
  const gaussian = moments(fillValues({ type: 'gaussian', mean: 1, std: 2 }, shape, random));
  near(t, gaussian.mean, 1, 0.05, 'gaussian mean');
  near(t, gaussian.std, 2, 0.05, 'gaussian std');
  for (const [norm, n] of [['FAN_IN', 288], ['FAN_OUT', 576], ['AVERAGE', 432]] as const) {
    const xavier = moments(fillValues({ type: 'xavier', variance_norm: norm }, shape, random));
    near(t, xavier.std, Math.sqrt(1 / n), 0.003, `xavier ${norm} std sqrt(1/n)`);
    t.ok(xavier.max <= Math.sqrt(3 / n), `xavier ${norm} bound sqrt(3/n)`);
    const msra = moments(fillValues({ type: 'msra', variance_norm: norm }, shape, random));
    near(t, msra.std, Math.sqrt(2 / n), 0.003, `msra ${norm} std sqrt(2/n)`);
    near(t, msra.mean, 0, 0.003, `msra ${norm} mean`);
  }
  const sparse = fillValues({ type: 'gaussian', sparse: 16 }, [64, 500], random);
  near(t, sparse.filter((v) => v !== 0).length / sparse.length, 16 / 64, 0.01, 'sparse keeps sparse/shape[0] of the values');
  const ball = fillValues({ type: 'positive_unitball' }, [4, 10], random);
  for (let row = 0; row < 4; row++) near(t, ball.slice(row * 10, row * 10 + 10).reduce((a, v) => a + v, 0), 1, 1e-5, `unit ball row ${row} sums to 1`);
  t.ok(ball.every((v) => v >= 0), 'unit ball positive');
  const bilinear = fillValues({ type: 'bilinear' }, [1, 1, 4, 4], random);
  t.same(Array.from(bilinear.slice(0, 4)), [0.0625, 0.1875, 0.1875, 0.0625], 'bilinear kernel for factor 2 (first row)');
});

t.test('errors', async (t) => {
  await assertThrowsCode(t, () => fillValues({ type: 'xaviar' as never }, [2, 2], new Random(1)), 'INVALID_ARGUMENT',
    /^unknown filler type 'xaviar'; did you mean 'xavier'\?/);
  await assertThrowsCode(t, () => fillValues({ type: 'uniform', sparse: 3 }, [2, 2], new Random(1)), 'INVALID_ARGUMENT',
    "filler 'uniform' does not take 'sparse' (only gaussian does)");
});

t.test('reproducible by seed', async (t) => {
  const a = new Random(7), b = new Random(7), c = new Random(8);
  const draw = (random: Random) => Array.from(fillValues({ type: 'gaussian' }, [50], random));
  t.same(draw(a), draw(b), 'same seed, same values');
  t.notSame(draw(new Random(7)), draw(c), 'another seed, other values');
  const lenet = readFileSync(new URL('../fixtures/net/lenet_input_layers.prototxt', import.meta.url), 'utf8');
  const weights = async (seed: number) => {
    const net = Net.fromPrototxt(lenet, { device: 'cpu', seed });
    const values = await Promise.all(net.learnableParams.map((param) => param.blob.data.data()));
    net.dispose();
    return values;
  };
  const equal = (a: Float32Array[], b: Float32Array[]) => a.every((array, i) => array.every((v, j) => v === b[i][j]));
  const [first, second, other] = [await weights(3), await weights(3), await weights(4)];
  t.ok(equal(first, second), 'a net built twice with one seed has the same weights');
  t.notOk(equal(first, other), 'another seed gives other weights');
});
