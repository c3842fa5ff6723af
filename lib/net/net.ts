// net.ts — Net: a Caffe network built from a prototxt or a NetParameter; forward, backward, weights in and out.
import {
  NetParameterSchema, parseNetPrototxt, parseTextFormat, UNNAMED_FILE,
  type NetParameter, type NetParameterInput, type TextPosition,
} from '../caffe/index.js';
import { device as resolveDevice, type Device, type DeviceName } from '../device.js';
import { axpy, copyBlocks, dot, sumAbs } from '../ops/elementwise.js';
import { CudnetError } from '../errors.js';
import { Tensor, formatShape } from '../tensor.js';
import { planBackward, type BackwardPlan } from './backward-plan.js';
import { Blob } from './blob.js';
import { caffemodelOf, loadCaffemodelInto } from './caffemodel.js';
import type { BlobView, LearnableParam, NetLike, NetOptions, Phase } from './contract.js';
import type { NetStateOf } from './filter.js';
import type { Layer } from './layer.js';
import { Random } from './random.js';
import { layerError, wireNet, type LossTop, type WiredLayer } from './wiring.js';

/** The seed used when NetOptions.seed is not given, so nets are reproducible by default. */
export const DEFAULT_SEED = 1;

/**
 * A network of layers on one device, as Caffe's Net: layers filtered by phase, level and stages,
 * Split layers inserted where a blob fans out, shapes checked at build, the loss weighted by
 * loss_weight, and backward run only where a gradient is needed.
 */
export class Net implements NetLike {
  readonly name: string;
  readonly phase: Phase;
  readonly device: Device;
  readonly blobs: ReadonlyMap<string, Blob>;
  readonly params: ReadonlyMap<string, readonly Blob[]>;
  readonly learnableParams: readonly LearnableParam[];
  readonly outputNames: readonly string[];
  readonly layers: readonly { name: string; type: string; bottoms: string[]; tops: string[] }[];
  /** The state the net was built for. */
  readonly state: NetStateOf;
  private readonly wired: WiredLayer[];
  private readonly lossTops: LossTop[];
  private readonly plan: BackwardPlan;
  private readonly lossScalar: Tensor;
  private readonly lossTotal: Tensor;
  private disposed = false;

  /** Parses a network prototxt and builds it; errors name the file, line and layer. */
  static fromPrototxt(text: string, options: NetOptions = {}): Net {
    const file = options.file ?? UNNAMED_FILE;
    const parameter = parseNetPrototxt(text, { file });
    return new Net(parameter, { ...options, file }, layerPositions(text, file, parameter));
  }

  /** Builds a net from a NetParameter (from the parser, NetBuilder or code); defaults are filled in. */
  static fromParameter(parameter: NetParameter | NetParameterInput, options: NetOptions = {}): Net {
    return new Net(NetParameterSchema.parse(parameter), options);
  }

  private constructor(readonly parameter: NetParameter, options: NetOptions, positions?: Map<string, TextPosition>) {
    this.name = parameter.name;
    this.state = {
      phase: options.phase ?? parameter.state?.phase ?? 'TEST',
      level: options.level ?? parameter.state?.level ?? 0,
      stages: [...new Set([...(parameter.state?.stage ?? []), ...(options.stages ?? [])])],
    };
    this.phase = this.state.phase;
    this.device = resolveDevice((options.device ?? 'auto') as DeviceName | Device);
    const wiring = wireNet(parameter, {
      state: this.state, device: this.device, random: new Random(options.seed ?? DEFAULT_SEED),
      sources: options.sources, file: options.file, positions,
    });
    this.wired = wiring.layers;
    this.lossTops = wiring.lossTops;
    this.blobs = wiring.blobs;
    this.outputNames = wiring.outputNames;
    this.learnableParams = wiring.learnableParams;
    this.params = new Map(this.wired.filter(({ layer }) => layer.blobs.length > 0).map(({ layer }) => [layer.name, layer.blobs]));
    this.layers = this.wired.map(({ layer }) => ({
      name: layer.name, type: layer.type, bottoms: [...layer.param.bottom], tops: [...layer.param.top],
    }));
    this.plan = planBackward(this.wired, this.lossTops, parameter.force_backward);
    this.lossScalar = Tensor.empty([1], this.device);
    this.lossTotal = Tensor.empty([1], this.device);
    if (options.shareWeightsWith) this.shareWeightsWith(options.shareWeightsWith);
  }

  /** The layer objects in execution order (Split layers included). */
  get layerObjects(): readonly Layer[] {
    return this.wired.map(({ layer }) => layer);
  }

  /** The layer named `name`, if the net has one. */
  layer(name: string): Layer | undefined {
    return this.wired.find(({ layer }) => layer.name === name)?.layer;
  }

  /** Whether layer i runs backward, and for which of its bottoms a diff is computed. */
  backwardPlanOf(index: number): { layer: boolean; bottoms: readonly boolean[] } {
    return { layer: this.plan.layerNeedsBackward[index], bottoms: this.plan.bottomNeedsBackward[index] };
  }

  /** Runs every layer forward (reshaping first); resolves with sum over loss tops of loss_weight * value. */
  async forward(): Promise<number> {
    this.assertAlive('forward');
    for (const { layer, bottoms, tops } of this.wired) {
      layer.reshape(bottoms, tops);
      const pending = layer.forward(bottoms, tops);
      if (pending) await pending;
    }
    return this.readLoss();
  }

  /** Caffe computes a layer's loss as dot(top data, top diff), the diff holding the loss weight. */
  private async readLoss(): Promise<number> {
    if (this.lossTops.length === 0) return 0;
    if (this.lossTops.length === 1) {
      const [{ blob }] = this.lossTops;
      return (await dot(blob.data, blob.diff, this.lossTotal).data())[0];
    }
    this.lossTotal.fill(0);
    for (const { blob } of this.lossTops) axpy(1, dot(blob.data, blob.diff, this.lossScalar), this.lossTotal);
    return (await this.lossTotal.data())[0];
  }

  /** Runs backward from the last layer to the first where the plan says so (queued; nothing awaited). */
  backward(): void {
    this.assertAlive('backward');
    for (let i = this.wired.length - 1; i >= 0; i--) this.backwardLayer(i);
  }

  async forwardLayer(index: number): Promise<void> {
    const { layer, bottoms, tops } = this.wiredAt(index);
    layer.reshape(bottoms, tops);
    await layer.forward(bottoms, tops);
  }

  backwardLayer(index: number): void {
    const { layer, bottoms, tops } = this.wiredAt(index);
    if (this.plan.layerNeedsBackward[index]) layer.backward(tops, this.plan.bottomNeedsBackward[index], bottoms);
  }

  private wiredAt(index: number): WiredLayer {
    this.assertAlive('run a layer of');
    const wired = this.wired[index];
    if (!wired)
      throw new CudnetError('INVALID_ARGUMENT', `Expected a layer index in [0, ${this.wired.length}) for index but received ${index}`);
    return wired;
  }

  /** Zeroes every learnable parameter's diff (gradients accumulate across backward calls). */
  clearParamDiffs(): void {
    for (const param of this.learnableParams) (param.blob as Blob).diff.fill(0);
  }

  /** The values of the output blobs (loss, accuracy, ...) after forward. */
  async readOutputs(): Promise<Record<string, Float32Array>> {
    const values = await Promise.all(this.outputNames.map((name) => this.blobs.get(name)!.data.data()));
    return Object.fromEntries(this.outputNames.map((name, i) => [name, values[i]]));
  }

  /** Copies weights from a .caffemodel by layer name; returns the names of the layers loaded. */
  loadCaffemodel(bytes: Uint8Array): string[] {
    this.assertAlive('load weights into');
    return loadCaffemodelInto(this.wired, bytes);
  }

  /** The weights (and every layer's name, type, bottoms and tops) as a .caffemodel. */
  async toCaffemodel(): Promise<Uint8Array> {
    this.assertAlive('save');
    return caffemodelOf(this.name, this.wired);
  }

  /** Sets the batch size of every Input and DummyData layer (their first axis) and reshapes the net. */
  reshapeBatch(batchSize: number): void {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new CudnetError('INVALID_ARGUMENT', `Expected a positive integer for batchSize but received ${batchSize}`);
    for (const { layer } of this.wired) (layer as Partial<{ setBatchSize(n: number): void }>).setBatchSize?.(batchSize);
    this.reshape();
  }

  /** Recomputes every blob's shape from the inputs' (as forward does before each layer). */
  reshape(): void {
    for (const { layer, bottoms, tops } of this.wired) {
      try {
        layer.reshape(bottoms, tops);
      } catch (error) {
        throw layerError(error, layer.param);
      }
    }
    for (const { blob, weight } of this.lossTops) blob.diff.fill(weight);
  }

  /**
   * The first blob, in layer order, whose data or diff holds NaN or Inf: parameters then tops of
   * each layer. Resolves with a description such as "diff of blob 'ip1' (top of layer 'ip1')".
   */
  async firstNonFiniteBlob(): Promise<string | undefined> {
    const checks = this.finiteChecks();
    if (checks.length === 0) return undefined;
    const sums = Tensor.empty([checks.length], this.device);
    checks.forEach(([, tensor], i) => {
      sumAbs(tensor, this.lossScalar);
      copyBlocks(1, 1, this.lossScalar, 0, 1, sums, i, 1);
    });
    const values = await sums.data();
    sums.dispose();
    const index = values.findIndex((value) => !Number.isFinite(value));
    return index < 0 ? undefined : checks[index][0];
  }

  private finiteChecks(): [string, Tensor][] {
    const checks: [string, Tensor][] = [];
    for (const { layer, tops } of this.wired) {
      layer.blobs.forEach((blob, i) => {
        checks.push([`data of param ${i} of layer '${layer.name}'`, blob.data]);
        if (blob.hasDiff) checks.push([`diff of param ${i} of layer '${layer.name}'`, blob.diff]);
      });
      for (const top of tops) {
        checks.push([`data of blob '${top.name}' (top of layer '${layer.name}')`, top.data]);
        if (top.hasDiff) checks.push([`diff of blob '${top.name}' (top of layer '${layer.name}')`, top.diff]);
      }
    }
    return checks;
  }

  /** Caffe's ShareTrainedLayersWith: each layer with the same name in `other` lends its parameters' data. */
  private shareWeightsWith(other: NetLike): void {
    for (const { layer } of this.wired) {
      const source = other.params.get(layer.name);
      if (!source || layer.blobs.length === 0) continue;
      if (source.length !== layer.blobs.length)
        throw new CudnetError('SHAPE_MISMATCH',
          `layer '${layer.name}': cannot share weights, ${source.length} blobs in the other net but ${layer.blobs.length} here`);
      layer.blobs.forEach((blob, i) => {
        const view: BlobView = source[i];
        if (formatShape(view.shape) !== formatShape(blob.shape))
          throw new CudnetError('SHAPE_MISMATCH',
            `layer '${layer.name}' blob ${i}: cannot share weights of shape ${formatShape(view.shape)} with ${formatShape(blob.shape)}`);
        blob.shareData(view instanceof Blob ? view : Blob.borrow(view, this.device));
      });
    }
  }

  /** Frees every blob and layer buffer of this net (shared weights stay with their owner). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const { layer } of this.wired) {
      layer.dispose();
      for (const blob of layer.blobs) blob.dispose();
    }
    for (const blob of this.blobs.values()) blob.dispose();
    this.lossScalar.dispose();
    this.lossTotal.dispose();
  }

  private assertAlive(what: string): void {
    if (this.disposed) throw new CudnetError('DISPOSED', `cannot ${what} net '${this.name}': it was disposed`);
  }
}

/** Where each `layer { }` block starts in the text, by layer name (for error messages). */
function layerPositions(text: string, file: string, parameter: NetParameter): Map<string, TextPosition> {
  const blocks = parseTextFormat(text, { file }).fields.filter((field) => field.name === 'layer');
  // A legacy `input:` header becomes an Input layer placed before the written ones.
  const offset = parameter.layer.length - blocks.length;
  const positions = new Map<string, TextPosition>();
  blocks.forEach((block, i) => {
    const layer = parameter.layer[i + offset];
    if (layer && !positions.has(layer.name)) positions.set(layer.name, { line: block.line, column: block.column });
  });
  return positions;
}
