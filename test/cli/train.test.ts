// train.test.ts — `cudnet train` on the MNIST digits: learns well above chance in two epochs, writes its files and log, stops cleanly.
import t from 'tap';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNetPrototxt, parseSolverPrototxt } from '../../lib/caffe/index.js';
import { parseFlags } from '../../lib/cli/args.js';
import { runCli } from '../../lib/cli/main.js';
import { train, TRAIN_FLAGS, validationBatchSize } from '../../lib/cli/train.js';
import { device } from '../../lib/device.js';
import { captureStreams } from './fixtures/capture.js';

t.test('LeNet learns the digits: two epochs (250 iterations) reach well above chance', async (t) => {
  const output = await mkdtemp(join(tmpdir(), 'cudnet-train-'));
  const streams = captureStreams();
  const code = await runCli(['train', '--epochs', '2', '--device', 'cpu', '--output', output, '--snapshot-epochs', '1'], streams);
  t.equal(code, 0, streams.err());
  const accuracy = Number(/validation accuracy ([\d.]+)%/.exec(streams.out())?.[1]);
  t.ok(accuracy > 80, `validation accuracy ${accuracy}% > 80%`);
  t.match(streams.out(), /Trained lenet for 2 epochs \(250 iterations\)/);

  t.same((await readdir(output)).sort(), [
    'deploy.prototxt', 'info.json', 'labels.txt', 'log.jsonl', 'snapshot_iter_125.caffemodel', 'snapshot_iter_125.solverstate',
    'snapshot_iter_250.caffemodel', 'snapshot_iter_250.solverstate', 'solver.prototxt', 'train_val.prototxt',
  ]);
  const solver = parseSolverPrototxt(await readFile(join(output, 'solver.prototxt'), 'utf8'));
  t.match(solver, { base_lr: 0.01, momentum: 0.9, weight_decay: 0.0005, lr_policy: 'inv', gamma: 0.0001, power: 0.75, max_iter: 250, test_interval: 125, test_iter: [20] });
  const deploy = parseNetPrototxt(await readFile(join(output, 'deploy.prototxt'), 'utf8'));
  t.equal(deploy.layer.at(-1)!.type, 'Softmax');
  parseNetPrototxt(await readFile(join(output, 'train_val.prototxt'), 'utf8'));
  t.equal(await readFile(join(output, 'labels.txt'), 'utf8'), '0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n');
  t.match(JSON.parse(await readFile(join(output, 'info.json'), 'utf8')), {
    'image dimensions': [28, 28, 1], 'image resize mode': 'squash', 'mean subtraction': 'none', 'deploy file': 'deploy.prototxt',
  }, 'info.json tells loadModel how images were prepared');

  const records = (await readFile(join(output, 'log.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  const trainRecord = records.find((record) => record.type === 'train');
  t.same(Object.keys(trainRecord).sort(), ['epoch', 'imagesPerSecond', 'iter', 'loss', 'lr', 'memory', 'time', 'type']);
  t.same(Object.keys(trainRecord.memory).sort(), ['bytes', 'cachedBytes'], "the training device's memory: live tensors and cache");
  t.ok(trainRecord.memory.bytes > 0);
  const validations = records.filter((record) => record.type === 'val');
  t.same(validations.map((record) => [record.epoch, record.iter]), [[1, 125], [2, 250]]);
  t.same(Object.keys(validations[0]).sort(), ['accuracy', 'epoch', 'iter', 'loss', 'memory', 'time', 'type']);
  t.equal(records.at(-1).type, 'done');
});

t.test('a stop request ends training after the current iteration and writes a snapshot', async (t) => {
  const output = await mkdtemp(join(tmpdir(), 'cudnet-train-'));
  const { flags } = parseFlags(['--epochs', '1', '--device', 'cpu', '--output', output], TRAIN_FLAGS);
  const streams = captureStreams();
  const result = await train(flags, {
    streams, interactive: false,
    onSolver: (solver) => solver.on('iteration', (event) => event.iter === 9 && solver.stop()),
  });
  t.equal(result.stopped, true);
  t.equal(result.iterations, 10);
  t.equal(result.deterministic, true, 'a seeded run asks for deterministic convolutions by default');
  t.same(result.snapshots, [join(output, 'snapshot_iter_10.caffemodel')]);
  const records = (await readFile(join(output, 'log.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  t.equal(records.at(-1).type, 'stopped');
});

t.test('--no-deterministic reaches the device the run trains on', async (t) => {
  const output = await mkdtemp(join(tmpdir(), 'cudnet-train-'));
  const { flags } = parseFlags(['--epochs', '1', '--device', 'cpu', '--output', output, '--no-deterministic'], TRAIN_FLAGS);
  const result = await train(flags, {
    streams: captureStreams(), interactive: false, onSolver: (solver) => solver.on('iteration', () => solver.stop()),
  });
  t.equal(result.deterministic, false);
  t.equal(device('cpu').deterministic, false, 'the device holds the setting');
});

t.test('the validation batch divides the validation set when it can', async (t) => {
  t.equal(validationBatchSize(2000), 100);
  t.equal(validationBatchSize(1998), 74);
  t.equal(validationBatchSize(37), 37);
});

t.test('cudnet train --dataset reads a dataset made by cudnet dataset create (PNG records, the LMDB source)', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-train-dataset-'));
  const created = captureStreams();
  t.equal(await runCli(['dataset', 'create', join(folder, 'mnist'), '--mnist'], created), 0, created.err());
  const streams = captureStreams();
  const output = join(folder, 'run');
  const code = await runCli(['train', '--dataset', join(folder, 'mnist'), '--epochs', '1', '--device', 'cpu', '--output', output], streams);
  t.equal(code, 0, streams.err());
  const accuracy = Number(/validation accuracy ([\d.]+)%/.exec(streams.out())?.[1]);
  t.ok(accuracy > 80, `validation accuracy ${accuracy}% > 80% after one epoch`);
  t.match(JSON.parse(await readFile(join(output, 'info.json'), 'utf8')), { 'image dimensions': [28, 28, 1], 'image resize mode': 'squash' });
});
