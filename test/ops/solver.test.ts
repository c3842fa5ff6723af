// solver.test.ts — one blob's update for every Caffe solver, two steps against values worked out by hand.
import t from 'tap';
import { Tensor } from '../../lib/index.js';
import { prepareSolverUpdate, solverUpdate, type SolverType, type SolverUpdateOptions } from '../../lib/ops/solver.js';
import { assertClose, assertThrowsCode, forEachDevice, randomArray, rng } from '../helpers/index.js';

const random = rng(61);

// The blob every hand-worked case starts from, and the gradients of its two steps.
const W0 = [1, -2, 0];
const GRADIENTS = [[0.1, 0.2, -0.3], [-0.05, 0.4, 0.25]];

interface HandCase { type: SolverType; options: Partial<SolverUpdateOptions>; l2: number[][]; l1: number[][] }

// Weights after step 1 and step 2 with weightDecay 0.01, L2 then L1 (sign(0) = 0 under L1).
// SGD, lr 0.1, momentum 0.9, L2:
//   step 1: g = [0.1 + 0.01, 0.2 - 0.02, -0.3 + 0] = [0.11, 0.18, -0.3]; h = 0.1*g = [0.011, 0.018, -0.03]
//           w = [0.989, -2.018, 0.03]
//   step 2: g = [-0.05 + 0.00989, 0.4 - 0.02018, 0.25 + 0.0003] = [-0.04011, 0.37982, 0.2503]
//           h = 0.9*h + 0.1*g = [0.005889, 0.054182, -0.00197]; w = [0.983111, -2.072182, 0.03197]
// The others follow params.h the same way (worked in float64, kept to 10 digits).
const HAND_CASES: HandCase[] = [
  { type: 'SGD', options: { learningRate: 0.1, momentum: 0.9 },
    l2: [[0.989, -2.018, 0.03], [0.983111, -2.072182, 0.03197]],
    l1: [[0.989, -2.019, 0.03], [0.9831, -2.0751, 0.031]] },
  { type: 'Nesterov', options: { learningRate: 0.1, momentum: 0.9 },
    l2: [[0.9791, -2.0342, 0.057], [0.97782971, -2.12091502, 0.0336917]],
    l1: [[0.9791, -2.0361, 0.057], [0.97779, -2.12559, 0.0319]] },
  { type: 'AdaGrad', options: { learningRate: 0.1, delta: 1e-6 },
    l2: [[0.9000009091, -2.0999994444, 0.0999996667], [0.9349261738, -2.1903292889, 0.0358306369]],
    l1: [[0.9000009091, -2.0999994737, 0.0999996667], [0.9341749234, -2.1898982533, 0.0345067778]] },
  { type: 'RMSProp', options: { learningRate: 0.1, rmsDecay: 0.98, delta: 1e-6 },
    l2: [[0.2929386704, -2.7070790045, 0.7070901149], [0.5734857255, -3.3450841723, 0.2443175324]],
    l1: [[0.2929386704, -2.7070804664, 0.7070901149], [0.5367356163, -3.3439747646, 0.2413251223]] },
  { type: 'AdaDelta', options: { learningRate: 1, momentum: 0.95, delta: 1e-6 },
    l2: [[0.9955315554, -2.0044707563, 0.0044716391], [0.9977418608, -2.0102115319, 0.0003617458]],
    l1: [[0.9955315554, -2.0044708977, 0.0044716391], [0.9977396954, -2.0101829746, 0.0002695694]] },
  { type: 'Adam', options: { learningRate: 0.1, momentum: 0.9, momentum2: 0.999, delta: 1e-6 },
    l2: [[0.9000287397, -2.0999824349, 0.0999894602], [0.8632567893, -2.1959336236, 0.1036048439]],
    l1: [[0.9000287397, -2.0999833592, 0.0999894602], [0.8625125239, -2.1962145467, 0.1018642998]] },
];

const twoHistories = (type: SolverType) => type === 'AdaDelta' || type === 'Adam';

/** A float64 version of params.h for any blob: returns the weights after each step. */
function referenceSteps(type: SolverType, o: Required<Omit<SolverUpdateOptions, 'type'>>, w0: Float32Array,
  gradients: Float32Array[]): Float64Array[] {
  const w = Float64Array.from(w0), h = new Float64Array(w.length), h2 = new Float64Array(w.length);
  return gradients.map((gradient, step) => {
    const t = step + 1;
    const correction = Math.sqrt(1 - o.momentum2 ** t) / (1 - o.momentum ** t);
    for (let i = 0; i < w.length; i++) {
      let g = gradient[i] + o.weightDecay * (o.regularization === 'L2' ? w[i] : Math.sign(w[i]));
      let update = 0;
      if (type === 'SGD') update = h[i] = o.momentum * h[i] + o.learningRate * g;
      else if (type === 'Nesterov') {
        const previous = h[i];
        h[i] = o.momentum * previous + o.learningRate * g;
        update = (1 + o.momentum) * h[i] - o.momentum * previous;
      } else if (type === 'AdaGrad') { h[i] += g * g; update = (o.learningRate * g) / (Math.sqrt(h[i]) + o.delta); }
      else if (type === 'RMSProp') {
        h[i] = o.rmsDecay * h[i] + (1 - o.rmsDecay) * g * g;
        update = (o.learningRate * g) / (Math.sqrt(h[i]) + o.delta);
      } else if (type === 'AdaDelta') {
        h[i] = o.momentum * h[i] + (1 - o.momentum) * g * g;
        g *= Math.sqrt((h2[i] + o.delta) / (h[i] + o.delta));
        h2[i] = o.momentum * h2[i] + (1 - o.momentum) * g * g;
        update = o.learningRate * g;
      } else {
        h[i] = o.momentum * h[i] + (1 - o.momentum) * g;
        h2[i] = o.momentum2 * h2[i] + (1 - o.momentum2) * g * g;
        update = (o.learningRate * correction * h[i]) / (Math.sqrt(h2[i]) + o.delta);
      }
      w[i] -= update;
    }
    return Float64Array.from(w);
  });
}

forEachDevice(t, async (t, dev) => {
  for (const hand of HAND_CASES)
    for (const regularization of ['L2', 'L1'] as const)
      t.test(`${hand.type} ${regularization}: two steps by hand`, async (t) => {
        const weights = Tensor.from(W0, [3], dev);
        const history1 = Tensor.zeros([3], dev);
        const history2 = twoHistories(hand.type) ? Tensor.zeros([3], dev) : null;
        const expected = regularization === 'L2' ? hand.l2 : hand.l1;
        for (let step = 0; step < 2; step++) {
          const before = await weights.data();
          const gradient = Tensor.from(GRADIENTS[step], [3], dev);
          solverUpdate(weights, gradient, history1, history2,
            { type: hand.type, weightDecay: 0.01, regularization, iteration: step, learningRate: 0.1, ...hand.options });
          const after = await weights.data();
          assertClose(t, after, expected[step], `weights after step ${step + 1}`);
          assertClose(t, await gradient.data(), Array.from(before, (v, i) => v - after[i]),
            `the gradient holds the applied update (step ${step + 1})`, 1e-4);
        }
      });

  t.test('a large blob (split over threads) against the float64 formulas', async (t) => {
    const n = 50_021;
    for (const type of ['SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam'] as const) {
      const options = {
        learningRate: 0.05, momentum: type === 'AdaGrad' || type === 'RMSProp' ? 0 : 0.9, momentum2: 0.999,
        rmsDecay: 0.99, delta: 1e-6, weightDecay: 0.005, regularization: 'L2' as const, iteration: 0,
      };
      const w0 = randomArray(n, random);
      const gradients = [randomArray(n, random), randomArray(n, random)];
      const expected = referenceSteps(type, options, w0, gradients);
      const weights = Tensor.from(w0, [n], dev), history1 = Tensor.zeros([n], dev);
      const history2 = twoHistories(type) ? Tensor.zeros([n], dev) : null;
      for (let step = 0; step < 2; step++) {
        solverUpdate(weights, Tensor.from(gradients[step], [n], dev), history1, history2,
          { ...options, type, iteration: step });
        assertClose(t, await weights.data(), expected[step], `${type} step ${step + 1}`);
      }
    }
  });

  t.test('weight decay 0 skips regularization', async (t) => {
    const weights = Tensor.from([3, -4], [2], dev);
    solverUpdate(weights, Tensor.from([1, 1], [2], dev), Tensor.zeros([2], dev), null, { type: 'SGD', learningRate: 0.5 });
    t.same(Array.from(await weights.data()), [2.5, -4.5]);
  });

  t.test('argument errors', async (t) => {
    const w = Tensor.zeros([4], dev), g = Tensor.zeros([4], dev), h = Tensor.zeros([4], dev);
    await assertThrowsCode(t, () => solverUpdate(w, g, h, null, { type: 'Adam', learningRate: 0.1 }), 'INVALID_ARGUMENT',
      'solver update: Adam needs history2 (a tensor shaped like weights)');
    await assertThrowsCode(t, () => solverUpdate(w, g, h, Tensor.zeros([4], dev), { type: 'SGD', learningRate: 0.1 }),
      'INVALID_ARGUMENT', 'solver update: SGD keeps one history; pass null for history2');
    await assertThrowsCode(t, () => solverUpdate(w, Tensor.zeros([5], dev), h, null, { type: 'SGD', learningRate: 0.1 }),
      'SHAPE_MISMATCH', 'solver update: gradient has shape 5 (5 elements) but 4 elements were expected');
    await assertThrowsCode(t, () => solverUpdate(w, g, h, null, { type: 'Sgd' as never, learningRate: 0.1 }),
      'INVALID_ARGUMENT',
      'solver update: Expected "SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta" or "Adam" for type but received "Sgd"');
    await assertThrowsCode(t, () => solverUpdate(w, g, h, null, { type: 'SGD', learningRate: Number.POSITIVE_INFINITY }),
      'INVALID_ARGUMENT', 'solver update: Expected a finite number for learningRate but received Infinity');
    await assertThrowsCode(t, () => solverUpdate(w, g, h, null, { type: 'SGD', learningRate: 0.1, regularization: 'L3' as never }),
      'INVALID_ARGUMENT', 'solver update: Expected "L2" or "L1" for regularization but received "L3"');
    await assertThrowsCode(t, () => solverUpdate(w, g, h, null, { type: 'SGD', learningRate: 0.1, momentun: 0.9 } as never),
      'INVALID_ARGUMENT', "solver update: unknown option 'momentun'; did you mean 'momentum'?");
  });
});

t.test('a prepared update equals solverUpdate step for step, and checks its rate', async (t) => {
  const random = rng(99);
  const w = randomArray(1001, random), g = randomArray(1001, random);
  const make = () => ({ w: Tensor.from(w, [1001]), g: Tensor.from(g, [1001]), h1: Tensor.zeros([1001]), h2: Tensor.zeros([1001]) });
  const a = make(), b = make();
  const options = { type: 'Adam' as const, momentum: 0.9, momentum2: 0.999, weightDecay: 0.01 };
  const run = prepareSolverUpdate(a.w, a.g, a.h1, a.h2, { ...options, learningRate: 0 });
  for (const [rate, iteration] of [[0.01, 0], [0.005, 1]] as const) {
    run(rate, iteration);
    solverUpdate(b.w, b.g, b.h1, b.h2, { ...options, learningRate: rate, iteration });
  }
  t.same(Array.from(await a.w.data()), Array.from(await b.w.data()), 'same weights after two steps');
  await assertThrowsCode(t, () => run(Number.NaN, 2), 'INVALID_ARGUMENT',
    'solver update: Expected a finite learning rate and an iteration count but received NaN and 2');
  a.w.dispose();
  await assertThrowsCode(t, () => run(0.01, 2), 'DISPOSED', /solver update: weights .* was disposed/);
});
