// registry.ts — the layer types by prototxt name, and the "unknown layer type" error with its suggestion.
import type { LayerParameter, TextPosition } from '../caffe/index.js';
import { CudnetError, closestName } from '../errors.js';
import type { Layer, LayerClass, LayerContext } from './layer.js';
import { AccuracyLayer } from './layers/accuracy.js';
import { ConcatLayer } from './layers/concat.js';
import { ConvolutionLayer } from './layers/convolution.js';
import { DataLayer } from './layers/data.js';
import { DropoutLayer } from './layers/dropout.js';
import { DummyDataLayer } from './layers/dummy-data.js';
import { EltwiseLayer } from './layers/eltwise.js';
import { FlattenLayer } from './layers/flatten.js';
import { InnerProductLayer } from './layers/inner-product.js';
import { InputLayer } from './layers/input.js';
import { LRNLayer } from './layers/lrn.js';
import { PoolingLayer } from './layers/pooling.js';
import { PowerLayer } from './layers/power.js';
import { ReLULayer } from './layers/relu.js';
import { ScaleLayer } from './layers/scale.js';
import { SilenceLayer } from './layers/silence.js';
import { SoftmaxLayer } from './layers/softmax.js';
import { SoftmaxWithLossLayer } from './layers/softmax-with-loss.js';
import { SplitLayer } from './layers/split.js';

const registry = new Map<string, LayerClass>();

/** Adds a layer type (its class's static `type` is the prototxt name). Replaces an earlier one of that name. */
export function registerLayer(layerClass: LayerClass): void {
  registry.set(layerClass.type, layerClass);
}

for (const layerClass of [
  AccuracyLayer, ConcatLayer, ConvolutionLayer, DataLayer, DropoutLayer, DummyDataLayer, EltwiseLayer, FlattenLayer,
  InnerProductLayer, InputLayer, LRNLayer, PoolingLayer, PowerLayer, ReLULayer, ScaleLayer, SilenceLayer,
  SoftmaxLayer, SoftmaxWithLossLayer, SplitLayer,
]) registerLayer(layerClass);

/** The registered type names, sorted. */
export function layerTypes(): string[] {
  return [...registry.keys()].sort();
}

/** Where a layer was written, for messages: "file:line:column" when known. */
export interface LayerSource {
  file?: string;
  position?: TextPosition;
}

/** " (net.prototxt:12:1)" or "". */
export function describeSource(source: LayerSource | undefined): string {
  if (!source?.position) return '';
  return ` (${source.file ?? '<prototxt>'}:${source.position.line}:${source.position.column})`;
}

/**
 * Builds a layer of `param.type`. An unknown type is an UNKNOWN_LAYER_TYPE error naming the type,
 * the layer and where it was written, with "did you mean" for a near miss.
 */
export function createLayer(param: LayerParameter, context: LayerContext, source?: LayerSource): Layer {
  const layerClass = registry.get(param.type);
  if (!layerClass) {
    const suggestion = closestName(param.type, layerTypes());
    throw new CudnetError('UNKNOWN_LAYER_TYPE',
      `unknown layer type '${param.type}' in layer '${param.name}'${describeSource(source)}` +
      (suggestion ? `; did you mean '${suggestion}'?` : `; known types: ${layerTypes().join(', ')}`));
  }
  return new layerClass(param, context);
}
