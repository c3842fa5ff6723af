// pool.ts — max and average pooling over NCHW tensors, Caffe's output size, windows and tie rule.
import { z } from 'zod';
import { CudnetError } from '../errors.js';
import { native, type NativeBuffer, type PoolParams } from '../native.js';
import { Tensor, formatShape, type Shape } from '../tensor.js';
import { field, parseOptions, requireRank, requireSameDevice, requireShape, requireTensor } from './check.js';

/** The native entry points this file calls (native/binding/ops/pool.cpp). */
interface PoolEntries {
  poolForward(params: PoolParams, x: NativeBuffer, y: NativeBuffer, mask: NativeBuffer | null): void;
  poolBackward(params: PoolParams, dy: NativeBuffer, mask: NativeBuffer | null, dx: NativeBuffer): void;
}
const entries = native as unknown as PoolEntries;

const sizePair = (what: ReturnType<typeof field.positiveInt>) =>
  z.union([what, z.tuple([what, what])]).describe(`${what.description} or a [height, width] pair of them`);

const poolSchema = z.object({
  method: z.enum(['MAX', 'AVE']).default('MAX').describe('"MAX" or "AVE"'),
  kernel: sizePair(field.positiveInt()),
  stride: sizePair(field.positiveInt()).default(1),
  pad: sizePair(field.nonNegativeInt()).default(0),
});

/**
 * Pooling options, as Caffe's PoolingParameter: `kernel`, `stride` (default 1) and `pad` (default 0)
 * are one number for both axes or [height, width]. pad must be smaller than the kernel.
 */
export type PoolOptions = z.input<typeof poolSchema>;

const pair = (value: number | [number, number]): [number, number] => (typeof value === 'number' ? [value, value] : value);

/** Caffe's output size: ceil((in + 2*pad - kernel) / stride) + 1, then, only when pad > 0, one less
 * if the last window would start at or beyond in + pad (mirror of native/core/params.h). */
export function poolOutputSize(input: number, kernel: number, pad: number, stride: number): number {
  let out = Math.ceil((input + 2 * pad - kernel) / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= input + pad) out--;
  return out;
}

/** Checks x and the options and returns the native parameter struct and the output shape. */
function poolParams(op: string, x: Tensor, options: PoolOptions): { params: PoolParams; outShape: Shape } {
  requireTensor(op, 'x', x);
  requireRank(op, 'x', x, 4, 'N, C, H, W');
  const parsed = parseOptions(op, poolSchema, options);
  const [kernelH, kernelW] = pair(parsed.kernel);
  const [strideH, strideW] = pair(parsed.stride);
  const [padH, padW] = pair(parsed.pad);
  if (padH >= kernelH || padW >= kernelW)
    throw new CudnetError(
      'INVALID_ARGUMENT',
      `${op}: Expected a pad smaller than the kernel for pad but received ${padH}x${padW} with kernel ${kernelH}x${kernelW}`,
    );
  const [N, C, H, W] = x.shape;
  if (kernelH > H + 2 * padH || kernelW > W + 2 * padW)
    throw new CudnetError(
      'SHAPE_MISMATCH',
      `${op}: kernel ${kernelH}x${kernelW} is larger than the padded input ${H + 2 * padH}x${W + 2 * padW} (x has shape ${formatShape(x.shape)})`,
    );
  const params: PoolParams = {
    N, C, H, W, kernelH, kernelW, padH, padW, strideH, strideW, method: parsed.method === 'MAX' ? 0 : 1,
  };
  const outShape = [N, C, poolOutputSize(H, kernelH, padH, strideH), poolOutputSize(W, kernelW, padW, strideW)];
  return { params, outShape };
}

/** The output shape [N, C, outH, outW] of pooling x: [N, C, H, W] with these options. */
export function poolOutputShape(x: Tensor, options: PoolOptions): Shape {
  return poolParams('pool', x, options).outShape;
}

/**
 * Pooling forward, per channel plane. x: [N, C, H, W] → y, mask: [N, C, outH, outW].
 * Window of (ph, pw): rows [ph*strideH - padH, + kernelH), likewise columns.
 * MAX: y = the window's maximum over in-image cells (padding never wins); mask = its index h*W + w
 *   in the plane, the FIRST maximum in row-major order on ties. A window that lies beyond the input
 *   (possible only when stride > kernel) gives -FLT_MAX and mask -1, as Caffe.
 * AVE: y = (sum of in-image cells) / ((min(hs+kH, H+padH) - hs) * (min(ws+kW, W+padW) - ws)):
 *   padding counts in the divisor, overhang past H + pad does not (0/0 = NaN beyond the input).
 * `mask` is required for MAX (backward needs it) and must be null for AVE.
 */
export function poolForward(x: Tensor, y: Tensor, mask: Tensor | null, options: PoolOptions): Tensor {
  const op = 'pool';
  const { params, outShape } = poolParams(op, x, options);
  requireTensor(op, 'y', y);
  requireShape(op, 'y', y, outShape);
  checkMask(op, params, mask, outShape);
  requireSameDevice(op, { x, y, mask });
  entries.poolForward(params, x.buffer, y.buffer, mask?.buffer ?? null);
  return y;
}

/**
 * Pooling backward: dx: [N, C, H, W] is overwritten. MAX adds dy into dx at the mask's index
 * (overlapping windows accumulate); AVE spreads dy / divisor over the window's in-image cells.
 * x is passed for its shape only.
 */
export function poolBackward(x: Tensor, dy: Tensor, mask: Tensor | null, dx: Tensor, options: PoolOptions): Tensor {
  const op = 'pool backward';
  const { params, outShape } = poolParams(op, x, options);
  requireTensor(op, 'dy', dy);
  requireShape(op, 'dy', dy, outShape);
  checkMask(op, params, mask, outShape);
  requireTensor(op, 'dx', dx);
  requireShape(op, 'dx', dx, x.shape);
  requireSameDevice(op, { x, dy, mask, dx });
  entries.poolBackward(params, dy.buffer, mask?.buffer ?? null, dx.buffer);
  return dx;
}

function checkMask(op: string, params: PoolParams, mask: Tensor | null, outShape: Shape): void {
  if (params.method === 1) {
    if (mask !== null && mask !== undefined)
      throw new CudnetError('INVALID_ARGUMENT', `${op}: AVE pooling takes no mask (pass null)`);
    return;
  }
  if (mask === null || mask === undefined)
    throw new CudnetError('INVALID_ARGUMENT', `${op}: MAX pooling needs a mask tensor of shape ${formatShape(outShape)}`);
  requireTensor(op, 'mask', mask);
  requireShape(op, 'mask', mask, outShape);
}
