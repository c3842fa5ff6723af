// lr-policy.test.ts — each learning-rate policy against Caffe's formula (GetLearningRate), iter read before the update.
import t from 'tap';
import { learningRate, type LrPolicyParameters } from '../../lib/solver/lr-policy.js';

const base: LrPolicyParameters = { base_lr: 0.01, gamma: 0.1, power: 0.75, stepsize: 100, stepvalue: [], max_iter: 1000 };
const rate = (fields: Partial<LrPolicyParameters>, iter: number) => learningRate({ ...base, ...fields }, iter);

t.test('fixed, and an absent policy', async (t) => {
  t.equal(rate({ lr_policy: 'fixed' }, 12345), 0.01);
  t.equal(rate({}, 7), 0.01);
});

t.test('step: base_lr * gamma^floor(iter/stepsize)', async (t) => {
  t.equal(rate({ lr_policy: 'step' }, 0), 0.01);
  t.equal(rate({ lr_policy: 'step' }, 99), 0.01);
  t.ok(Math.abs(rate({ lr_policy: 'step' }, 100) - 0.001) < 1e-15);
  t.ok(Math.abs(rate({ lr_policy: 'step' }, 250) - 0.0001) < 1e-15);
});

t.test('exp: base_lr * gamma^iter', async (t) => {
  t.equal(rate({ lr_policy: 'exp', gamma: 0.99 }, 10), 0.01 * Math.pow(0.99, 10));
});

t.test('inv: base_lr * (1 + gamma*iter)^-power (LeNet)', async (t) => {
  const lenet = { lr_policy: 'inv', gamma: 1e-4, power: 0.75 };
  t.equal(rate(lenet, 0), 0.01);
  t.equal(rate(lenet, 100), 0.01 * Math.pow(1.01, -0.75));
  t.ok(Math.abs(rate(lenet, 10000) - 0.01 * Math.pow(2, -0.75)) < 1e-15);
});

t.test('multistep: gamma to the number of stepvalues reached', async (t) => {
  const multistep = { lr_policy: 'multistep', gamma: 0.5, stepvalue: [10, 20, 40] };
  t.same([0, 9, 10, 19, 20, 39, 40, 1000].map((iter) => rate(multistep, iter)),
    [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.00125, 0.00125]);
});

t.test('poly: base_lr * (1 - iter/max_iter)^power', async (t) => {
  t.equal(rate({ lr_policy: 'poly', power: 2 }, 250), 0.01 * 0.75 * 0.75);
  t.equal(rate({ lr_policy: 'poly', power: 2 }, 1000), 0);
});

t.test('sigmoid: base_lr / (1 + exp(-gamma*(iter - stepsize)))', async (t) => {
  t.equal(rate({ lr_policy: 'sigmoid', gamma: -0.05 }, 100), 0.005);
  t.equal(rate({ lr_policy: 'sigmoid', gamma: -0.05 }, 140), 0.01 / (1 + Math.exp(0.05 * 40)));
});

t.test('bad policies and fields are refused', async (t) => {
  t.throws(() => rate({ lr_policy: 'stepp' }, 0), { code: 'INVALID_SOLVER', message: /Unknown lr_policy "stepp"; did you mean "step"\?/ });
  t.throws(() => rate({ lr_policy: 'step', stepsize: 0 }, 0), { message: /needs stepsize > 0/ });
  t.throws(() => rate({ lr_policy: 'poly', max_iter: 0 }, 0), { message: /needs max_iter > 0/ });
  t.throws(() => rate({ lr_policy: 'multistep', stepvalue: [5, 5] }, 0), { message: /increasing stepvalue/ });
});
