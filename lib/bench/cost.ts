// cost.ts — the closed-form work of a layer: floating-point operations and bytes moved, forward and backward.
import type { LayerParameter } from '../caffe/index.js';
import { shapeSize, type Shape } from '../tensor.js';

/** What the cost of one layer depends on: its type and parameters, the shapes it reads and writes, and what backward computes. */
export interface LayerShapes {
  type: string;
  param: LayerParameter;
  bottoms: Shape[];
  tops: Shape[];
  /** The learnable blobs (weights, biases). */
  params: Shape[];
  /** Whether backward runs at all, which bottoms get a diff, and whether parameter gradients are computed. */
  backward: boolean;
  bottomDiffs: boolean[];
  paramDiffs: boolean;
}

/** Operations and float32 bytes of each direction (backward 0 when the layer does not run backward). */
export interface LayerCost {
  forwardFlops: number;
  backwardFlops: number;
  forwardBytes: number;
  backwardBytes: number;
}

const FLOAT_BYTES = 4;

/** Layers that compute and move nothing: Input's tops are written by the caller, Flatten's top is a view, Silence drops its bottoms. */
const NO_WORK = new Set(['Input', 'Flatten', 'Silence']);

/**
 * Element operations per element for layers without a matrix product, a coarse but stated count:
 * ReLU one compare-select, Dropout one multiply by the mask, Softmax max + exp + sum + divide,
 * Split one copy, Power/Scale a multiply-add, Eltwise one per bottom,
 * Concat one copy. Pooling and LRN depend on their windows (see elementOperations).
 */
const PER_ELEMENT: Record<string, number> = {
  ReLU: 1, Dropout: 1, Softmax: 4, SoftmaxWithLoss: 4, Split: 1, Power: 2, Scale: 2, Concat: 1, Accuracy: 1,
};

/**
 * Forward operations of one layer:
 * - Convolution: 2*N*K*outH*outW*(C/group)*kh*kw (one multiply-add per weight per output; the bias is not counted),
 *   read from the weight [K, C/group, kh, kw] and the top [N, K, outH, outW].
 * - InnerProduct: 2*M*N*K with M rows, N = num_output, K inputs per row (weight [N, K]; the bias is not counted).
 * - the rest: element operations (see PER_ELEMENT, pooling and LRN below).
 */
export function forwardFlops(layer: LayerShapes): number {
  if (NO_WORK.has(layer.type)) return 0;
  const top = layer.tops[0] ? shapeSize(layer.tops[0]) : 0;
  const weight = layer.params[0];
  if (layer.type === 'Convolution' && weight) return 2 * top * shapeSize(weight.slice(1));
  if (layer.type === 'InnerProduct' && weight) return 2 * top * weight[1];
  return elementOperations(layer, 'forward');
}

/**
 * Backward operations: for Convolution and InnerProduct one forward-sized product for the data
 * gradient (only where a bottom diff is computed — not for the first layer over the images, as
 * Caffe) and one for the weight gradient (where parameters learn); the rest element operations.
 */
export function backwardFlops(layer: LayerShapes): number {
  if (!layer.backward || NO_WORK.has(layer.type)) return 0;
  if (layer.type === 'Convolution' || layer.type === 'InnerProduct') {
    const products = (layer.bottomDiffs.some(Boolean) ? 1 : 0) + (layer.paramDiffs ? 1 : 0);
    return products * forwardFlops(layer);
  }
  return elementOperations(layer, 'backward');
}

/** Pooling: the window area per output (max backward routes each output once); LRN: local_size + 3 per element. */
function elementOperations(layer: LayerShapes, direction: 'forward' | 'backward'): number {
  const bottom = layer.bottoms.reduce((sum, shape) => sum + shapeSize(shape), 0);
  const top = layer.tops.reduce((sum, shape) => sum + shapeSize(shape), 0);
  if (layer.type === 'Pooling') {
    const area = poolingWindow(layer);
    const max = (layer.param.pooling_param?.pool ?? 'MAX') === 'MAX';
    return direction === 'backward' && max ? top : top * area;
  }
  if (layer.type === 'LRN') {
    // A window sum of squares, the scale, its power and the product; backward about twice.
    const perElement = (layer.param.lrn_param?.local_size ?? 5) + 3;
    return (direction === 'forward' ? 1 : 2) * perElement * top;
  }
  if (layer.type === 'Eltwise') return bottom;
  return (PER_ELEMENT[layer.type] ?? 1) * Math.max(bottom, top);
}

/** kh*kw of a pooling layer (the whole input plane when global). */
function poolingWindow(layer: LayerShapes): number {
  const pooling = layer.param.pooling_param;
  const bottom = layer.bottoms[0] ?? [];
  if (pooling?.global_pooling) return (bottom[2] ?? 1) * (bottom[3] ?? 1);
  const kernelH = pooling?.kernel_h ?? pooling?.kernel_size ?? 1;
  const kernelW = pooling?.kernel_w ?? pooling?.kernel_size ?? 1;
  return kernelH * kernelW;
}

/**
 * Bytes moved, float32, counting each tensor once per pass:
 * forward = bottoms read + tops written + parameters read;
 * backward = top diffs read + bottom data read + bottom diffs written (where computed)
 *   + parameters read + parameter diffs read and written (they accumulate, where computed).
 */
export function bytesMoved(layer: LayerShapes): { forward: number; backward: number } {
  if (NO_WORK.has(layer.type)) return { forward: 0, backward: 0 };
  const sizes = (shapes: Shape[]) => shapes.reduce((sum, shape) => sum + shapeSize(shape), 0);
  const bottoms = sizes(layer.bottoms), tops = sizes(layer.tops), params = sizes(layer.params);
  const forward = bottoms + tops + params;
  if (!layer.backward) return { forward: forward * FLOAT_BYTES, backward: 0 };
  const bottomDiffs = sizes(layer.bottoms.filter((_, i) => layer.bottomDiffs[i]));
  const paramDiffs = layer.paramDiffs ? 2 * params : 0;
  const backward = tops + bottoms + bottomDiffs + params + paramDiffs;
  return { forward: forward * FLOAT_BYTES, backward: backward * FLOAT_BYTES };
}

/** Operations and bytes of both directions. */
export function layerCost(layer: LayerShapes): LayerCost {
  const bytes = bytesMoved(layer);
  return {
    forwardFlops: forwardFlops(layer), backwardFlops: backwardFlops(layer),
    forwardBytes: bytes.forward, backwardBytes: bytes.backward,
  };
}
