// wiring.ts — builds a net's layers from a NetParameter: filtering, splits, blobs, set-up, loss weights, shared parameters.
import { ParamSpecSchema, type LayerParameter, type NetParameter, type TextPosition } from '../caffe/index.js';
import type { BatchSource } from '../data/batch-source.js';
import type { Device } from '../device.js';
import { CudnetError } from '../errors.js';
import { formatShape } from '../tensor.js';
import { Blob } from './blob.js';
import type { LearnableParam, Phase } from './contract.js';
import { layerIncluded, type NetStateOf } from './filter.js';
import type { Layer } from './layer.js';
import type { Random } from './random.js';
import { createLayer, describeSource, type LayerSource } from './registry.js';
import { insertSplits } from './splits.js';

/** One built layer with its blobs. */
export interface WiredLayer {
  layer: Layer;
  bottoms: Blob[];
  tops: Blob[];
}

/** A top whose value counts in the net's loss, with its weight (also stored as the top's diff). */
export interface LossTop {
  blob: Blob;
  weight: number;
}

/** Everything the net keeps from the build. */
export interface Wiring {
  layers: WiredLayer[];
  /** Every blob by name, in creation order. */
  blobs: Map<string, Blob>;
  /** Blobs no later layer consumes. */
  outputNames: string[];
  lossTops: LossTop[];
  learnableParams: LearnableParam[];
  /** The layers' parameters after filtering and split insertion. */
  layerParameters: LayerParameter[];
}

export interface WiringOptions {
  state: NetStateOf;
  device: Device;
  random: Random;
  sources?: Record<string, BatchSource>;
  file?: string;
  /** Where each layer was written in the prototxt, by layer name. */
  positions?: ReadonlyMap<string, TextPosition>;
}

/** Re-raises an error from building layer `param` with the layer's name, type and place in the file. */
export function layerError(error: unknown, param: LayerParameter, source?: LayerSource): CudnetError {
  // The registry's message already names the layer and its place.
  if (error instanceof CudnetError && error.code === 'UNKNOWN_LAYER_TYPE') return error;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new CudnetError(typeof code === 'string' ? code : 'INVALID_NET',
    `layer '${param.name}' (${param.type})${describeSource(source)}: ${message}`, { cause: error });
}

/** Filters the layers by the net state, inserts the splits, then builds each layer in order. */
export function wireNet(net: NetParameter, options: WiringOptions): Wiring {
  const kept = net.layer.filter((layer) => layerIncluded(options.state, layer));
  const layerParameters = insertSplits(kept);
  const wiring: Wiring = { layers: [], blobs: new Map(), outputNames: [], lossTops: [], learnableParams: [], layerParameters };
  const available = new Set<string>();
  const sharedOwners = new Map<string, { blob: Blob; layerName: string; param: LearnableParam }>();
  for (const param of layerParameters) {
    const source: LayerSource = { file: options.file, position: options.positions?.get(param.name) };
    try {
      const wired = wireLayer(param, options, wiring, available);
      appendLossTops(wired, wiring);
      appendParams(wired, wiring, sharedOwners);
      wiring.layers.push(wired);
    } catch (error) {
      throw layerError(error, param, source);
    }
  }
  wiring.outputNames = [...available];
  return wiring;
}

/** Creates the layer, finds its bottoms, makes (or reuses, in place) its tops, and sets it up. */
function wireLayer(param: LayerParameter, options: WiringOptions, wiring: Wiring, available: Set<string>): WiredLayer {
  const phase: Phase = param.phase ?? options.state.phase;
  const layer = createLayer({ ...param, phase }, {
    device: options.device, phase, random: options.random, sources: options.sources,
  }, { file: options.file, position: options.positions?.get(param.name) });
  const bottoms = param.bottom.map((name) => {
    const blob = wiring.blobs.get(name);
    if (!blob) throw new CudnetError('UNKNOWN_BLOB', `unknown bottom blob '${name}'`);
    available.delete(name);
    return blob;
  });
  const tops = param.top.map((name, j) => {
    if (param.bottom[j] === name) {
      available.add(name);
      return bottoms[j]; // in place: the top is the bottom blob
    }
    if (wiring.blobs.has(name))
      throw new CudnetError('INVALID_NET', `top blob '${name}' is produced by more than one layer ` +
        `(a top may reuse a name only in place, as the bottom at the same position)`);
    const blob = new Blob(name, options.device);
    wiring.blobs.set(name, blob);
    available.add(name);
    return blob;
  });
  layer.setUp(bottoms, tops);
  return { layer, bottoms, tops };
}

/** Loss weights: the prototxt's (one per top) or the layer's default; stored in the tops' diffs. */
function appendLossTops(wired: WiredLayer, wiring: Wiring): void {
  const { layer, tops } = wired;
  const given = layer.param.loss_weight;
  if (given.length > 0 && given.length !== tops.length)
    throw new CudnetError('INVALID_NET', `loss_weight must be given once per top (${tops.length}) or not at all, not ${given.length} times`);
  tops.forEach((blob, j) => {
    const weight = given.length > 0 ? given[j] : layer.defaultLossWeight(j);
    if (weight === 0) return;
    blob.diff.fill(weight);
    wiring.lossTops.push({ blob, weight });
  });
}

type SharedOwners = Map<string, { blob: Blob; layerName: string; param: LearnableParam }>;

/**
 * Registers the layer's parameter blobs with their ParamSpec (lr_mult, decay_mult default 1). A
 * blob with a `name` already seen shares the owner's data and diff (shapes must match, or only
 * the counts with share_mode PERMISSIVE) and is listed once, with the owner's multipliers.
 */
function appendParams(wired: WiredLayer, wiring: Wiring, sharedOwners: SharedOwners): void {
  const { layer } = wired;
  const specs = layer.param.param;
  if (specs.length > layer.blobs.length)
    throw new CudnetError('INVALID_NET', `${specs.length} param specs are given but the layer has ${layer.blobs.length} parameter blobs`);
  layer.blobs.forEach((blob, index) => {
    const spec = specs[index] ?? ParamSpecSchema.parse({});
    layer.paramPropagateDown[index] = spec.lr_mult !== 0;
    const owner = spec.name ? sharedOwners.get(spec.name) : undefined;
    if (owner) {
      shareParam(blob, owner.blob, spec.share_mode === 'PERMISSIVE', spec.name, owner.layerName, layer.name);
      return;
    }
    const learnable: LearnableParam = {
      name: spec.name || `${layer.name}/${index}`, layerName: layer.name, index, blob,
      lrMult: spec.lr_mult, decayMult: spec.decay_mult,
    };
    wiring.learnableParams.push(learnable);
    if (spec.name) sharedOwners.set(spec.name, { blob, layerName: layer.name, param: learnable });
  });
}

function shareParam(blob: Blob, owner: Blob, permissive: boolean, name: string, ownerLayer: string, layerName: string): void {
  const compatible = permissive ? blob.count === owner.count
    : blob.shape.length === owner.shape.length && blob.shape.every((d, i) => d === owner.shape[i]);
  if (!compatible)
    throw new CudnetError('SHAPE_MISMATCH',
      `cannot share param '${name}' owned by layer '${ownerLayer}' with layer '${layerName}': ` +
      `${permissive ? 'count' : 'shape'} mismatch (owner ${formatShape(owner.shape)}, this layer ${formatShape(blob.shape)})`);
  blob.shareData(owner);
  blob.shareDiff(owner);
}
