// train.ts — `cudnet train`: trains LeNet on MNIST by default (or a builtin/prototxt net on a dataset folder) with progress, validation, snapshots and a JSON-lines log.
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { printNetPrototxt, printSolverPrototxt } from '../caffe/index.js';
import type { BatchSource } from '../data/index.js';
import { memory, device as resolveDevice, type DeviceName } from '../device.js';
import { CudnetError } from '../errors.js';
import { makeFolder } from '../files.js';
import { LR_POLICIES, removeSnapshotLeftovers, SOLVER_TYPES, Solver, type IterationEvent, type TestEvent } from '../solver/index.js';
import { formatFlags, parseFlags, type FlagSpecs, type ParsedFlags } from './args.js';
import { checkInputPath } from './input-files.js';
import { TrainingProgress } from './progress.js';
import { RunLog } from './run-log.js';
import { datasetFolderData, mnistData, type TrainingData } from './train-data.js';
import { chooseNetwork, solverParameter, type NetworkChoice } from './train-setup.js';
import type { CliStreams } from './streams.js';

export const TRAIN_FLAGS: FlagSpecs = {
  network: { type: 'string', default: 'lenet', value: 'lenet|alexnet|<prototxt>', description: 'a builtin network or a train_val prototxt' },
  solver: { type: 'string', value: '<prototxt>', description: 'a Caffe solver file for type, base_lr, lr_policy, momentum, ... (default: the network\'s Caffe recipe)' },
  dataset: { type: 'string', value: '<folder>', description: 'a folder made by `cudnet dataset create` (default: the MNIST digits of the mnist package)' },
  epochs: { type: 'integer', default: 10, min: 1, value: '<n>', description: 'passes over the training images' },
  'batch-size': { type: 'integer', default: 64, min: 1, value: '<n>', description: 'training images per iteration' },
  'base-lr': { type: 'number', min: 0, exclusiveMin: true, value: '<rate>', description: 'learning rate (default 0.01)' },
  'lr-policy': { type: 'string', choices: LR_POLICIES, value: '<policy>', description: `${LR_POLICIES.join(', ')} (default inv for LeNet, step for AlexNet)` },
  gamma: { type: 'number', value: '<x>', description: 'lr policy gamma (inv: 0.0001, step: 0.1)' },
  power: { type: 'number', value: '<x>', description: 'lr policy power (inv, poly: 0.75)' },
  'step-size': { type: 'integer', min: 1, value: '<iterations>', description: 'step policy: iterations between rate drops (default a third of the run)' },
  momentum: { type: 'number', min: 0, value: '<x>', description: 'momentum (default 0.9)' },
  'weight-decay': { type: 'number', min: 0, value: '<x>', description: 'L2 weight decay (default 0.0005)' },
  type: { type: 'string', choices: SOLVER_TYPES, value: '<solver>', description: `${SOLVER_TYPES.join(', ')} (default SGD)` },
  seed: { type: 'integer', default: 1, min: 0, value: '<n>', description: 'seed of the weight fillers, dropout and shuffling' },
  device: { type: 'string', default: 'auto', value: 'auto|cpu|cuda|cuda:N', description: 'where to train' },
  deterministic: { type: 'boolean', default: true, description: 'GPU convolutions use only cuDNN\'s deterministic algorithms, so a run repeats exactly from its --seed (the default; --no-deterministic: the fastest algorithms)' },
  output: { type: 'string', value: '<folder>', description: 'where snapshots, prototxt files and log.jsonl go (default ./runs/<timestamp>)' },
  weights: { type: 'string', value: '<caffemodel>', description: 'start from these weights (matched by layer name), e.g. to fine-tune' },
  resume: { type: 'string', value: '<solverstate>', description: 'continue a run from its snapshot (iteration, history and weights)' },
  'snapshot-epochs': { type: 'integer', default: 5, min: 0, value: '<n>', description: 'write a snapshot every n epochs (0: only at the end)' },
  quiet: { type: 'boolean', description: 'no progress bar, only the summary' },
};

export const TRAIN_USAGE = `Usage: cudnet train [options]

Trains a network with Caffe's solvers. With no options: LeNet on the 10,000 MNIST digits of the
mnist package (per class the last 20% held out for validation), 10 epochs, on the best device.
Ctrl-C stops after the current iteration and writes a snapshot.

Options:
${formatFlags(TRAIN_FLAGS)}`;

export interface TrainResult {
  output: string;
  network: string;
  device: string;
  /** Whether convolutions ran only deterministic algorithms (--deterministic). */
  deterministic: boolean;
  epochs: number;
  iterations: number;
  seconds: number;
  /** Validation outputs of the last test (accuracy, loss). */
  validation: Record<string, number>;
  stopped: boolean;
  snapshots: string[];
}

export interface TrainHooks {
  streams: CliStreams;
  /** Draw a progress bar (a terminal); otherwise plain lines at each validation. */
  interactive: boolean;
  /** Called with the solver once it exists (the CLI wires Ctrl-C to solver.stop()). */
  onSolver?: (solver: Solver) => void;
}

/** A run folder name: runs/2025-01-31T12-00-00. */
function timestamp(): string {
  return new Date().toISOString().replace(/\..*$/, '').replace(/:/g, '-');
}

/** The largest validation batch up to 100 that divides the validation set, so every image counts once. */
export function validationBatchSize(count: number): number {
  for (let size = Math.min(100, count); size >= 20; size--) if (count % size === 0) return size;
  return Math.min(100, count);
}

/** The snapshot_prefix of a `cudnet train` run: its snapshots are <output>/snapshot_iter_N.* */
const SNAPSHOT_PREFIX = 'snapshot';

/** Every path a flag names, checked before any work. */
async function checkInputPaths(flags: ParsedFlags): Promise<void> {
  if (flags.dataset !== undefined) await checkInputPath('dataset', String(flags.dataset), 'folder');
  const network = String(flags.network);
  if (network !== 'lenet' && network !== 'alexnet') await checkInputPath('network', network, 'file');
  for (const flag of ['solver', 'weights', 'resume'] as const)
    if (flags[flag] !== undefined) await checkInputPath(flag, String(flags[flag]), 'file');
}

/**
 * Creates the output folder, and removes what a run killed there left behind (snapshot
 * temporaries, a .caffemodel whose .solverstate was never written); returns the names removed.
 */
async function prepareOutput(output: string): Promise<string[]> {
  await makeFolder(output, `Output folder "${output}"`);
  return removeSnapshotLeftovers(output, SNAPSHOT_PREFIX);
}

/** Trains as the flags say; returns what was done. Throws CudnetError on bad settings or divergence. */
export async function train(flags: ParsedFlags, hooks: TrainHooks): Promise<TrainResult> {
  const started = performance.now();
  await checkInputPaths(flags);
  const device = resolveDevice(String(flags.device) as DeviceName);
  const output = resolve(flags.output !== undefined ? String(flags.output) : join('runs', timestamp()));
  // Every run is seeded (--seed defaults to 1), so unless asked otherwise it also repeats exactly.
  const deterministic = flags.deterministic !== false;
  await device.setDeterministic(deterministic);
  const data: TrainingData = flags.dataset ? await datasetFolderData(resolve(String(flags.dataset))) : mnistData();
  const batchSize = Number(flags['batch-size']);
  const valBatchSize = validationBatchSize(data.valCount);
  const network = await chooseNetwork(String(flags.network), data, { batchSize, valBatchSize });
  const epochs = Number(flags.epochs);
  const itersPerEpoch = Math.ceil(data.trainCount / batchSize);
  const seed = Number(flags.seed);
  const parameter = await solverParameter(flags, network, {
    epochs, itersPerEpoch, valIterations: Math.ceil(data.valCount / valBatchSize),
    snapshotEpochs: Number(flags['snapshot-epochs']), snapshotPrefix: SNAPSHOT_PREFIX, seed,
  });
  const leftovers = await prepareOutput(output);
  await writeRunFiles(output, network, printSolverPrototxt(parameter), data);
  const sources = await data.open(network.trainVal, batchSize, valBatchSize, seed);
  const log = new RunLog(join(output, 'log.jsonl'));
  const progress = new TrainingProgress(hooks.streams.stdout, parameter.max_iter, epochs, hooks.interactive);
  if (leftovers.length > 0) progress.line(`Removed what an interrupted run left in ${output}: ${leftovers.join(', ')}`);
  const algorithms = device.kind === 'cuda' ? (deterministic ? ', deterministic convolutions' : ', fastest convolutions') : '';
  progress.line(`Training ${network.name} on ${data.description}, ${device.name}: ${device.description}${algorithms}`);
  try {
    const solver = new Solver(parameter, {
      device, baseDir: output, sources: { '*': sources.train }, testSources: [{ '*': sources.val }],
    });
    await startingPoint(solver, flags, progress);
    hooks.onSolver?.(solver);
    const result = await runSolver(solver, { log, progress, itersPerEpoch, epochs, started, device: device.name });
    solver.dispose();
    return {
      ...result, output, network: network.name, device: device.name, deterministic: device.deterministic, epochs,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    progress.stop();
    await log.close();
    await closeSources(sources.train, sources.val);
  }
}

/** --weights loads a .caffemodel into the train net; --resume restores a whole solver state. */
async function startingPoint(solver: Solver, flags: ParsedFlags, progress: TrainingProgress): Promise<void> {
  if (flags.weights !== undefined) {
    const loaded = solver.net.loadCaffemodel(await readFile(String(flags.weights)));
    progress.line(`Weights of ${loaded.length} layer(s) loaded from ${String(flags.weights)}: ${loaded.join(', ')}`);
  }
  if (flags.resume !== undefined) {
    await solver.restoreFromFile(String(flags.resume));
    progress.line(`Resumed from ${String(flags.resume)} at iteration ${solver.iter}`);
    progress.update({ iter: solver.iter });
  }
}

async function writeRunFiles(output: string, network: NetworkChoice, solverText: string, data: TrainingData): Promise<void> {
  await writeFile(join(output, 'train_val.prototxt'), printNetPrototxt(network.trainVal));
  await writeFile(join(output, 'deploy.prototxt'), printNetPrototxt(network.deploy));
  await writeFile(join(output, 'solver.prototxt'), solverText);
  await writeFile(join(output, 'labels.txt'), `${data.labels.join('\n')}\n`);
  await writeModelInfo(output, network, data);
}

/**
 * DIGITS' info.json (the keys its model archives use), and the mean image beside it, so the output
 * folder is a self-contained model that loadModel() and DIGITS-style tools can serve.
 */
async function writeModelInfo(output: string, network: NetworkChoice, data: TrainingData): Promise<void> {
  const [channels, height, width] = data.imageShape;
  const subtractsMean = network.trainVal.layer.some((layer) => layer.transform_param?.mean_file !== undefined);
  const info: Record<string, unknown> = {
    'framework': 'cudnet',
    'network': network.name,
    'image dimensions': [height, width, channels],
    'image resize mode': data.resizeMode ?? 'squash',
    'mean subtraction': subtractsMean && data.meanFile ? 'image' : 'none',
    'labels file': 'labels.txt',
    'deploy file': 'deploy.prototxt',
  };
  if (subtractsMean && data.meanFile) {
    await copyFile(data.meanFile, join(output, 'mean.binaryproto'));
    info['mean file'] = 'mean.binaryproto';
  }
  await writeFile(join(output, 'info.json'), `${JSON.stringify(info, null, 2)}\n`);
}

async function closeSources(...sources: BatchSource[]): Promise<void> {
  for (const source of sources) await source.close();
}

interface RunContext {
  /** The training device, whose memory each train and val record reports. */
  device: string;
  log: RunLog;
  progress: TrainingProgress;
  itersPerEpoch: number;
  epochs: number;
  started: number;
}

/** Runs solve() while turning the solver's events into the progress display and the log. */
async function runSolver(solver: Solver, context: RunContext): Promise<Pick<TrainResult, 'iterations' | 'validation' | 'stopped' | 'snapshots'>> {
  const { log, progress, itersPerEpoch } = context;
  const seconds = () => (performance.now() - context.started) / 1000;
  // Bytes held by live tensors and by the device's cache: a training run should not grow either after its first iterations.
  const deviceMemory = () => {
    const entry = memory()[context.device];
    return entry ? { bytes: entry.bytes, cachedBytes: entry.cachedBytes } : undefined;
  };
  let speed: number | undefined;
  let validation: Record<string, number> = {};
  const snapshots: string[] = [];
  solver.on('iteration', (event: IterationEvent) => {
    // Images per second smoothed over about 20 iterations, so the display does not flicker.
    speed = speed === undefined ? event.imagesPerSecond : 0.95 * speed + 0.05 * event.imagesPerSecond;
    const epoch = Math.floor(event.iter / itersPerEpoch) + 1;
    progress.update({ iter: event.iter + 1, epoch, loss: event.smoothedLoss, lr: event.lr, imagesPerSecond: speed });
    if (event.display)
      log.write({ type: 'train', epoch: (event.iter + 1) / itersPerEpoch, iter: event.iter, loss: event.smoothedLoss, lr: event.lr, imagesPerSecond: speed, time: seconds(), memory: deviceMemory() });
  });
  solver.on('test', (event: TestEvent) => {
    validation = event.outputs;
    const epoch = event.iter / itersPerEpoch;
    progress.update({ accuracy: event.outputs.accuracy });
    log.write({ type: 'val', epoch, iter: event.iter, loss: event.outputs.loss, accuracy: event.outputs.accuracy, time: seconds(), memory: deviceMemory() });
    progress.line(`epoch ${Number.isInteger(epoch) ? epoch : epoch.toFixed(2)}: ${describeOutputs(event.outputs)} (${seconds().toFixed(1)} s)`);
  });
  solver.on('snapshot', (event) => {
    snapshots.push(event.paths.caffemodel);
    log.write({ type: 'snapshot', epoch: event.iter / itersPerEpoch, iter: event.iter, time: seconds(), caffemodel: event.paths.caffemodel, solverstate: event.paths.solverstate });
  });
  await solver.solve();
  const stopped = solver.stopped;
  log.write({ type: stopped ? 'stopped' : 'done', epoch: solver.iter / itersPerEpoch, iter: solver.iter, accuracy: validation.accuracy, loss: validation.loss, time: seconds() });
  return { iterations: solver.iter, validation, stopped, snapshots };
}

function describeOutputs(outputs: Record<string, number>): string {
  return Object.entries(outputs)
    .map(([name, value]) => (name === 'accuracy' ? `val accuracy ${(value * 100).toFixed(2)}%` : `val ${name} ${value.toFixed(4)}`))
    .join(', ');
}

/** `cudnet train ...`: returns the exit code (0 done or stopped, 1 failed, 2 usage). */
export async function runTrainCli(argv: readonly string[], streams: CliStreams): Promise<number> {
  const { flags, positionals, help } = parseFlags(argv, TRAIN_FLAGS);
  if (help) {
    streams.stdout.write(`${TRAIN_USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new CudnetError('USAGE', `cudnet train takes no positional arguments but received ${positionals.map((text) => JSON.stringify(text)).join(' ')}`);
  let onSigint: (() => void) | undefined;
  const hooks: TrainHooks = {
    streams,
    interactive: !flags.quiet && Boolean((streams.stdout as NodeJS.WriteStream).isTTY),
    onSolver: (solver) => {
      let asked = false;
      onSigint = () => {
        if (asked) process.exit(130);
        asked = true;
        streams.stderr.write('\nStopping after this iteration and writing a snapshot (Ctrl-C again to quit at once)\n');
        solver.stop();
      };
      process.on('SIGINT', onSigint);
    },
  };
  try {
    const result = await train(flags, hooks);
    streams.stdout.write(summary(result));
    return 0;
  } finally {
    if (onSigint) process.off('SIGINT', onSigint);
  }
}

function summary(result: TrainResult): string {
  const accuracy = result.validation.accuracy;
  const outcome = accuracy !== undefined ? `validation accuracy ${(accuracy * 100).toFixed(2)}%` : describeOutputs(result.validation);
  const how = result.stopped ? `Stopped ${result.network} after ${result.iterations} iterations` : `Trained ${result.network} for ${result.epochs} epochs (${result.iterations} iterations)`;
  return `${how} in ${result.seconds.toFixed(1)} s on ${result.device}: ${outcome}\n` +
    `Output: ${result.output} (log.jsonl, ${result.snapshots.length} snapshot(s), train_val/deploy/solver prototxt, labels.txt)\n`;
}
