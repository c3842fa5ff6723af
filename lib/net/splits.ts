// splits.ts — Caffe's InsertSplits: a Split layer after every top that feeds several bottoms (or a bottom and a loss).
import { LayerParameterSchema, type LayerParameter } from '../caffe/index.js';
import { CudnetError } from '../errors.js';

/** "<blob>_<layer>_<top index>_split", the Split layer's name. */
export function splitLayerName(layerName: string, blobName: string, topIndex: number): string {
  return `${blobName}_${layerName}_${topIndex}_split`;
}

/** "<blob>_<layer>_<top index>_split_<i>", its i-th top. */
export function splitBlobName(layerName: string, blobName: string, topIndex: number, splitIndex: number): string {
  return `${splitLayerName(layerName, blobName, topIndex)}_${splitIndex}`;
}

/** A top of a layer: [layer index, top index]. */
type TopKey = string;
const keyOf = (layer: number, top: number): TopKey => `${layer}:${top}`;

interface Consumers {
  /** For each (layer, bottom index): the top it reads. */
  sourceOf: Map<TopKey, [number, number]>;
  /** How many bottoms (and loss uses) read each top. */
  count: Map<TopKey, number>;
  /** The loss weight of each top that has one. */
  lossWeight: Map<TopKey, number>;
}

/** First pass: which top each bottom reads, and how many readers each top has. */
function countConsumers(layers: readonly LayerParameter[]): Consumers {
  const lastTop = new Map<string, [number, number]>();
  const consumers: Consumers = { sourceOf: new Map(), count: new Map(), lossWeight: new Map() };
  const addUse = (top: [number, number]) => {
    const key = keyOf(...top);
    consumers.count.set(key, (consumers.count.get(key) ?? 0) + 1);
  };
  layers.forEach((layer, i) => {
    layer.bottom.forEach((blob, j) => {
      const top = lastTop.get(blob);
      if (!top)
        throw new CudnetError('UNKNOWN_BLOB', `layer '${layer.name}' (${layer.type}): unknown bottom blob '${blob}' ` +
          `(bottom ${j}); no earlier layer produces it`);
      consumers.sourceOf.set(keyOf(i, j), top);
      addUse(top);
    });
    layer.top.forEach((blob, j) => lastTop.set(blob, [i, j]));
    // A top used as a loss counts as one more reader, so a loss top that also feeds a layer is split.
    layer.loss_weight.slice(0, layer.top.length).forEach((weight, j) => {
      const top = lastTop.get(layer.top[j])!;
      consumers.lossWeight.set(keyOf(...top), weight);
      if (weight !== 0) addUse(top);
    });
  });
  return consumers;
}

/**
 * Returns the layers with Split layers inserted where a top has more than one reader: each
 * reader then reads its own split top, and backward sums their diffs into the producer's.
 */
export function insertSplits(layers: readonly LayerParameter[]): LayerParameter[] {
  const consumers = countConsumers(layers);
  const nextSplitIndex = new Map<TopKey, number>();
  const result: LayerParameter[] = [];
  layers.forEach((original, i) => {
    const layer: LayerParameter = { ...original, bottom: [...original.bottom], loss_weight: [...original.loss_weight] };
    result.push(layer);
    layer.bottom.forEach((blob, j) => {
      const [producer, topIndex] = consumers.sourceOf.get(keyOf(i, j))!;
      const key = keyOf(producer, topIndex);
      if ((consumers.count.get(key) ?? 0) <= 1) return;
      const splitIndex = nextSplitIndex.get(key) ?? 0;
      nextSplitIndex.set(key, splitIndex + 1);
      layer.bottom[j] = splitBlobName(layers[producer].name, blob, topIndex, splitIndex);
    });
    layer.top.forEach((blob, j) => {
      const key = keyOf(i, j);
      const count = consumers.count.get(key) ?? 0;
      if (count <= 1) return;
      const lossWeight = consumers.lossWeight.get(key) ?? 0;
      result.push(splitLayer(layer.name, blob, j, count, lossWeight));
      if (lossWeight !== 0) {
        // The loss moves to the split's first top, which nobody else reads.
        layer.loss_weight = [];
        nextSplitIndex.set(key, (nextSplitIndex.get(key) ?? 0) + 1);
      }
    });
  });
  return result;
}

function splitLayer(layerName: string, blobName: string, topIndex: number, count: number, lossWeight: number): LayerParameter {
  return LayerParameterSchema.parse({
    name: splitLayerName(layerName, blobName, topIndex),
    type: 'Split',
    bottom: [blobName],
    top: Array.from({ length: count }, (_, k) => splitBlobName(layerName, blobName, topIndex, k)),
    loss_weight: lossWeight !== 0 ? Array.from({ length: count }, (_, k) => (k === 0 ? lossWeight : 0)) : [],
  });
}
