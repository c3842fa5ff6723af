// solver.test.ts — the Solver's updates, multipliers, regularization, iter_size, clipping, events, snapshots and errors.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completeSnapshots, removeSnapshotLeftovers, Solver, type IterationEvent, type TestEvent } from '../../lib/solver/index.js';
import type { SolverParameterInput } from '../../lib/caffe/index.js';
import { assertClose } from '../helpers/index.js';
import { FakeNet, type FakeParamSpec } from './fixtures/fake-net.js';

const SPECS: FakeParamSpec[] = [
  { name: 'weights', initial: [1, -2, 0.5], target: [0, 1, 2], lrMult: 1, decayMult: 1 },
  { name: 'bias', initial: [0.3, -0.7], target: [1, -1], lrMult: 2, decayMult: 0 },
];

interface ReferenceSettings {
  type: string;
  base_lr: number;
  momentum?: number;
  momentum2?: number;
  rms_decay?: number;
  delta?: number;
  weight_decay?: number;
  regularization_type?: 'L1' | 'L2';
  clip_gradients?: number;
}

/** Caffe's formulas in float64, one element at a time, for `steps` updates of the quadratic loss. */
function reference(settings: ReferenceSettings, steps: number): number[][] {
  const { base_lr: rate, momentum = 0, momentum2 = 0.999, rms_decay: rmsDecay = 0.99, delta = 1e-8 } = settings;
  const weights = SPECS.map((spec) => [...spec.initial]);
  const first = SPECS.map((spec) => spec.initial.map(() => 0));
  const second = SPECS.map((spec) => spec.initial.map(() => 0));
  for (let iter = 0; iter < steps; iter++) {
    const gradients = SPECS.map((spec, p) => spec.initial.map((_, i) => weights[p]![i]! - spec.target[i]!));
    const norm = Math.sqrt(gradients.flat().reduce((sum, g) => sum + g * g, 0));
    const clip = settings.clip_gradients ?? -1;
    const clipScale = clip > 0 && norm > clip ? clip / norm : 1;
    SPECS.forEach((spec, p) => {
      spec.initial.forEach((_, i) => {
        const w = weights[p]![i]!;
        const decay = (settings.weight_decay ?? 0) * (spec.decayMult ?? 1);
        const g = gradients[p]![i]! * clipScale + decay * (settings.regularization_type === 'L1' ? Math.sign(w) : w);
        const lr = rate * (spec.lrMult ?? 1);
        let h = first[p]![i]!;
        let h2 = second[p]![i]!;
        let update: number;
        switch (settings.type) {
          case 'SGD': h = momentum * h + lr * g; update = h; break;
          case 'Nesterov': { const old = h; h = momentum * h + lr * g; update = (1 + momentum) * h - momentum * old; break; }
          case 'AdaGrad': h += g * g; update = (lr * g) / (Math.sqrt(h) + delta); break;
          case 'RMSProp': h = rmsDecay * h + (1 - rmsDecay) * g * g; update = (lr * g) / (Math.sqrt(h) + delta); break;
          case 'AdaDelta': {
            h = momentum * h + (1 - momentum) * g * g;
            const u = g * Math.sqrt((h2 + delta) / (h + delta));
            h2 = momentum * h2 + (1 - momentum) * u * u;
            update = lr * u;
            break;
          }
          case 'Adam': {
            h = momentum * h + (1 - momentum) * g;
            h2 = momentum2 * h2 + (1 - momentum2) * g * g;
            const t = iter + 1;
            update = (lr * Math.sqrt(1 - Math.pow(momentum2, t))) / (1 - Math.pow(momentum, t)) * h / (Math.sqrt(h2) + delta);
            break;
          }
          default: throw new Error(settings.type);
        }
        first[p]![i] = h;
        second[p]![i] = h2;
        weights[p]![i] = w - update;
      });
    });
  }
  return weights;
}

function solverFor(fields: SolverParameterInput, net = new FakeNet(SPECS), testNets: FakeNet[] = []): Solver {
  return new Solver({ lr_policy: 'fixed', ...fields }, { trainNet: net, testNets });
}

const CASES: ReferenceSettings[] = [
  { type: 'SGD', base_lr: 0.1, momentum: 0.9, weight_decay: 0.01 },
  { type: 'Nesterov', base_lr: 0.1, momentum: 0.9, weight_decay: 0.01 },
  { type: 'AdaGrad', base_lr: 0.1, weight_decay: 0.01 },
  { type: 'RMSProp', base_lr: 0.01, rms_decay: 0.98, weight_decay: 0.01 },
  { type: 'AdaDelta', base_lr: 1, momentum: 0.95, delta: 1e-6, weight_decay: 0.01 },
  { type: 'Adam', base_lr: 0.01, momentum: 0.9, momentum2: 0.999, weight_decay: 0.01 },
];

for (const settings of CASES) {
  t.test(`${settings.type}: two updates with lr_mult and decay_mult match Caffe's formulas`, async (t) => {
    const net = new FakeNet(SPECS);
    const solver = solverFor(settings, net);
    await solver.step(2);
    t.equal(solver.iter, 2);
    const expected = reference(settings, 2);
    const actual = await net.weights();
    actual.forEach((values, p) => assertClose(t, values, expected[p]!, `${settings.type} ${SPECS[p]!.name}`, 1e-5));
  });
}

t.test('SGD by hand: v = 0.9 v + 0.1 (g + 0.01 w); w -= v', async (t) => {
  const net = new FakeNet(SPECS);
  await solverFor({ type: 'SGD', base_lr: 0.1, momentum: 0.9, weight_decay: 0.01 }, net).step(2);
  const [weights, bias] = await net.weights();
  // weights[0]: g1 = 1 + 0.01 = 1.01, v1 = 0.101, w1 = 0.899;
  //             g2 = 0.899 + 0.00899, v2 = 0.0909 + 0.090799 = 0.181699, w2 = 0.717301
  assertClose(t, [weights![0]!], [0.717301], 'weights[0]');
  // bias[0] (lr_mult 2, decay_mult 0): g1 = -0.7, v1 = -0.14, w1 = 0.44; g2 = -0.56, v2 = -0.126 - 0.112, w2 = 0.678
  assertClose(t, [bias![0]!], [0.678], 'bias[0]');
});

t.test('legacy solver_type is read as the type', async (t) => {
  const net = new FakeNet(SPECS);
  const solver = Solver.fromPrototxt('solver_type: NESTEROV\nbase_lr: 0.1\nmomentum: 0.9\nlr_policy: "fixed"', { trainNet: net });
  t.equal(solver.parameter.type, 'Nesterov');
  await solver.step(2);
  const expected = reference({ type: 'Nesterov', base_lr: 0.1, momentum: 0.9 }, 2);
  (await net.weights()).forEach((values, p) => assertClose(t, values, expected[p]!, 'Nesterov'));
});

t.test('L1 regularization adds weight_decay * sign(w)', async (t) => {
  const settings: ReferenceSettings = { type: 'SGD', base_lr: 0.1, momentum: 0.5, weight_decay: 0.1, regularization_type: 'L1' };
  const net = new FakeNet(SPECS);
  await solverFor(settings, net).step(2);
  const expected = reference(settings, 2);
  (await net.weights()).forEach((values, p) => assertClose(t, values, expected[p]!, 'L1'));
});

t.test('iter_size accumulates the diffs of several passes and divides by iter_size', async (t) => {
  const settings: ReferenceSettings = { type: 'SGD', base_lr: 0.1, momentum: 0.9, weight_decay: 0.01 };
  const net = new FakeNet(SPECS);
  await solverFor({ ...settings, iter_size: 3 }, net).step(2);
  t.equal(net.forwardCount, 6, 'three forward passes per iteration');
  const expected = reference(settings, 2);
  (await net.weights()).forEach((values, p) => assertClose(t, values, expected[p]!, 'iter_size 3'));
});

t.test('clip_gradients scales every diff down to the global L2 norm', async (t) => {
  const settings: ReferenceSettings = { type: 'SGD', base_lr: 0.1, momentum: 0.9, weight_decay: 0.01, clip_gradients: 0.5 };
  const net = new FakeNet(SPECS);
  await solverFor(settings, net).step(2);
  const expected = reference(settings, 2);
  (await net.weights()).forEach((values, p) => assertClose(t, values, expected[p]!, 'clipped'));
  const unclipped = reference({ ...settings, clip_gradients: -1 }, 2);
  t.not(expected[0]![0], unclipped[0]![0], 'the clip is active in this case');
});

t.test('the lr policy is evaluated with iter before the increment', async (t) => {
  const solver = solverFor({ type: 'SGD', base_lr: 0.1, lr_policy: 'step', gamma: 0.5, stepsize: 2 });
  const rates: number[] = [];
  solver.on('iteration', (event) => rates.push(event.lr));
  await solver.step(5);
  t.same(rates, [0.1, 0.1, 0.05, 0.05, 0.025]);
});

t.test('events: iteration (smoothed loss over average_loss), test, display flag', async (t) => {
  const net = new FakeNet(SPECS);
  const testNet = net;
  const solver = solverFor({ type: 'SGD', base_lr: 0.1, average_loss: 2, display: 2, test_iter: [3], test_interval: 2 }, net, [testNet]);
  const iterations: IterationEvent[] = [];
  const tests: TestEvent[] = [];
  solver.on('iteration', (event) => iterations.push(event));
  solver.on('test', (event) => tests.push(event));
  await solver.step(4);
  t.same(iterations.map((event) => event.iter), [0, 1, 2, 3]);
  t.same(iterations.map((event) => event.display), [true, false, true, false]);
  const losses = iterations.map((event) => event.loss);
  assertClose(t, iterations.map((event) => event.smoothedLoss), [losses[0]!, (losses[0]! + losses[1]!) / 2,
    (losses[1]! + losses[2]!) / 2, (losses[2]! + losses[3]!) / 2], 'smoothed loss');
  t.ok(iterations.every((event) => event.imagesPerSecond > 0), 'images per second');
  t.same(tests.map((event) => event.iter), [0, 2], 'tested at iter 0 (test_initialization) and 2');
  t.equal(Object.keys(tests[0]!.outputs).join(), 'loss');
  t.equal(tests[1]!.outputs.loss, Math.fround(losses[2]!), 'the test loss is the loss of the same weights');
});

t.test('snapshot then restore continues exactly as an uninterrupted run', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-solver-'));
  const settings = { type: 'Adam', base_lr: 0.05, momentum: 0.9, weight_decay: 0.01, snapshot_prefix: join(folder, 'fake') };
  const straight = new FakeNet(SPECS);
  await solverFor(settings, straight).step(4);

  const first = solverFor({ ...settings, snapshot: 2 }, new FakeNet(SPECS));
  const snapshots: string[][] = [];
  first.on('snapshot', (event) => snapshots.push([event.paths.caffemodel, event.paths.solverstate]));
  await first.step(2);
  t.same(snapshots, [[join(folder, 'fake_iter_2.caffemodel'), join(folder, 'fake_iter_2.solverstate')]]);
  t.same((await readdir(folder)).sort(), ['fake_iter_2.caffemodel', 'fake_iter_2.solverstate'], 'no temporary files left');

  const resumedNet = new FakeNet(SPECS);
  const resumed = solverFor(settings, resumedNet);
  await resumed.restoreFromFile(join(folder, 'fake_iter_2.solverstate'));
  t.equal(resumed.iter, 2);
  await resumed.step(2);
  const expected = await straight.weights();
  (await resumedNet.weights()).forEach((values, p) => t.same(values, expected[p], `param ${p} equal`));

  const bytes = await readFile(join(folder, 'fake_iter_2.solverstate'));
  const other = solverFor({ ...settings, type: 'SGD' }, new FakeNet(SPECS));
  await t.rejects(other.restore(bytes), { code: 'SOLVERSTATE_MISMATCH', message: /Incorrect length of history blobs: the solverstate holds 4/ });
});

t.test('solve() trains to max_iter and snapshots at the end', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-solver-'));
  const solver = solverFor({ type: 'SGD', base_lr: 0.1, max_iter: 3, snapshot_prefix: join(folder, 'end') });
  await solver.solve();
  t.equal(solver.iter, 3);
  t.same((await readdir(folder)).sort(), ['end_iter_3.caffemodel', 'end_iter_3.solverstate']);
});

t.test('a snapshot is never half in place: its .caffemodel appears only once its .solverstate is written', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-solver-'));
  const solver = solverFor({ type: 'SGD', base_lr: 0.1, snapshot_prefix: join(folder, 'cut') });
  // The solverstate cannot be written (a folder has the temporary's name), as when the disk fills up.
  await mkdir(join(folder, `cut_iter_0.solverstate.${process.pid}.tmp`));
  await t.rejects(solver.snapshot(), { code: 'EISDIR' });
  t.same(await readdir(folder), [`cut_iter_0.solverstate.${process.pid}.tmp`], 'no .caffemodel and no temporary of it');
});

t.test('completeSnapshots lists the iterations whose two files are in place; removeSnapshotLeftovers clears what killed runs left', async (t) => {
  t.same(completeSnapshots(['s_iter_10.caffemodel', 's_iter_10.solverstate', 's_iter_20.caffemodel', 's_iter_20.solverstate.99.tmp',
    's_iter_5.solverstate', 's_iter_5.caffemodel', 'other_iter_30.caffemodel', 'other_iter_30.solverstate', 's_iter_x.caffemodel'], 's'), [5, 10]);
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-solver-'));
  const gone = spawnSync(process.execPath, ['-e', '']).pid!;
  const names = [
    's_iter_4.caffemodel', `s_iter_4.solverstate.${gone}.tmp`, `s_iter_6.caffemodel.${gone}.tmp`, `s_iter_6.solverstate.${gone}.tmp`,
    's_iter_2.caffemodel', 's_iter_2.solverstate', `s_iter_8.caffemodel.${process.ppid}.tmp`, 's_iter_1.caffemodel', `t_iter_3.caffemodel.${gone}.tmp`,
  ];
  for (const name of names) await writeFile(join(folder, name), 'x');
  t.same(await removeSnapshotLeftovers(folder, 's'), [
    's_iter_4.caffemodel', `s_iter_4.solverstate.${gone}.tmp`, `s_iter_6.caffemodel.${gone}.tmp`, `s_iter_6.solverstate.${gone}.tmp`,
  ].sort());
  t.same((await readdir(folder)).sort(), ['s_iter_1.caffemodel', 's_iter_2.caffemodel', 's_iter_2.solverstate', `s_iter_8.caffemodel.${process.ppid}.tmp`, `t_iter_3.caffemodel.${gone}.tmp`].sort(),
    'complete snapshots, a lone .caffemodel, a running process\'s and another prefix\'s files stay');
});

t.test('stop() ends training after the current iteration', async (t) => {
  const solver = solverFor({ type: 'SGD', base_lr: 0.1 });
  solver.on('iteration', (event) => event.iter === 1 && solver.stop());
  await solver.step(10);
  t.equal(solver.iter, 2);
  t.ok(solver.stopped);
});

t.test('a non-finite loss stops training and names the first non-finite blob', async (t) => {
  const net = new FakeNet(SPECS);
  const solver = solverFor({ type: 'SGD', base_lr: 0.1 }, net);
  await solver.step(1);
  net.learnableParams[1]!.blob.data.write(Float32Array.of(Number.NaN, 0));
  net.lossOverride = Number.NaN;
  await t.rejects(solver.step(1), {
    code: 'NON_FINITE_LOSS',
    message: /The loss became NaN at iteration 1; the first non-finite value is in parameter bias\/0 \(layer 'bias'\)\. Training diverged: try a lower base_lr \(now 0\.1, e\.g\. 0\.01\)/,
  });
});

t.test('bad solver settings are refused', async (t) => {
  t.throws(() => solverFor({ type: 'Adamm', base_lr: 0.1 }), { code: 'INVALID_SOLVER', message: /Unknown solver type "Adamm"; did you mean "Adam"\?/ });
  t.throws(() => solverFor({ type: 'AdaGrad', base_lr: 0.1, momentum: 0.9 }), { message: /Momentum cannot be used with AdaGrad/ });
  t.throws(() => solverFor({ type: 'SGD', base_lr: 0.1, lr_policy: 'invv' }), { message: /Unknown lr_policy "invv"; did you mean "inv"\?/ });
  t.throws(() => solverFor({ type: 'SGD', regularization_type: 'L3' }), { message: /Unknown regularization_type "L3"/ });
  t.throws(() => solverFor({ type: 'SGD', iter_size: 0 }), { message: /iter_size must be at least 1/ });
});
