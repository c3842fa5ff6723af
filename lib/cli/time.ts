// time.ts — `cudnet time`, as `caffe time`: per-layer forward and backward milliseconds, the solver's
// parameter update, and the whole training iteration (forward + backward + update), as a table or JSON.
import { loadNetPrototxt, type NetParameter } from '../caffe/index.js';
import type { BatchSource } from '../data/batch-source.js';
import { device as resolveDevice, type Device, type DeviceName } from '../device.js';
import { CudnetError } from '../errors.js';
import { alexnet, lenet } from '../models/index.js';
import type { NetLike } from '../net/contract.js';
import { Net } from '../net/index.js';
import { updateParam, type UpdateSettings } from '../solver/update.js';
import { Tensor } from '../tensor.js';
import { formatFlags, parseFlags, UsageError, type FlagSpecs, type ParsedFlags } from './args.js';
import { checkInputPath } from './input-files.js';
import type { CliStreams } from './streams.js';
import { dataLayerOf } from '../models/index.js';
import { applyPrecision } from '../bench/run.js';
import type { Precision } from '../bench/report.js';

export const TIME_FLAGS: FlagSpecs = {
  network: { type: 'string', default: 'lenet', value: 'lenet|alexnet|<prototxt>', description: 'a builtin network or a prototxt (TRAIN phase)' },
  'batch-size': { type: 'integer', min: 1, value: '<n>', description: 'images per iteration (default 64 for LeNet, 16 for AlexNet; a prototxt keeps its own)' },
  iterations: { type: 'integer', default: 10, min: 1, value: '<n>', description: 'timed iterations (after one warm-up)' },
  device: { type: 'string', default: 'auto', value: 'auto|cpu|cuda|cuda:N', description: 'where to run' },
  precision: { type: 'string', choices: ['fp32', 'tf32'], default: 'fp32', description: 'GPU math: fp32, or TF32 tensor cores (a CPU always computes in fp32)' },
  'input-shape': { type: 'string', value: '<C>x<H>x<W>', description: 'image shape for the Data layers of a prototxt (random data)' },
  json: { type: 'boolean', description: 'print the figures as JSON' },
};

export const TIME_USAGE = `Usage: cudnet time [options]

Times a network's forward and backward passes as \`caffe time\` does: each layer alone (the median
over the iterations, the device synchronised around every layer call), the solver's update of every
learnable parameter (SGD with momentum 0.9, as LeNet's and AlexNet's solvers, then the parameter
diffs cleared for the next iteration), then whole training iterations: forward + backward + update.

Options:
${formatFlags(TIME_FLAGS)}`;

export interface LayerTiming {
  name: string;
  type: string;
  forwardMs: number;
  backwardMs: number;
}

export interface TimeReport {
  network: string;
  device: string;
  deviceDescription: string;
  /** The math the device used: tf32 only where asked for on a GPU. */
  precision: Precision;
  batchSize: number;
  iterations: number;
  layers: LayerTiming[];
  /** Sums of the per-layer medians. */
  forwardMs: number;
  backwardMs: number;
  layerSumMs: number;
  /** Median of the solver's update (SGD of every learnable parameter, then the diffs cleared), timed alone. */
  updateMs: number;
  /** Median of an empty device synchronize: each per-layer figure (and the update row) includes one. */
  synchronizeMs: number;
  /** Medians of whole passes, timed separately; iterationMs is the median of forward + backward + update. */
  iterationMs: number;
  iterationForwardMs: number;
  iterationBackwardMs: number;
  iterationUpdateMs: number;
}

/** The update `cudnet time` applies: SGD with the momentum and weight decay of Caffe's LeNet and AlexNet solvers. */
const TIMED_UPDATE: UpdateSettings = {
  type: 'SGD', momentum: 0.9, momentum2: 0.999, rmsDecay: 0.99, delta: 1e-8, weightDecay: 5e-4, regularization: 'L2',
};
const TIMED_RATE = 0.01;

/**
 * The solver's work besides forward and backward, with its own history blobs: SGDSolver::ApplyUpdate
 * (the fused per-blob op) and the ClearParamDiffs that Solver::Step runs before the next iteration.
 */
class TimedUpdate {
  private readonly histories: Tensor[];
  private iteration = 0;

  constructor(private readonly net: NetLike) {
    this.histories = net.learnableParams.map((param) => Tensor.zeros(param.blob.shape, param.blob.data.device));
  }

  /** Queues the update of every learnable parameter, then clears the diffs (they accumulate over backward calls). */
  apply(): void {
    this.net.learnableParams.forEach((param, index) => {
      const target = { weights: param.blob.data, gradient: param.blob.diff, lrMult: param.lrMult, decayMult: param.decayMult };
      updateParam(TIMED_UPDATE, TIMED_RATE, this.iteration, target, this.histories[index]!, null);
    });
    this.net.clearParamDiffs();
    this.iteration++;
  }

  dispose(): void {
    for (const history of this.histories) history.dispose();
  }
}

/** One batch of random images (uniform [0, 1)) and labels cycling over the classes, served at every forward. */
class RandomSource implements BatchSource {
  private readonly batch: { data: Float32Array; labels: Float32Array };

  constructor(readonly batchShape: [number, number, number, number], classes: number) {
    const [N, C, H, W] = batchShape;
    const data = new Float32Array(N * C * H * W);
    for (let i = 0; i < data.length; i++) data[i] = Math.random();
    this.batch = { data, labels: Float32Array.from({ length: N }, (_, n) => n % classes) };
  }

  async next(): Promise<{ data: Float32Array; labels: Float32Array }> {
    return this.batch;
  }

  async close(): Promise<void> {}
}

function parseShape(text: string): [number, number, number] {
  const match = /^(\d+)x(\d+)x(\d+)$/.exec(text);
  if (!match) throw new UsageError(`Expected <C>x<H>x<W> for --input-shape but received ${JSON.stringify(text)}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** The TRAIN-phase net to time, with random data behind its Data layers. */
async function timingNet(flags: ParsedFlags, device: Device): Promise<{ net: NetLike; name: string }> {
  const name = String(flags.network);
  const batch = flags['batch-size'] as number | undefined;
  let parameter: NetParameter;
  let shape: [number, number, number];
  if (name === 'lenet' || name === 'alexnet') {
    const batchSize = batch ?? (name === 'lenet' ? 64 : 16);
    parameter = name === 'lenet' ? lenet({ batchSize, testBatchSize: batchSize }) : alexnet({ batchSize, testBatchSize: batchSize });
    shape = name === 'lenet' ? [1, 28, 28] : [3, 227, 227];
    return { net: build(parameter, device, batchSize, shape), name };
  }
  await checkInputPath('network', name, 'file');
  parameter = await loadNetPrototxt(name);
  const dataLayer = dataLayerOf(parameter, 'TRAIN');
  if (dataLayer && flags['input-shape'] === undefined)
    throw new UsageError(`${name} has a Data layer: give its image shape with --input-shape <C>x<H>x<W>`);
  shape = flags['input-shape'] !== undefined ? parseShape(String(flags['input-shape'])) : [1, 1, 1];
  const batchSize = batch ?? dataLayer?.data_param?.batch_size ?? 1;
  return { net: build(parameter, device, batchSize, shape), name };
}

function build(parameter: NetParameter, device: Device, batchSize: number, shape: [number, number, number]): NetLike {
  const classes = lastOutputCount(parameter);
  const source = new RandomSource([batchSize, ...shape], classes);
  return Net.fromParameter(parameter, { phase: 'TRAIN', device, sources: { '*': source }, seed: 1 });
}

/** num_output of the last InnerProduct (the class count labels must stay below). */
function lastOutputCount(parameter: NetParameter): number {
  const last = parameter.layer.filter((layer) => layer.type === 'InnerProduct').at(-1);
  return last?.inner_product_param?.num_output ?? 1;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Each layer alone, forward in order then backward in reverse, then the update, synchronised around every call. */
async function timeLayers(
  net: NetLike, update: TimedUpdate, iterations: number,
): Promise<{ forward: number[][]; backward: number[][]; update: number[] }> {
  const count = net.layers.length;
  const forward = Array.from({ length: count }, () => [] as number[]);
  const backward = Array.from({ length: count }, () => [] as number[]);
  const updates: number[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    await net.device.synchronize();
    for (let index = 0; index < count; index++) {
      const start = performance.now();
      await net.forwardLayer(index);
      await net.device.synchronize();
      forward[index]!.push(performance.now() - start);
    }
    for (let index = count - 1; index >= 0; index--) {
      const start = performance.now();
      net.backwardLayer(index);
      await net.device.synchronize();
      backward[index]!.push(performance.now() - start);
    }
    const start = performance.now();
    update.apply();
    await net.device.synchronize();
    updates.push(performance.now() - start);
  }
  return { forward, backward, update: updates };
}

/** Whole training iterations: Net::Forward, Net::Backward and the update, each phase timed on its own. */
async function timeIterations(
  net: NetLike, update: TimedUpdate, iterations: number,
): Promise<{ forward: number[]; backward: number[]; update: number[] }> {
  const forward: number[] = [];
  const backward: number[] = [];
  const updates: number[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    await net.device.synchronize();
    const start = performance.now();
    await net.forward();
    await net.device.synchronize();
    const middle = performance.now();
    net.backward();
    await net.device.synchronize();
    const backwardEnd = performance.now();
    update.apply();
    await net.device.synchronize();
    forward.push(middle - start);
    backward.push(backwardEnd - middle);
    updates.push(performance.now() - backwardEnd);
  }
  return { forward, backward, update: updates };
}

/** Median of empty synchronize round trips: the fixed cost inside every per-layer figure. */
async function timeSynchronize(device: Device, iterations: number): Promise<number> {
  const times: number[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    const start = performance.now();
    await device.synchronize();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Times the network the flags name. */
export async function timeNetwork(flags: ParsedFlags): Promise<TimeReport> {
  const device = resolveDevice(String(flags.device) as DeviceName);
  const precision = await applyPrecision(device, String(flags.precision ?? 'fp32') as Precision);
  const { net, name } = await timingNet(flags, device);
  const update = new TimedUpdate(net);
  try {
    const iterations = Number(flags.iterations);
    await net.forward();
    net.backward();
    update.apply();
    await device.synchronize();
    const perLayer = await timeLayers(net, update, iterations);
    const synchronizeMs = await timeSynchronize(device, iterations);
    const whole = await timeIterations(net, update, iterations);
    const layers = net.layers.map((layer, index) => ({
      name: layer.name, type: layer.type, forwardMs: median(perLayer.forward[index]!), backwardMs: median(perLayer.backward[index]!),
    }));
    const forwardMs = layers.reduce((sum, layer) => sum + layer.forwardMs, 0);
    const backwardMs = layers.reduce((sum, layer) => sum + layer.backwardMs, 0);
    const totals = whole.forward.map((value, index) => value + whole.backward[index]! + whole.update[index]!);
    const first = net.layers[0]?.tops[0];
    return {
      network: name, device: device.name, deviceDescription: device.description, precision,
      batchSize: (first && net.blobs.get(first)?.shape[0]) || 0, iterations, layers,
      forwardMs, backwardMs, layerSumMs: forwardMs + backwardMs, updateMs: median(perLayer.update), synchronizeMs,
      iterationMs: median(totals), iterationForwardMs: median(whole.forward), iterationBackwardMs: median(whole.backward),
      iterationUpdateMs: median(whole.update),
    };
  } finally {
    update.dispose();
    net.dispose();
  }
}

function formatTable(report: TimeReport): string {
  const nameWidth = Math.max(5, ...report.layers.map((layer) => layer.name.length)) + 2;
  const typeWidth = Math.max(4, ...report.layers.map((layer) => layer.type.length)) + 2;
  const ms = (value: number) => value.toFixed(3).padStart(12);
  const blank = ''.padStart(12);
  const lines = [
    `${report.network}, batch ${report.batchSize}, ${report.iterations} iterations, ${report.device} (${report.deviceDescription}), ${report.precision}`,
    `${'layer'.padEnd(nameWidth)}${'type'.padEnd(typeWidth)}${'forward ms'.padStart(12)}${'backward ms'.padStart(12)}${'update ms'.padStart(12)}`,
    ...report.layers.map((layer) => `${layer.name.padEnd(nameWidth)}${layer.type.padEnd(typeWidth)}${ms(layer.forwardMs)}${ms(layer.backwardMs)}`),
    `${'update'.padEnd(nameWidth)}${'SGD'.padEnd(typeWidth)}${blank}${blank}${ms(report.updateMs)}`,
    `${'sum of layers'.padEnd(nameWidth + typeWidth)}${ms(report.forwardMs)}${ms(report.backwardMs)}  = ${report.layerSumMs.toFixed(3)} ms`,
    `${'(each row includes one synchronize:'.padEnd(nameWidth + typeWidth)}${ms(report.synchronizeMs)} ms alone)`,
    `${'whole iteration'.padEnd(nameWidth + typeWidth)}${ms(report.iterationForwardMs)}${ms(report.iterationBackwardMs)}${ms(report.iterationUpdateMs)}  = ${report.iterationMs.toFixed(3)} ms (median)`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `cudnet time ...`: returns the exit code. */
export async function runTimeCli(argv: readonly string[], streams: CliStreams): Promise<number> {
  const { flags, positionals, help } = parseFlags(argv, TIME_FLAGS);
  if (help) {
    streams.stdout.write(`${TIME_USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new CudnetError('USAGE', `cudnet time takes no positional arguments but received ${positionals.map((text) => JSON.stringify(text)).join(' ')}`);
  const report = await timeNetwork(flags);
  streams.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report));
  return 0;
}
