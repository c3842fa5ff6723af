// caffemodel.ts — copying weights between a net's layers and Caffe's .caffemodel (matched by layer name, as Net::CopyTrainedLayersFrom).
import { readCaffemodel, writeCaffemodel, type CaffeBlob, type CaffeModelLayer } from '../caffe/index.js';
import { CudnetError } from '../errors.js';
import { formatShape } from '../tensor.js';
import type { Blob } from './blob.js';
import type { WiredLayer } from './wiring.js';

/** Caffe's legacy 4-D shape of a blob: its shape padded with leading 1s to four axes. */
function legacyShape(shape: readonly number[]): number[] {
  return [...Array(Math.max(0, 4 - shape.length)).fill(1), ...shape];
}

/** Blob::ShapeEquals: the same shape, or for a file blob in the legacy form, the same 4-D legacy shape. */
function shapeMatches(blob: Blob, stored: CaffeBlob): boolean {
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (stored.legacyShape) return blob.shape.length <= 4 && same(legacyShape(blob.shape), stored.shape);
  return same(blob.shape, stored.shape);
}

/**
 * Writes the blobs of every source layer that has blobs into the net layer of the same name; source
 * layers without blobs (Input, Split, ReLU, ...) or without a match are skipped. The number of
 * blobs and each shape must match. Returns the names of the layers loaded.
 */
export function loadCaffemodelInto(layers: readonly WiredLayer[], bytes: Uint8Array, file?: string): string[] {
  const model = readCaffemodel(bytes, { file });
  const byName = new Map(layers.map((wired) => [wired.layer.name, wired.layer]));
  const loaded: string[] = [];
  for (const source of model.layers) {
    const layer = byName.get(source.name);
    if (source.blobs.length === 0 || !layer) continue;
    if (source.blobs.length !== layer.blobs.length)
      throw new CudnetError('CAFFEMODEL_MISMATCH',
        `layer '${source.name}': the caffemodel has ${source.blobs.length} blobs but the net's layer has ${layer.blobs.length}`);
    source.blobs.forEach((stored, i) => {
      const blob = layer.blobs[i];
      if (!shapeMatches(blob, stored))
        throw new CudnetError('CAFFEMODEL_MISMATCH',
          `layer '${source.name}' blob ${i}: the caffemodel's shape is ${formatShape(stored.shape)} ` +
          `but the net's is ${formatShape(blob.shape)}`);
    });
    source.blobs.forEach((stored, i) => layer.blobs[i].data.write(stored.data));
    loaded.push(source.name);
  }
  return loaded;
}

/** The net as a .caffemodel: every layer's name, type, bottoms, tops and blobs (Net::ToProto). */
export async function caffemodelOf(name: string, layers: readonly WiredLayer[]): Promise<Uint8Array> {
  const modelLayers: CaffeModelLayer[] = await Promise.all(layers.map(async ({ layer }) => ({
    name: layer.name,
    type: layer.type,
    bottom: [...layer.param.bottom],
    top: [...layer.param.top],
    blobs: await Promise.all(layer.blobs.map(async (blob) => ({ shape: [...blob.shape], data: await blob.data.data() }))),
  })));
  return writeCaffemodel({ name, layers: modelLayers });
}
