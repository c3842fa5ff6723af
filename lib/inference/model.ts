// Model: a loaded classifier that serves concurrent classify/forward calls in fixed-size batches on one device.
import { parseNetPrototxt, printNetPrototxt, type NetParameter } from '../caffe/index.js';
import { device as resolveDevice, type Device, type DeviceName } from '../device.js';
import { CudnetError, invalidArgument } from '../errors.js';
import type { NetLike } from '../net/contract.js';
import { Tensor } from '../tensor.js';
import { Batcher, type BatcherStats } from './batcher.js';
import { DEFAULT_MODEL_MAX_INPUT_PIXELS } from './decode-limits.js';
import { inferenceError, messageOf } from './errors.js';
import { readModelFiles, type ModelFiles, type ModelSource } from './model-files.js';
import { buildDeployNet } from './net-factory.js';
import {
  decodeForModel, deployInput, describePreprocessing, imageToInput, resolvePreprocessing,
  type DeployInput, type Preprocessing,
} from './preprocessing.js';

export interface LoadModelOptions {
  /** 'cpu', 'cuda', 'cuda:N', 'auto' (default) or a Device. */
  device?: Device | DeviceName;
  /** Images per forward pass (default: the deploy input's N). Every batch is padded to this size. */
  batchSize?: number;
  /** How long the first request of a batch waits for others (default 2 ms). */
  maxWaitMs?: number;
  /**
   * The most pixels (width x height) an image may declare (default 40,000,000). A larger image is
   * refused from its header with IMAGE_TOO_LARGE before any pixel is decoded: a small compressed
   * file can declare a huge image (a 249 KB PNG of 16000 x 16000 decodes to 768 MB of RGB). Within
   * the limit, decodes of all models share one memory budget (a quarter of the process's memory,
   * between 256 MiB and 2 GiB): large images beyond it wait for earlier ones to finish.
   */
  maxInputPixels?: number;
}

export interface Prediction {
  label: string;
  index: number;
  probability: number;
}

/** Image bytes in any format sharp reads, or an input already preprocessed (C x H x W values). */
export type ModelInput = Uint8Array | Float32Array | Tensor;

/** One image's slice of a blob: shape [1, ...], values row-major. */
export interface BlobOutput {
  shape: number[];
  data: Float32Array;
}

interface BatchItem {
  input: Float32Array;
  outputs: readonly string[];
}

type ItemResult = Record<string, BlobOutput>;

/** Loads a model folder or explicit files; fails here, naming the file, when the files disagree. */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<Model> {
  checkOptions(options);
  const files = await readModelFiles(source);
  const deploy = parseDeploy(files);
  const input = deployInput(deploy, files.deploy.name);
  const preprocessing = resolvePreprocessing(files, deploy, input);
  const batchSize = options.batchSize ?? input.shape[0];
  const device = resolveDevice(options.device ?? 'auto');
  const net = buildNet(files, deploy, input, batchSize, device);
  try {
    loadWeights(net, files);
    const output = classifierOutput(net, files, batchSize);
    return new Model(net, files, preprocessing, input, output, batchSize, options.maxWaitMs ?? 2, options.maxInputPixels ?? DEFAULT_MODEL_MAX_INPUT_PIXELS);
  } catch (error) {
    net.dispose();
    throw error;
  }
}

const OPTION_NAMES = ['device', 'batchSize', 'maxWaitMs', 'maxInputPixels'];

function checkOptions(options: LoadModelOptions): void {
  for (const key of Object.keys(options))
    if (!OPTION_NAMES.includes(key)) throw invalidArgument(`one of ${OPTION_NAMES.join(', ')}`, 'option name', key, 'UNKNOWN_OPTION');
  if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize > 0))
    throw invalidArgument('a positive integer', 'batchSize', options.batchSize);
  if (options.maxWaitMs !== undefined && !(Number.isFinite(options.maxWaitMs) && options.maxWaitMs >= 0))
    throw invalidArgument('a number of milliseconds >= 0', 'maxWaitMs', options.maxWaitMs);
  if (options.maxInputPixels !== undefined && !(Number.isSafeInteger(options.maxInputPixels) && options.maxInputPixels > 0))
    throw invalidArgument('a positive integer number of pixels', 'maxInputPixels', options.maxInputPixels);
}

function parseDeploy(files: ModelFiles): NetParameter {
  try {
    return parseNetPrototxt(Buffer.from(files.deploy.bytes).toString('utf8'), { file: files.deploy.name });
  } catch (error) {
    throw inferenceError('MODEL_INVALID', messageOf(error), error);
  }
}

/** The deploy net with its input's N set to the batch size (every batch runs at that size). */
function buildNet(files: ModelFiles, deploy: NetParameter, input: DeployInput, batchSize: number, device: Device): NetLike {
  let text = Buffer.from(files.deploy.bytes).toString('utf8');
  if (batchSize !== input.shape[0]) {
    const layer = deploy.layer[input.layerIndex]!;
    const shape = { dim: [batchSize, ...input.shape.slice(1)] };
    const layers = deploy.layer.map((other) => (other === layer ? { ...layer, input_param: { shape: [shape] } } : other));
    text = printNetPrototxt({ ...deploy, layer: layers });
  }
  try {
    return buildDeployNet(text, device, files.deploy.name);
  } catch (error) {
    if (error instanceof CudnetError && /OUT_OF_MEMORY|CUDA/.test(error.code)) throw error;
    throw inferenceError('MODEL_INVALID', `${files.deploy.name} cannot be built: ${messageOf(error)}`, error);
  }
}

/** Copies the weights; every layer with parameters must find its own in the .caffemodel. */
function loadWeights(net: NetLike, files: ModelFiles): void {
  let loaded: string[];
  try {
    loaded = net.loadCaffemodel(files.weights.bytes);
  } catch (error) {
    const code = (error as { code?: string }).code === 'CAFFE_BINARY_CORRUPT' ? 'MODEL_INVALID' : 'MODEL_MISMATCH';
    throw inferenceError(code, `${files.weights.name} does not fit ${files.deploy.name}: ${messageOf(error)}`, error);
  }
  const missing = [...net.params].filter(([name, blobs]) => blobs.length > 0 && !loaded.includes(name)).map(([name]) => name);
  if (missing.length > 0)
    throw inferenceError('MODEL_MISMATCH', `${files.weights.name} has no weights for layer(s) ${missing.map((name) => `'${name}'`).join(', ')} of ${files.deploy.name}`);
}

/** The classifier's output: 'prob' or the last net output; its values per image must match labels.txt. */
function classifierOutput(net: NetLike, files: ModelFiles, batchSize: number): { name: string; softmax: boolean } {
  const name = net.outputNames.includes('prob') ? 'prob' : net.outputNames[net.outputNames.length - 1];
  if (name === undefined) throw inferenceError('MODEL_INVALID', `${files.deploy.name} has no output blob`);
  const classes = net.blobs.get(name)!.data.size / batchSize;
  const labels = files.labels?.labels;
  if (labels !== undefined && labels.length !== classes)
    throw inferenceError('MODEL_MISMATCH', `${files.labels!.name} has ${labels.length} labels but ${files.deploy.name} output "${name}" has ${classes} values per image`);
  const producer = [...net.layers].reverse().find((layer) => layer.tops.includes(name));
  return { name, softmax: producer?.type !== 'Softmax' };
}

export class Model {
  /** Class names, one per output (labels.txt; "0", "1", ... when none was given). */
  readonly labels: readonly string[];
  private readonly batcher: Batcher<BatchItem, ItemResult>;
  private readonly inputSize: number;
  private readonly padding: Float32Array;
  private disposedWith: CudnetError | undefined;

  /** @internal Use loadModel. */
  constructor(
    private readonly net: NetLike,
    readonly files: ModelFiles,
    private readonly steps: Preprocessing,
    private readonly input: DeployInput,
    private readonly output: { name: string; softmax: boolean },
    readonly batchSize: number,
    readonly maxWaitMs: number,
    /** Images declaring more pixels are refused before decoding (LoadModelOptions.maxInputPixels). */
    readonly maxInputPixels: number,
  ) {
    const classes = net.blobs.get(output.name)!.data.size / batchSize;
    this.labels = files.labels?.labels ?? Array.from({ length: classes }, (_, i) => String(i));
    this.inputSize = input.shape[1] * input.shape[2] * input.shape[3];
    this.padding = new Float32Array(this.inputSize * (batchSize - 1));
    this.batcher = new Batcher(batchSize, maxWaitMs, (items) => this.runBatch(items));
  }

  get device(): Device {
    return this.net.device;
  }

  /** The input blob's name and its per-image shape [C, H, W]. */
  get inputShape(): { name: string; shape: [number, number, number] } {
    return { name: this.input.name, shape: [this.input.shape[1], this.input.shape[2], this.input.shape[3]] };
  }

  /** What is done to an image before the net sees it, and where each fact came from. */
  get preprocessing(): Omit<Preprocessing, 'meanImage'> {
    return describePreprocessing(this.steps);
  }

  /** Every blob name forward() can return. */
  get blobNames(): string[] {
    return [...this.net.blobs.keys()];
  }

  /** The topK classes of one image, most probable first. */
  async classify(image: ModelInput, options: { topK?: number } = {}): Promise<Prediction[]> {
    const topK = options.topK ?? 5;
    if (!Number.isInteger(topK) || topK < 1) throw invalidArgument('a positive integer', 'topK', topK);
    const result = await this.submit(image, [this.output.name]);
    const values = result[this.output.name]!.data;
    return topPredictions(this.output.softmax ? softmax(values) : values, this.labels, topK);
  }

  /** classify() for each image; they join the same batches. Rejects with the first failure. */
  classifyBatch(images: readonly ModelInput[], options: { topK?: number } = {}): Promise<Prediction[][]> {
    return Promise.all(images.map((image) => this.classify(image, options)));
  }

  /** Any blobs of one image after the forward pass (in-place layers leave their output in their bottom's blob). */
  async forward(input: ModelInput, options: { outputs?: readonly string[] } = {}): Promise<Record<string, BlobOutput>> {
    const outputs = options.outputs ?? [this.output.name];
    for (const name of outputs)
      if (!this.net.blobs.has(name)) throw invalidArgument(`a blob of the net (${this.blobNames.join(', ')})`, 'outputs', name);
    return this.submit(input, outputs);
  }

  /** An image as the net's input: C x H x W float32 values (decoding runs on libuv's pool). */
  async preprocess(image: ModelInput): Promise<Float32Array> {
    let values: Float32Array;
    if (image instanceof Float32Array) values = image;
    else if (image instanceof Tensor) values = await image.data();
    else if (image instanceof Uint8Array) return imageToInput(await decodeForModel(image, this.steps, this.maxInputPixels), this.steps);
    else throw invalidArgument('image bytes (Buffer), a Float32Array or a Tensor', 'image', image);
    if (values.length !== this.inputSize) {
      const [C, H, W] = this.inputShape.shape;
      throw new CudnetError('SHAPE_MISMATCH', `a preprocessed input must hold ${C}x${H}x${W} = ${this.inputSize} values but has ${values.length}`);
    }
    return values;
  }

  /** Batches run and images served so far, and requests waiting now. */
  stats(): BatcherStats {
    return this.batcher.stats();
  }

  /** Rejects waiting requests, lets the running batch finish, then frees the net's device memory. */
  async dispose(): Promise<void> {
    if (this.disposedWith !== undefined) return;
    this.disposedWith = inferenceError('DISPOSED', 'the model was disposed');
    await this.batcher.close(this.disposedWith);
    this.net.dispose();
  }

  private async submit(image: ModelInput, outputs: readonly string[]): Promise<ItemResult> {
    if (this.disposedWith !== undefined) throw this.disposedWith;
    const input = await this.preprocess(image);
    return this.batcher.submit({ input, outputs });
  }

  /** Fills the input blob (padding unused slots with zeros so every batch computes the same way), runs, slices. */
  private async runBatch(items: BatchItem[]): Promise<ItemResult[]> {
    const input = this.net.blobs.get(this.input.name)!.data;
    items.forEach((item, i) => input.write(item.input, i * this.inputSize));
    if (items.length < this.batchSize)
      input.write(this.padding.subarray(0, (this.batchSize - items.length) * this.inputSize), items.length * this.inputSize);
    await this.net.forward();
    const names = [...new Set(items.flatMap((item) => item.outputs))];
    const blobs = await Promise.all(names.map(async (name) => {
      const blob = this.net.blobs.get(name)!;
      return { name, shape: [...blob.shape], values: await blob.data.data() };
    }));
    return items.map((item, i) => sliceItem(blobs.filter((blob) => item.outputs.includes(blob.name)), i, this.batchSize));
  }
}

function sliceItem(blobs: { name: string; shape: number[]; values: Float32Array }[], index: number, batchSize: number): ItemResult {
  const result: ItemResult = {};
  for (const blob of blobs) {
    const perItem = blob.values.length / batchSize;
    result[blob.name] = { shape: [1, ...blob.shape.slice(1)], data: blob.values.slice(index * perItem, (index + 1) * perItem) };
  }
  return result;
}

/** Softmax in float64, for nets whose last layer is not a Softmax. */
function softmax(values: Float32Array): Float32Array {
  const max = Math.max(...values);
  const exps = Array.from(values, (value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps, (value) => value / sum);
}

/** The topK classes, most probable first (ties by lower index). */
export function topPredictions(probabilities: Float32Array, labels: readonly string[], topK: number): Prediction[] {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  return order.slice(0, topK).map((index) => ({ label: labels[index] ?? String(index), index, probability: probabilities[index]! }));
}
