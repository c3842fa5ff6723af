// contract.ts — the engine's shared shapes: what a Net offers the solver, the CLI and the app.
// lib/net implements these; lib/solver, lib/cli and lib/app use only these (and lib/index.ts).
import type { Tensor } from '../tensor.js';
import type { Device } from '../device.js';
import type { BatchSource } from '../data/batch-source.js';

export type Phase = 'TRAIN' | 'TEST';

/** A named blob: data and diff tensors of one shape (Caffe's Blob). Diff is allocated on first use. */
export interface BlobView {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Tensor;
  readonly diff: Tensor;
}

/** One learnable parameter blob with the multipliers of its ParamSpec. */
export interface LearnableParam {
  /** "<layer>/<index>", or the shared param name when `param { name }` is given. */
  readonly name: string;
  readonly layerName: string;
  readonly index: number;
  readonly blob: BlobView;
  readonly lrMult: number;
  readonly decayMult: number;
}

export interface NetOptions {
  phase?: Phase;
  /** DIGITS uses stages such as 'train', 'val', 'deploy' in include/exclude rules. */
  stages?: string[];
  level?: number;
  device?: Device | string;
  /** File name shown in prototxt error messages. */
  file?: string;
  /** Share every learnable parameter (by layer name and index) with this net, as Caffe's test nets do. */
  shareWeightsWith?: NetLike;
  /** Sources for Data layers by layer name (or the single Data layer when only one is given as '*'). */
  sources?: Record<string, BatchSource>;
  /** Seed for fillers and dropout. */
  seed?: number;
}

/** What the solver, the CLI and the app rely on. */
export interface NetLike {
  readonly name: string;
  readonly phase: Phase;
  readonly device: Device;
  /** Every blob by name (tops of every layer), as Caffe's net.blobs. */
  readonly blobs: ReadonlyMap<string, BlobView>;
  /** Learnable blobs per layer name, as Caffe's net.params. */
  readonly params: ReadonlyMap<string, readonly BlobView[]>;
  /** Unique learnable parameters (shared ones once), in Caffe's order. */
  readonly learnableParams: readonly LearnableParam[];
  /** Names of the blobs no layer consumes (net outputs), e.g. 'loss', 'accuracy', 'prob'. */
  readonly outputNames: readonly string[];
  /** Per-layer names and types in execution order (for timing and the app). */
  readonly layers: readonly { name: string; type: string; bottoms: string[]; tops: string[] }[];
  /** Runs every layer forward; resolves with the total weighted loss (0 when there is no loss layer). */
  forward(): Promise<number>;
  /** Runs every layer backward (queues work; await a read or device.synchronize() to wait). */
  backward(): void;
  /** Runs layer i alone (both call reshape as needed), for per-layer timing. */
  forwardLayer(index: number): Promise<void>;
  backwardLayer(index: number): void;
  /** Zeroes every parameter diff (the solver does this each iteration). */
  clearParamDiffs(): void;
  /** Output values (e.g. loss and accuracy) after forward, read from the device. */
  readOutputs(): Promise<Record<string, Float32Array>>;
  /** Copies weights from a .caffemodel by layer name; returns the names of the layers loaded. */
  loadCaffemodel(bytes: Uint8Array): string[];
  /** The weights as a .caffemodel (NetParameter with blobs). */
  toCaffemodel(): Promise<Uint8Array>;
  /** Changes the batch size (the first axis of every input) and reshapes. */
  reshapeBatch?(batchSize: number): void;
  dispose(): void;
}
