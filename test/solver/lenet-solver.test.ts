// lenet-solver.test.ts — the Solver on the real LeNet from models/lenet_solver.prototxt: resume from a snapshot, divergence.
import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSolverPrototxt, type SolverParameter } from '../../lib/caffe/index.js';
import { ArrayBatchSource, loadMnistDigits, mnistSplit } from '../../lib/data/index.js';
import { prototxt } from '../../lib/models/index.js';
import { Solver } from '../../lib/solver/index.js';

const MODELS = join(import.meta.dirname, '..', '..', 'models');

/** The same 64 digits at every forward (in order, no shuffle), scaled to [0, 1) as the LeNet Data layer expects. */
function digitSource(batchSize: number): ArrayBatchSource {
  const digits = loadMnistDigits();
  const indices = mnistSplit().train.filter((_, i) => i % 97 === 0).slice(0, batchSize);
  return new ArrayBatchSource({ images: digits.images, labels: digits.labels, shape: [1, 28, 28], batchSize, indices });
}

function lenetSolver(changes: Partial<SolverParameter>, folder: string): Solver {
  const parameter = { ...parseSolverPrototxt(prototxt('lenet', 'solver')), test_initialization: false, random_seed: 5, ...changes };
  return new Solver(parameter, { device: 'cpu', baseDir: MODELS, snapshotPrefix: join(folder, 'lenet'), sources: { '*': digitSource(64) }, testSources: [{ '*': digitSource(100) }] });
}

t.test('LeNet: the loss falls, and a restored snapshot continues exactly as the uninterrupted run', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-lenet-'));
  const straight = lenetSolver({}, folder);
  const losses: number[] = [];
  straight.on('iteration', (event) => losses.push(event.loss));
  await straight.step(4);
  t.ok(losses[3]! < losses[0]!, `loss falls: ${losses.map((loss) => loss.toFixed(3)).join(' → ')}`);
  t.equal(straight.testNets.length, 1, 'one test net from the generic net');

  const first = lenetSolver({}, folder);
  await first.step(2);
  const paths = await first.snapshot();
  t.equal(paths.solverstate, join(folder, 'lenet_iter_2.solverstate'));

  const resumed = lenetSolver({ random_seed: 99 }, folder);
  await resumed.restoreFromFile(paths.solverstate);
  await resumed.step(2);
  t.same(Buffer.from(await resumed.net.toCaffemodel()), Buffer.from(await straight.net.toCaffemodel()), 'same weights after 4 iterations');
  const outputs = await resumed.test();
  t.ok(outputs.accuracy! >= 0 && outputs.accuracy! <= 1 && Number.isFinite(outputs.loss), 'test net shares the trained weights');
});

t.test('LeNet: a diverging rate stops with NON_FINITE_LOSS naming the first non-finite blob', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-lenet-'));
  const solver = lenetSolver({ base_lr: 1e8, lr_policy: 'fixed' }, folder);
  await t.rejects(solver.step(20), {
    code: 'NON_FINITE_LOSS',
    message: /The loss became (NaN|Infinity) at iteration \d+; the first non-finite value is in .+\. Training diverged: try a lower base_lr \(now 100000000/,
  });
});
