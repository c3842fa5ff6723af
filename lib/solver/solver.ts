// solver.ts — Solver: Caffe's training loop (Solver::Step/Solve/TestAll/Snapshot/Restore) over a NetLike, with progress events.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseSolverPrototxt, readSolverstate, SolverParameterSchema, writeSolverstate } from '../caffe/index.js';
import type { SolverParameter, SolverParameterInput } from '../caffe/index.js';
import type { BatchSource } from '../data/batch-source.js';
import { device as resolveDevice, type Device, type DeviceName } from '../device.js';
import { CudnetError } from '../errors.js';
import type { NetLike } from '../net/contract.js';
import { Net } from '../net/index.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { checkLrPolicy, learningRate, multistepIndex } from './lr-policy.js';
import { buildTestNets, buildTrainNet, type NetFactory } from './nets.js';
import { nonFiniteLossError } from './non-finite.js';
import { packSolverState, snapshotPaths, unpackHistories, writeFilesAtomic } from './snapshot.js';
import { historiesPerParam, updateParam, updateSettings, type UpdateSettings } from './update.js';

export interface SolverOptions {
  /** Where nets built from the solver run ('auto' by default). Ignored for nets passed in. */
  device?: Device | DeviceName;
  /** A train net built by the caller; otherwise it is built from the solver's net/train_net. */
  trainNet?: NetLike;
  /** Test nets built by the caller (they should share the train net's weights). */
  testNets?: NetLike[];
  /** Batch sources for the train net's Data layers, by layer name ('*' for the only one). */
  sources?: Record<string, BatchSource>;
  /** Batch sources for each test net's Data layers. */
  testSources?: Record<string, BatchSource>[];
  /** Folder that relative net files and snapshot_prefix are taken from (the current folder by default). */
  baseDir?: string;
  /** Solver file name for error messages. */
  file?: string;
  /** Overrides snapshot_prefix. */
  snapshotPrefix?: string;
  /** Builds nets from NetParameters; lib/net's Net.fromParameter when not given. */
  netFactory?: NetFactory;
}

export interface IterationEvent {
  /** The iteration as Caffe displays it: updates applied before this one (0 for the first). */
  iter: number;
  /** This iteration's loss (averaged over iter_size). */
  loss: number;
  /** Mean loss of the last average_loss iterations. */
  smoothedLoss: number;
  /** The rate this iteration's update used (before lr_mult). */
  lr: number;
  /** Training images per second over this iteration (forward, backward, update and data). */
  imagesPerSecond: number;
  /** True on display iterations (iter % display === 0). */
  display: boolean;
}

export interface TestEvent {
  /** Updates applied when the test ran. */
  iter: number;
  testNet: number;
  /** Mean of each net output over test_iter batches ('name', or 'name[k]' for outputs of several values). */
  outputs: Record<string, number>;
}

export interface SnapshotEvent {
  iter: number;
  paths: { caffemodel: string; solverstate: string };
}

export interface SolverEvents {
  iteration: [IterationEvent];
  test: [TestEvent];
  snapshot: [SnapshotEvent];
}

/** Trains a net with one of Caffe's solvers. `step(n)` and `solve()` return Promises; progress comes as events. */
export class Solver extends EventEmitter<SolverEvents> {
  readonly parameter: SolverParameter;
  readonly net: NetLike;
  readonly testNets: readonly NetLike[];
  private readonly settings: UpdateSettings;
  /** history[i] (and history[i + N] for AdaDelta and Adam) for learnable param i, as Caffe's history_. */
  private readonly histories: Tensor[];
  private readonly baseDir: string;
  private readonly snapshotPrefix: string;
  private iteration = 0;
  private losses: number[] = [];
  private smoothed = 0;
  private stopRequested = false;
  private stoppedEarly = false;
  /** Nets this solver built (and so disposes); nets passed in belong to the caller. */
  private readonly ownedNets: NetLike[] = [];

  /** Builds a solver from prototxt text (errors name `options.file`). */
  static fromPrototxt(text: string, options: SolverOptions = {}): Solver {
    return new Solver(parseSolverPrototxt(text, { file: options.file }), options);
  }

  /** Builds a solver from a solver file; relative net files are read from the file's folder unless baseDir is given. */
  static async fromFile(path: string, options: SolverOptions = {}): Promise<Solver> {
    const text = await readFile(path, 'utf8');
    return Solver.fromPrototxt(text, { baseDir: dirname(resolve(path)), file: path, ...options });
  }

  constructor(parameter: SolverParameter | SolverParameterInput, options: SolverOptions = {}) {
    super();
    this.parameter = SolverParameterSchema.parse(parameter);
    this.settings = updateSettings(this.parameter);
    checkLrPolicy(this.parameter);
    checkLoopFields(this.parameter);
    this.baseDir = options.baseDir ?? process.cwd();
    this.snapshotPrefix = options.snapshotPrefix ?? this.parameter.snapshot_prefix ?? defaultPrefix(options.file);
    this.net = options.trainNet ?? buildTrainNet(this.parameter, this.netSources(options));
    if (!options.trainNet) this.ownedNets.push(this.net);
    this.testNets = options.testNets ?? buildTestNets(this.parameter, this.net, this.netSources(options));
    if (!options.testNets) this.ownedNets.push(...this.testNets);
    if (options.testNets && this.parameter.test_iter.length !== this.testNets.length && this.parameter.test_interval > 0)
      throw new CudnetError('INVALID_SOLVER', `test_iter must be given once per test net: ${this.testNets.length} test nets, ${this.parameter.test_iter.length} test_iter`);
    this.histories = this.createHistories();
  }

  private netSources(options: SolverOptions) {
    const seed = this.parameter.random_seed >= 0 ? this.parameter.random_seed : undefined;
    return {
      device: resolveDevice(options.device ?? 'auto'), factory: options.netFactory ?? defaultNetFactory(),
      baseDir: this.baseDir, trainSources: options.sources, testSources: options.testSources, seed,
    };
  }

  private createHistories(): Tensor[] {
    const copies = historiesPerParam(this.settings.type);
    const params = this.net.learnableParams;
    return Array.from({ length: params.length * copies }, (_, index) => {
      const blob = params[index % params.length]!.blob;
      return Tensor.zeros(blob.shape, blob.data.device);
    });
  }

  /** Updates applied so far (Caffe's iter_). */
  get iter(): number {
    return this.iteration;
  }

  get smoothedLoss(): number {
    return this.smoothed;
  }

  /** The rate the next update will use. */
  get learningRate(): number {
    return learningRate(this.parameter, this.iteration);
  }

  /** Asks the running step() or solve() to stop after the current iteration (or test batch). */
  stop(): void {
    this.stopRequested = true;
  }

  /** True when the last step()/solve() ended because stop() was called. */
  get stopped(): boolean {
    return this.stoppedEarly;
  }

  /** Runs `iterations` training iterations (Solver::Step). */
  async step(iterations: number): Promise<void> {
    if (!Number.isInteger(iterations) || iterations < 0)
      throw new CudnetError('INVALID_ARGUMENT', `Expected a non-negative integer for iterations but received ${iterations}`);
    const startIter = this.iteration;
    const stopIter = startIter + iterations;
    this.losses = [];
    this.smoothed = 0;
    this.stoppedEarly = false;
    let lastEnd = performance.now();
    while (this.iteration < stopIter) {
      this.net.clearParamDiffs();
      if (this.testDue(this.iteration)) await this.testAll();
      if (this.takeStopRequest()) break;
      const loss = await this.forwardBackward();
      this.updateSmoothedLoss(loss, startIter);
      const lr = await this.applyUpdate();
      const end = performance.now();
      this.emitIteration(loss, lr, end - lastEnd);
      lastEnd = end;
      if (this.parameter.snapshot > 0 && this.iteration % this.parameter.snapshot === 0) await this.snapshot();
      if (this.takeStopRequest()) break;
    }
  }

  /** Trains to max_iter, then snapshots (snapshot_after_train) and tests once more (Solver::Solve). */
  async solve(): Promise<void> {
    await this.step(Math.max(0, this.parameter.max_iter - this.iteration));
    const { snapshot, snapshot_after_train: snapshotAfterTrain, test_interval: testInterval } = this.parameter;
    if (snapshotAfterTrain && (snapshot === 0 || this.iteration % snapshot !== 0)) await this.snapshot();
    if (this.stoppedEarly) return;
    if (testInterval > 0 && this.iteration % testInterval === 0) await this.testAll();
  }

  private takeStopRequest(): boolean {
    if (!this.stopRequested) return false;
    this.stopRequested = false;
    this.stoppedEarly = true;
    return true;
  }

  private testDue(iter: number): boolean {
    const interval = this.parameter.test_interval;
    return interval > 0 && iter % interval === 0 && (iter > 0 || this.parameter.test_initialization) && this.testNets.length > 0;
  }

  /** iter_size forward/backward passes; parameter diffs accumulate, the loss is averaged. */
  private async forwardBackward(): Promise<number> {
    let total = 0;
    for (let pass = 0; pass < this.parameter.iter_size; pass++) {
      const loss = await this.net.forward();
      if (!Number.isFinite(loss)) throw await nonFiniteLossError(this.net, loss, this.iteration, this.parameter.base_lr);
      this.net.backward();
      total += loss;
    }
    return total / this.parameter.iter_size;
  }

  /** Solver::UpdateSmoothedLoss: the mean of the last average_loss losses, kept in a ring. */
  private updateSmoothedLoss(loss: number, startIter: number): void {
    const window = this.parameter.average_loss;
    if (this.losses.length < window) {
      this.losses.push(loss);
      const size = this.losses.length;
      this.smoothed = (this.smoothed * (size - 1) + loss) / size;
    } else {
      const index = (this.iteration - startIter) % window;
      this.smoothed += (loss - this.losses[index]!) / window;
      this.losses[index] = loss;
    }
  }

  /** SGDSolver::ApplyUpdate: rate for this iter, clipping, 1/iter_size, then each blob's fused update; ++iter. */
  private async applyUpdate(): Promise<number> {
    const rate = this.learningRate;
    if (this.parameter.clip_gradients > 0) await this.clipGradients();
    const params = this.net.learnableParams;
    const count = params.length;
    const second = historiesPerParam(this.settings.type) === 2;
    params.forEach((param, index) => {
      if (this.parameter.iter_size > 1) ops.scale(1 / this.parameter.iter_size, param.blob.diff);
      const target = { weights: param.blob.data, gradient: param.blob.diff, lrMult: param.lrMult, decayMult: param.decayMult };
      updateParam(this.settings, rate, this.iteration, target, this.histories[index]!, second ? this.histories[index + count]! : null);
    });
    this.iteration++;
    return rate;
  }

  /** SGDSolver::ClipGradients: when the global L2 norm of the diffs exceeds clip_gradients, scale them all down to it. */
  private async clipGradients(): Promise<void> {
    const params = this.net.learnableParams;
    const sums = params.map((param) => ops.sumSquares(param.blob.diff));
    let sumOfSquares = 0;
    for (const sum of sums) {
      sumOfSquares += (await sum.data())[0]!;
      sum.dispose();
    }
    const norm = Math.sqrt(sumOfSquares);
    const limit = this.parameter.clip_gradients;
    if (norm > limit) for (const param of params) ops.scale(limit / norm, param.blob.diff);
  }

  private emitIteration(loss: number, lr: number, milliseconds: number): void {
    const iter = this.iteration - 1;
    const images = batchSize(this.net) * this.parameter.iter_size;
    const display = this.parameter.display > 0 && iter % this.parameter.display === 0;
    const imagesPerSecond = milliseconds > 0 ? (images * 1000) / milliseconds : 0;
    this.emit('iteration', { iter, loss, smoothedLoss: this.smoothed, lr, imagesPerSecond, display });
  }

  /** Runs every test net for its test_iter batches (Solver::TestAll); returns each net's mean outputs. */
  async testAll(): Promise<Record<string, number>[]> {
    const results: Record<string, number>[] = [];
    for (let index = 0; index < this.testNets.length; index++) {
      const outputs = await this.test(index);
      results.push(outputs);
      this.emit('test', { iter: this.iteration, testNet: index, outputs });
      if (this.stopRequested) break;
    }
    return results;
  }

  /** Solver::Test: the mean of every output over test_iter forward passes. */
  async test(index = 0): Promise<Record<string, number>> {
    const net = this.testNets[index];
    if (!net) throw new CudnetError('INVALID_ARGUMENT', `Expected a test net index below ${this.testNets.length} but received ${index}`);
    const iterations = this.parameter.test_iter[index] ?? 0;
    const sums = new Map<string, Float64Array>();
    let done = 0;
    for (; done < iterations && !this.stopRequested; done++) {
      await net.forward();
      for (const [name, values] of Object.entries(await net.readOutputs())) {
        const sum = sums.get(name) ?? new Float64Array(values.length);
        values.forEach((value, k) => (sum[k]! += value));
        sums.set(name, sum);
      }
    }
    return meanOutputs(sums, done);
  }

  /**
   * Writes "<prefix>_iter_<iter>.caffemodel" and ".solverstate" (Solver::Snapshot), each atomically,
   * the .caffemodel renamed into place only once both are written (see writeFilesAtomic).
   */
  async snapshot(): Promise<{ caffemodel: string; solverstate: string }> {
    const paths = snapshotPaths(resolve(this.baseDir, this.snapshotPrefix), this.iteration);
    const weights = await this.net.toCaffemodel();
    const currentStep = multistepIndex(this.parameter.stepvalue, this.iteration);
    const state = await packSolverState(this.iteration, paths.caffemodel, this.histories, currentStep);
    await writeFilesAtomic([[paths.caffemodel, weights], [paths.solverstate, writeSolverstate(state)]]);
    this.emit('snapshot', { iter: this.iteration, paths });
    return paths;
  }

  /**
   * Resumes from a .solverstate: the iteration, every history blob and the learned weights. The
   * weights come from `caffemodel` when given, else from the file the state names (its path as
   * written, or the same name beside `solverstatePath`).
   */
  async restore(solverstate: Uint8Array, caffemodel?: Uint8Array, solverstatePath?: string): Promise<void> {
    const state = readSolverstate(solverstate, { file: solverstatePath });
    const weights = caffemodel ?? (state.learnedNet ? await readLearnedNet(state.learnedNet, solverstatePath) : undefined);
    if (weights) this.net.loadCaffemodel(weights);
    unpackHistories(state, this.histories);
    this.iteration = state.iter;
  }

  /** restore() from a .solverstate file. */
  async restoreFromFile(path: string): Promise<void> {
    await this.restore(await readFile(path), undefined, path);
  }

  /** Frees the histories and the nets this solver built (test nets first: they borrow the train net's weights). */
  dispose(): void {
    for (const history of this.histories) history.dispose();
    for (const net of [...this.ownedNets].reverse()) net.dispose();
    this.ownedNets.length = 0;
  }
}

/** lib/net's Net, unless the caller builds nets another way. */
function defaultNetFactory(): NetFactory {
  return (parameter, options) => Net.fromParameter(parameter, options);
}

function checkLoopFields(parameter: SolverParameter): void {
  const positive = ['iter_size', 'average_loss'] as const;
  for (const field of positive)
    if (!(parameter[field] >= 1)) throw new CudnetError('INVALID_SOLVER', `${field} must be at least 1 but is ${parameter[field]}`);
  for (const field of ['display', 'snapshot', 'test_interval', 'max_iter'] as const)
    if (parameter[field] < 0) throw new CudnetError('INVALID_SOLVER', `${field} must not be negative but is ${parameter[field]}`);
}

/** Caffe names snapshots after the solver file when snapshot_prefix is absent. */
function defaultPrefix(file: string | undefined): string {
  return file ? basename(file).replace(/\.prototxt$/, '') : 'snapshot';
}

/** The batch of the net's first input (the first top of the first layer). */
function batchSize(net: NetLike): number {
  const first = net.layers[0]?.tops[0];
  return (first && net.blobs.get(first)?.shape[0]) || 1;
}

function meanOutputs(sums: Map<string, Float64Array>, count: number): Record<string, number> {
  const outputs: Record<string, number> = {};
  for (const [name, sum] of sums) {
    if (sum.length === 1) outputs[name] = sum[0]! / Math.max(count, 1);
    else sum.forEach((value, k) => (outputs[`${name}[${k}]`] = value / Math.max(count, 1)));
  }
  return outputs;
}

async function readLearnedNet(learnedNet: string, solverstatePath?: string): Promise<Uint8Array> {
  const candidates = [resolve(learnedNet)];
  if (solverstatePath) candidates.push(join(dirname(resolve(solverstatePath)), basename(learnedNet)));
  for (const candidate of candidates) {
    try {
      return await readFile(candidate);
    } catch {
      // try the next place
    }
  }
  throw new CudnetError('FILE_NOT_FOUND', `The solverstate names the weights file "${learnedNet}", which was not found (looked at ${candidates.join(', ')})`);
}
