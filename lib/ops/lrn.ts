// lrn.ts — local response normalization (Caffe's LRN layer) across or within channels.
import { z } from 'zod';
import { CudnetError } from '../errors.js';
import { native, type LrnParams, type NativeBuffer } from '../native.js';
import { Tensor } from '../tensor.js';
import { field, parseOptions, requireRank, requireSameDevice, requireShape, requireTensor } from './check.js';

/** The native entry points this file calls (native/binding/ops/lrn.cpp). */
interface LrnEntries {
  lrnForward(params: LrnParams, x: NativeBuffer, y: NativeBuffer, scale: NativeBuffer): void;
  lrnBackward(params: LrnParams, x: NativeBuffer, y: NativeBuffer, scale: NativeBuffer, dy: NativeBuffer,
    dx: NativeBuffer): void;
}
const entries = native as unknown as LrnEntries;

const lrnSchema = z.object({
  localSize: field.positiveInt().refine((n) => n % 2 === 1).describe('an odd positive integer').default(5),
  alpha: field.finite().default(1),
  beta: field.finite().default(0.75),
  k: field.finite().default(1),
  region: z.enum(['ACROSS_CHANNELS', 'WITHIN_CHANNEL']).default('ACROSS_CHANNELS')
    .describe('"ACROSS_CHANNELS" or "WITHIN_CHANNEL"'),
});

/** Caffe's LRNParameter: localSize 5 (odd), alpha 1, beta 0.75, k 1, region ACROSS_CHANNELS. */
export type LrnOptions = z.input<typeof lrnSchema>;

function lrnParams(op: string, x: Tensor, options: LrnOptions | undefined): LrnParams {
  requireTensor(op, 'x', x);
  requireRank(op, 'x', x, 4, 'N, C, H, W');
  const parsed = parseOptions(op, lrnSchema, options);
  const [N, C, H, W] = x.shape;
  return {
    N, C, H, W, localSize: parsed.localSize, alpha: parsed.alpha, beta: parsed.beta, k: parsed.k,
    region: parsed.region === 'ACROSS_CHANNELS' ? 0 : 1,
  };
}

function requireLike(op: string, x: Tensor, tensors: Record<string, Tensor>): void {
  for (const [name, tensor] of Object.entries(tensors)) {
    requireTensor(op, name, tensor);
    requireShape(op, name, tensor, x.shape);
    if (tensor.buffer === x.buffer && name !== 'x')
      throw new CudnetError('INVALID_ARGUMENT', `${op}: ${name} must not share storage with x (LRN cannot run in place)`);
  }
}

/**
 * LRN forward. x, y, scale: [N, C, H, W]; scale is kept for the backward pass. With n = localSize:
 * ACROSS_CHANNELS: scale = k + alpha/n * sum_{c' = c-(n-1)/2 .. c+(n-1)/2, inside [0, C)} x[c']^2
 * WITHIN_CHANNEL:  scale = 1 + alpha/n^2 * sum_{n x n window, zero padded} x^2   (k is ignored, as Caffe)
 * y = x * scale^-beta
 */
export function lrnForward(x: Tensor, y: Tensor, scale: Tensor, options?: LrnOptions): Tensor {
  const op = 'lrn';
  const params = lrnParams(op, x, options);
  requireLike(op, x, { y, scale });
  requireSameDevice(op, { x, y, scale });
  entries.lrnForward(params, x.buffer, y.buffer, scale.buffer);
  return y;
}

/**
 * LRN backward (Caffe's formula); dx: [N, C, H, W] is overwritten:
 * dx = dy * scale^-beta - (2*alpha*beta/m) * x * sum_{window} dy*y/scale,
 * with m = n and the channel window (ACROSS) or m = n^2 and the n x n window (WITHIN).
 */
export function lrnBackward(x: Tensor, y: Tensor, scale: Tensor, dy: Tensor, dx: Tensor, options?: LrnOptions): Tensor {
  const op = 'lrn backward';
  const params = lrnParams(op, x, options);
  requireLike(op, x, { y, scale, dy, dx });
  requireSameDevice(op, { x, y, scale, dy, dx });
  entries.lrnBackward(params, x.buffer, y.buffer, scale.buffer, dy.buffer, dx.buffer);
  return dx;
}
