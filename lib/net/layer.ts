// layer.ts — Layer: the base of every layer type, Caffe's contract (setUp = check blob counts → layerSetUp → reshape; forward; backward).
import type { LayerParameter } from '../caffe/index.js';
import type { BatchSource } from '../data/batch-source.js';
import type { Device } from '../device.js';
import { CudnetError } from '../errors.js';
import { formatShape, type Shape } from '../tensor.js';
import { Blob } from './blob.js';
import type { Phase } from './contract.js';
import { fillTensor, type FillerSpec } from './fillers.js';
import type { Random } from './random.js';

/** What a layer gets from the net that builds it. */
export interface LayerContext {
  device: Device;
  /** The layer's phase: its own `phase` field, else the net's. */
  phase: Phase;
  /** The net's generator: fillers draw from it in layer order, so a seed fixes every weight. */
  random: Random;
  /** Batch sources for Data layers, by layer name ('*' for the only Data layer). */
  sources?: Readonly<Record<string, BatchSource>>;
}

/** How many bottoms and tops a layer type takes; absent limits are not checked. */
export interface BlobCounts {
  exactBottoms?: number;
  minBottoms?: number;
  maxBottoms?: number;
  exactTops?: number;
  minTops?: number;
  maxTops?: number;
}

/**
 * A layer, Caffe's contract: the constructor only stores the parameters; `setUp` checks the
 * number of bottoms and tops (declared by `blobCounts`, checked here once for every type), runs
 * the one-time `layerSetUp` (creating and filling the learnable `blobs`) and then `reshape`.
 * `forward` computes the tops from the bottoms; `backward` writes the bottom diffs where
 * `propagateDown` asks (overwriting them) and ADDS the parameter gradients to the blobs' diffs
 * where `paramPropagateDown` asks (the solver clears them each iteration).
 */
export abstract class Layer {
  /** Learnable parameter blobs (weights, biases); the net may replace one by a shared blob. */
  blobs: Blob[] = [];
  /** Whether backward computes each parameter's gradient (false for lr_mult 0). */
  paramPropagateDown: boolean[] = [];
  readonly device: Device;
  readonly phase: Phase;
  protected readonly random: Random;

  constructor(
    readonly param: LayerParameter,
    protected readonly context: LayerContext,
  ) {
    this.device = context.device;
    this.phase = context.phase;
    this.random = context.random;
  }

  get name(): string {
    return this.param.name;
  }

  get type(): string {
    return this.param.type;
  }

  /** The numbers of bottoms and tops this type takes. */
  get blobCounts(): BlobCounts {
    return {};
  }

  /** The loss weight of top `index` when the prototxt gives none: 1 for top 0 of a loss layer, else 0. */
  defaultLossWeight(_index: number): number {
    return 0;
  }

  /** Whether force_backward may make this layer compute bottom `index`'s diff (false for labels). */
  allowForceBackward(_index: number): boolean {
    return true;
  }

  /** False for layers with no gradient (Accuracy, Data): the net never runs their backward. */
  get hasBackward(): boolean {
    return true;
  }

  /** Caffe's SetUp: checks the blob counts, then the one-time setup, then the shapes of the tops. */
  setUp(bottoms: Blob[], tops: Blob[]): void {
    this.checkBlobCounts(bottoms.length, tops.length);
    this.layerSetUp(bottoms, tops);
    this.reshape(bottoms, tops);
  }

  /** One-time setup: read the parameters, create and fill `blobs`. */
  protected layerSetUp(_bottoms: Blob[], _tops: Blob[]): void {}

  /** Sets the shapes of the tops (and internal buffers) from the bottoms'; called before every forward. */
  abstract reshape(bottoms: Blob[], tops: Blob[]): void;

  /** Computes the tops. Data layers return a Promise (they wait for the next batch). */
  abstract forward(bottoms: Blob[], tops: Blob[]): void | Promise<void>;

  /** Writes bottom diffs where propagateDown[i], and accumulates parameter gradients. */
  backward(_tops: Blob[], _propagateDown: boolean[], _bottoms: Blob[]): void {}

  /** Frees internal buffers (masks, temporaries); the net frees the blobs. */
  dispose(): void {}

  /** Creates learnable blob `index` with `shape`, filled by `filler` (constant 0 when absent). */
  protected createParam(index: number, shape: Shape, filler: FillerSpec | undefined): Blob {
    const blob = new Blob(`${this.name}/${index}`, this.device, shape);
    fillTensor(blob.data, filler, this.random);
    this.blobs[index] = blob;
    return blob;
  }

  /** An error with `code` about this layer's parameters or inputs (the net adds the layer's name). */
  protected fail(code: string, message: string): CudnetError {
    return new CudnetError(code, message);
  }

  /** Throws SHAPE_MISMATCH unless `blob` has `expected` shape. */
  protected requireShape(what: string, blob: Blob, expected: Shape): void {
    const same = blob.shape.length === expected.length && blob.shape.every((d, i) => d === expected[i]);
    if (!same)
      throw this.fail('SHAPE_MISMATCH',
        `${what} '${blob.name}' has shape ${formatShape(blob.shape)} but ${formatShape(expected)} is needed`);
  }

  /** Throws SHAPE_MISMATCH unless `labels` holds one value per position of `scores` outside `axis` (loss and accuracy layers). */
  protected requireOneLabelPerPosition(scores: Blob, labels: Blob, axis: number): void {
    const positions = countOf(scores.shape, 0, axis) * countOf(scores.shape, axis + 1);
    if (labels.count !== positions)
      throw this.fail('SHAPE_MISMATCH',
        `labels '${labels.name}' (${labels.shape.join('x')}) must hold one label per position of ` +
        `'${scores.name}' (${scores.shape.join('x')}): ${positions} values, not ${labels.count}`);
  }

  private checkBlobCounts(bottoms: number, tops: number): void {
    const counts = this.blobCounts;
    const check = (what: string, actual: number, exact?: number, min?: number, max?: number) => {
      const [relation, limit] =
        exact !== undefined && actual !== exact ? ['exactly', exact]
        : min !== undefined && actual < min ? ['at least', min]
        : max !== undefined && actual > max ? ['at most', max]
        : [undefined, 0];
      if (relation)
        throw new CudnetError('BLOB_COUNT',
          `${this.type} takes ${relation} ${limit} ${what}${limit === 1 ? '' : 's'} but has ${actual}`);
    };
    check('bottom', bottoms, counts.exactBottoms, counts.minBottoms, counts.maxBottoms);
    check('top', tops, counts.exactTops, counts.minTops, counts.maxTops);
  }
}

/** A layer class as the registry holds it. */
export interface LayerClass {
  new (param: LayerParameter, context: LayerContext): Layer;
  /** The prototxt type name, e.g. "Convolution". */
  readonly type: string;
}

/** Caffe's CanonicalAxisIndex: a negative axis counts from the end; throws outside [-rank, rank). */
export function canonicalAxis(axis: number, rank: number, what = 'axis'): number {
  if (axis < -rank || axis >= rank)
    throw new CudnetError('INVALID_LAYER', `${what} ${axis} is out of range for a blob with ${rank} axes`);
  return axis < 0 ? axis + rank : axis;
}

/** The product of shape[start..end). */
export function countOf(shape: readonly number[], start = 0, end = shape.length): number {
  let count = 1;
  for (let i = start; i < end; i++) count *= shape[i];
  return count;
}
