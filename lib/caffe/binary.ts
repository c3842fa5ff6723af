// Reads and writes Caffe's binary files: .caffemodel (NetParameter with blobs), .solverstate (SolverState) and .binaryproto (a mean image BlobProto).

import { CudnetError } from '../errors.js';
import {
  BlobProtoField, BlobShapeField, LayerParameterField, NetParameterField, SolverStateField,
  V0_LAYER_TYPES, V0LayerParameterField, V1_LAYER_TYPES, V1LayerParameterField,
} from './caffe-proto.js';
import { WireReader, WireWriter } from './wire.js';

/** A blob as stored in Caffe's files: its shape and its float32 values, row-major (NCHW). */
export interface CaffeBlob {
  shape: number[];
  data: Float32Array;
  /**
   * True when the file gave the shape as the deprecated num/channels/height/width: `shape` is then
   * 4-D, and Caffe matches it against a layer's blob by its 4-D "legacy shape" (a bias [96] equals
   * [1, 1, 1, 96]; Blob::ShapeEquals).
   */
  legacyShape?: boolean;
}

/** One layer of a .caffemodel. Caffe also stores layers without blobs (Input, Split, ReLU, ...). */
export interface CaffeModelLayer {
  name: string;
  type: string;
  bottom?: string[];
  top?: string[];
  blobs: CaffeBlob[];
}

/** The weights of a network, matched to a net's layers by layer name (Net::CopyTrainedLayersFrom). */
export interface CaffeModel {
  name: string;
  layers: CaffeModelLayer[];
}

/** A solver snapshot: the iteration, the .caffemodel it goes with, and the update history of every learnable blob. */
export interface SolverState {
  iter: number;
  learnedNet: string;
  history: CaffeBlob[];
  currentStep: number;
}

export interface BinaryReadOptions {
  /** The file name used in error messages. */
  file?: string;
}

/**
 * Decodes a .caffemodel: the current `layer` list (field 100) or the V1 `layers` (field 2, as in
 * the classic bvlc_alexnet.caffemodel, with V1 type enums turned into type strings). Blobs may
 * use `shape` or the legacy num/channels/height/width, packed or unpacked floats, or
 * double_data. Every layer is returned, also those without blobs, which a loader skips.
 * Throws CaffeBinaryError on bytes that do not decode.
 */
export function readCaffemodel(bytes: Uint8Array, options: BinaryReadOptions = {}): CaffeModel {
  const reader = new WireReader(bytes, options.file ?? '<caffemodel>', 'caffemodel');
  if (bytes.length === 0) throw reader.fail('the file is empty');
  return reader.decode((end) => readNet(reader, end));
}

/** Encodes a .caffemodel that Caffe reads: a NetParameter with each layer's name, type, bottoms, tops and blobs. */
export function writeCaffemodel(model: CaffeModel): Uint8Array {
  const writer = new WireWriter();
  if (model.name) writer.string(NetParameterField.name, model.name);
  model.layers.forEach((layer, index) => {
    writer.message(NetParameterField.layer, () => writeLayer(writer, layer, `layer ${index} ('${layer.name}')`));
  });
  return writer.finish();
}

/** Decodes a .solverstate. Throws CaffeBinaryError on bytes that do not decode. */
export function readSolverstate(bytes: Uint8Array, options: BinaryReadOptions = {}): SolverState {
  const reader = new WireReader(bytes, options.file ?? '<solverstate>', 'solverstate');
  if (bytes.length === 0) throw reader.fail('the file is empty');
  return reader.decode((end) => readState(reader, end));
}

/** Encodes a .solverstate as Caffe's SGDSolver::SnapshotSolverStateToBinaryProto does (history blobs with `shape`). */
export function writeSolverstate(state: SolverState): Uint8Array {
  const writer = new WireWriter();
  writer.integer(SolverStateField.iter, state.iter);
  if (state.learnedNet) writer.string(SolverStateField.learnedNet, state.learnedNet);
  state.history.forEach((blob, index) => {
    writer.message(SolverStateField.history, () => writeBlob(writer, blob, `history blob ${index}`, false));
  });
  writer.integer(SolverStateField.currentStep, state.currentStep);
  return writer.finish();
}

/** Decodes a .binaryproto (one BlobProto, e.g. a mean image [1, C, H, W]). Throws CaffeBinaryError. */
export function readBinaryproto(bytes: Uint8Array, options: BinaryReadOptions = {}): CaffeBlob {
  const reader = new WireReader(bytes, options.file ?? '<binaryproto>', 'binaryproto');
  if (bytes.length === 0) throw reader.fail('the file is empty');
  return reader.decode((end) => readBlob(reader, end));
}

/**
 * Encodes a .binaryproto as Caffe's compute_image_mean and DIGITS write a mean image: the legacy
 * num/channels/height/width (a shape of up to 4 axes, padded with leading 1s) plus the data.
 */
export function writeBinaryproto(blob: CaffeBlob): Uint8Array {
  const writer = new WireWriter();
  writeBlob(writer, blob, 'the blob', blob.shape.length <= 4);
  return writer.finish();
}

function readNet(reader: WireReader, end: number): CaffeModel {
  const model: CaffeModel = { name: '', layers: [] };
  let currentLayers = 0;
  let v1Layers = 0;
  reader.fields(end, (field, wireType) => {
    if (field === NetParameterField.name) model.name = reader.string(wireType, 'name');
    else if (field === NetParameterField.layer) {
      model.layers.push(reader.nested(`layer ${currentLayers++}`, wireType, (layerEnd) => readLayer(reader, layerEnd)));
    } else if (field === NetParameterField.layers) {
      model.layers.push(reader.nested(`V1 layer ${v1Layers++}`, wireType, (layerEnd) => readV1Layer(reader, layerEnd)));
    } else return false;
    return true;
  });
  if (currentLayers > 0 && v1Layers > 0) {
    throw reader.fail("the net holds both current 'layer' and V1 'layers' entries; Caffe refuses such a file too");
  }
  return model;
}

function readLayer(reader: WireReader, end: number): CaffeModelLayer {
  const layer: Required<CaffeModelLayer> = { name: '', type: '', bottom: [], top: [], blobs: [] };
  reader.fields(end, (field, wireType) => {
    switch (field) {
      case LayerParameterField.name:
        layer.name = reader.string(wireType, 'name');
        reader.relabel(`layer '${layer.name}'`);
        return true;
      case LayerParameterField.type: layer.type = reader.string(wireType, 'type'); return true;
      case LayerParameterField.bottom: layer.bottom.push(reader.string(wireType, 'bottom')); return true;
      case LayerParameterField.top: layer.top.push(reader.string(wireType, 'top')); return true;
      case LayerParameterField.blobs: layer.blobs.push(readNestedBlob(reader, wireType, layer.blobs.length)); return true;
      default: return false;
    }
  });
  return layer;
}

/** A V1 layer; its name, type and blobs may also sit in a nested V0 layer (field 1) in the oldest files. */
function readV1Layer(reader: WireReader, end: number): CaffeModelLayer {
  const layer: Required<CaffeModelLayer> = { name: '', type: '', bottom: [], top: [], blobs: [] };
  let v0: CaffeModelLayer | undefined;
  reader.fields(end, (field, wireType) => {
    switch (field) {
      case V1LayerParameterField.name:
        layer.name = reader.string(wireType, 'name');
        reader.relabel(`V1 layer '${layer.name}'`);
        return true;
      case V1LayerParameterField.type: layer.type = v1TypeName(reader, reader.integer(wireType, 'type')); return true;
      case V1LayerParameterField.bottom: layer.bottom.push(reader.string(wireType, 'bottom')); return true;
      case V1LayerParameterField.top: layer.top.push(reader.string(wireType, 'top')); return true;
      case V1LayerParameterField.blobs: layer.blobs.push(readNestedBlob(reader, wireType, layer.blobs.length)); return true;
      case V1LayerParameterField.v0Layer: v0 = reader.nested('V0 layer', wireType, (v0End) => readV0Layer(reader, v0End)); return true;
      default: return false;
    }
  });
  if (v0 === undefined) return layer;
  return { ...layer, name: layer.name || v0.name, type: layer.type || v0.type, blobs: layer.blobs.length > 0 ? layer.blobs : v0.blobs };
}

function readV0Layer(reader: WireReader, end: number): CaffeModelLayer {
  const layer: CaffeModelLayer = { name: '', type: '', blobs: [] };
  reader.fields(end, (field, wireType) => {
    if (field === V0LayerParameterField.name) layer.name = reader.string(wireType, 'name');
    else if (field === V0LayerParameterField.type) {
      const type = reader.string(wireType, 'type');
      layer.type = V0_LAYER_TYPES[type] ?? type;
    } else if (field === V0LayerParameterField.blobs) layer.blobs.push(readNestedBlob(reader, wireType, layer.blobs.length));
    else return false;
    return true;
  });
  return layer;
}

function v1TypeName(reader: WireReader, value: number): string {
  const name = V1_LAYER_TYPES[value];
  if (name === undefined) throw reader.fail(`unknown V1 layer type number ${value}`);
  return name;
}

function readState(reader: WireReader, end: number): SolverState {
  const state: SolverState = { iter: 0, learnedNet: '', history: [], currentStep: 0 };
  reader.fields(end, (field, wireType) => {
    switch (field) {
      case SolverStateField.iter: state.iter = reader.integer(wireType, 'iter'); return true;
      case SolverStateField.learnedNet: state.learnedNet = reader.string(wireType, 'learned_net'); return true;
      case SolverStateField.currentStep: state.currentStep = reader.integer(wireType, 'current_step'); return true;
      case SolverStateField.history:
        state.history.push(reader.nested(`history blob ${state.history.length}`, wireType, (blobEnd) => readBlob(reader, blobEnd)));
        return true;
      default: return false;
    }
  });
  return state;
}

function readNestedBlob(reader: WireReader, wireType: number, index: number): CaffeBlob {
  return reader.nested(`blob ${index}`, wireType, (end) => readBlob(reader, end));
}

const LEGACY_DIMS: readonly number[] = [BlobProtoField.num, BlobProtoField.channels, BlobProtoField.height, BlobProtoField.width];

/** Blob::FromProto: legacy dims win when any is present (absent ones are 0); double_data wins over data when present. */
function readBlob(reader: WireReader, end: number): CaffeBlob {
  let shape: number[] | undefined;
  const legacy = [0, 0, 0, 0];
  let hasLegacy = false;
  const floatChunks: Float32Array[] = [];
  const doubleChunks: Float64Array[] = [];
  reader.fields(end, (field, wireType) => {
    const legacyAxis = LEGACY_DIMS.indexOf(field);
    if (legacyAxis >= 0) {
      legacy[legacyAxis] = reader.integer(wireType, LEGACY_NAMES[legacyAxis]!);
      hasLegacy = true;
    } else if (field === BlobProtoField.shape) shape = reader.nested('shape', wireType, (shapeEnd) => readShape(reader, shapeEnd));
    else if (field === BlobProtoField.data) floatChunks.push(reader.floats(wireType, 'data'));
    else if (field === BlobProtoField.doubleData) doubleChunks.push(reader.doubles(wireType, 'double_data'));
    else return false;
    return true;
  });
  const data = doubleChunks.length > 0 ? Float32Array.from(concat(doubleChunks, Float64Array)) : concat(floatChunks, Float32Array);
  const blob: CaffeBlob = hasLegacy ? { shape: legacy, data, legacyShape: true } : { shape: shape ?? [], data };
  checkBlobSize(reader, blob);
  return blob;
}

const LEGACY_NAMES = ['num', 'channels', 'height', 'width'];

function readShape(reader: WireReader, end: number): number[] {
  const dims: number[] = [];
  reader.fields(end, (field, wireType) => {
    if (field !== BlobShapeField.dim) return false;
    reader.integers(wireType, 'dim', dims);
    return true;
  });
  if (dims.some((dim) => dim < 0)) throw reader.fail(`negative dimension in shape [${dims.join(', ')}]`);
  return dims;
}

function checkBlobSize(reader: WireReader, blob: CaffeBlob): void {
  const count = blob.shape.reduce((product, dim) => product * dim, 1);
  if (count !== blob.data.length) {
    throw reader.fail(`the blob has shape [${blob.shape.join(', ')}] (${count} values) but holds ${blob.data.length} values`);
  }
}

function concat<T extends Float32Array | Float64Array>(chunks: T[], Type: { new (length: number): T }): T {
  if (chunks.length === 1) return chunks[0]!;
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const result = new Type(total);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

function writeLayer(writer: WireWriter, layer: CaffeModelLayer, label: string): void {
  writer.string(LayerParameterField.name, layer.name);
  writer.string(LayerParameterField.type, layer.type);
  for (const bottom of layer.bottom ?? []) writer.string(LayerParameterField.bottom, bottom);
  for (const top of layer.top ?? []) writer.string(LayerParameterField.top, top);
  layer.blobs.forEach((blob, index) => {
    writer.message(LayerParameterField.blobs, () => writeBlob(writer, blob, `blob ${index} of ${label}`, false));
  });
}

/** Blob::ToProto: shape then data; with `legacy`, num/channels/height/width instead of shape. */
function writeBlob(writer: WireWriter, blob: CaffeBlob, label: string, legacy: boolean): void {
  const count = blob.shape.reduce((product, dim) => product * dim, 1);
  if (!blob.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0) || count !== blob.data.length) {
    throw new CudnetError('INVALID_ARGUMENT',
      `Expected data of ${count} values (shape [${blob.shape.join(', ')}]) for ${label} but received ${blob.data.length} values`);
  }
  if (legacy) {
    const dims = [...Array<number>(4 - blob.shape.length).fill(1), ...blob.shape];
    LEGACY_DIMS.forEach((field, axis) => writer.integer(field, dims[axis]!));
  }
  writer.packedFloats(BlobProtoField.data, blob.data);
  if (!legacy) writer.message(BlobProtoField.shape, () => writer.packedIntegers(BlobShapeField.dim, blob.shape));
}
