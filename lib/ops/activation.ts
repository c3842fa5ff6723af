// activation.ts — ReLU (with Caffe's negative_slope) and train-time inverted dropout, element-wise.
import { z } from 'zod';
import { native, type NativeBuffer } from '../native.js';
import { Tensor } from '../tensor.js';
import { field, parseOptions, requireSameDevice, requireSize, requireTensor } from './check.js';

/** The native entry points this file calls (native/binding/ops/activation.cpp, elementwise.cpp). */
interface ActivationEntries {
  reluForward(n: number, slope: number, x: NativeBuffer, y: NativeBuffer): void;
  reluBackward(n: number, slope: number, x: NativeBuffer, dy: NativeBuffer, dx: NativeBuffer): void;
  dropoutForward(n: number, ratio: number, seed: number, x: NativeBuffer, y: NativeBuffer, mask: NativeBuffer): void;
}
const entries = native as unknown as ActivationEntries;

const reluSchema = z.object({ negativeSlope: field.finite().default(0) });
/** Caffe's ReLUParameter: negativeSlope 0 (a plain ReLU). */
export type ReluOptions = z.input<typeof reluSchema>;

const dropoutSchema = z.object({
  ratio: field.probability().default(0.5),
  seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).describe('a non-negative safe integer'),
});
/** Dropout options: ratio (Caffe's dropout_ratio, default 0.5, in [0, 1)) and the mask's seed. */
export type DropoutOptions = z.input<typeof dropoutSchema>;

/** Checks that every tensor has as many elements as x and that all live on x's device. */
function requireSameSize(op: string, tensors: Record<string, Tensor>): number {
  const [[, first]] = Object.entries(tensors);
  for (const [name, tensor] of Object.entries(tensors)) {
    requireTensor(op, name, tensor);
    requireSize(op, name, tensor, first.size);
  }
  requireSameDevice(op, tensors);
  return first.size;
}

/** y = max(x, 0) + negativeSlope * min(x, 0), any shape; y may be x (in place). */
export function reluForward(x: Tensor, y: Tensor, options?: ReluOptions): Tensor {
  const op = 'relu';
  const { negativeSlope } = parseOptions(op, reluSchema, options);
  const n = requireSameSize(op, { x, y });
  entries.reluForward(n, negativeSlope, x.buffer, y.buffer);
  return y;
}

/**
 * dx = dy * (x > 0 ? 1 : negativeSlope): at exactly x == 0 the gradient is negativeSlope, as Caffe.
 * x may be the forward output when the ReLU ran in place (same sign pattern); dx may be dy.
 */
export function reluBackward(x: Tensor, dy: Tensor, dx: Tensor, options?: ReluOptions): Tensor {
  const op = 'relu backward';
  const { negativeSlope } = parseOptions(op, reluSchema, options);
  const n = requireSameSize(op, { x, dy, dx });
  entries.reluBackward(n, negativeSlope, x.buffer, dy.buffer, dx.buffer);
  return dx;
}

/**
 * Train-time inverted dropout, any shape: mask[i] = u(seed, i) >= ratio ? 1/(1-ratio) : 0 and
 * y = x * mask, where u is the counter-based uniform generator of native/core/random.h, so the
 * same seed gives the same mask on every device. At test time Caffe's Dropout is the identity;
 * that path is the caller's (copy or share x).
 */
export function dropoutForward(x: Tensor, y: Tensor, mask: Tensor, options: DropoutOptions): Tensor {
  const op = 'dropout';
  const { ratio, seed } = parseOptions(op, dropoutSchema, options);
  const n = requireSameSize(op, { x, y, mask });
  entries.dropoutForward(n, ratio, seed, x.buffer, y.buffer, mask.buffer);
  return y;
}

/** dx = dy * mask (the mask already holds the 1/(1-ratio) scale); dx may be dy. */
export function dropoutBackward(mask: Tensor, dy: Tensor, dx: Tensor): Tensor {
  const op = 'dropout backward';
  const n = requireSameSize(op, { mask, dy, dx });
  native.multiply(n, dy.buffer, mask.buffer, dx.buffer);
  return dx;
}
