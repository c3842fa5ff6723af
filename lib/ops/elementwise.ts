// elementwise.ts — element-wise ops and reductions over whole tensors (the solver and the layers use them).
import { CudnetError, describeValue } from '../errors.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { requireSameDevice, requireSize, requireTensor } from './check.js';

function finite(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new CudnetError('INVALID_ARGUMENT', `${op}: Expected a finite number for ${name} but received ${String(value)}`);
  return value;
}

function nonNegativeInteger(op: string, name: string, value: unknown, limit = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > limit) {
    const what = limit === Number.MAX_SAFE_INTEGER ? 'a non-negative safe integer' : `an integer in [0, ${limit}]`;
    throw new CudnetError('INVALID_ARGUMENT', `${op}: Expected ${what} for ${name} but received ${describeValue(value)}`);
  }
  return value;
}

/** Eltwise MAX stores the winning bottom's index as a float in mask: it must be exact there (2^24). */
const MAX_BOTTOM_INDEX = 2 ** 24;

/** y = alpha*x + beta*y, in place on y. With beta = 0, y's old values are never read. */
export function axpby(alpha: number, x: Tensor, beta: number, y: Tensor): Tensor {
  return namedAxpby('axpby', alpha, x, beta, y);
}

function namedAxpby(op: string, alpha: number, x: Tensor, beta: number, y: Tensor): Tensor {
  requireTensor(op, 'x', x);
  requireTensor(op, 'y', y);
  requireSize(op, 'y', y, x.size);
  requireSameDevice(op, { x, y });
  native.axpby(x.size, finite(op, 'alpha', alpha), x.buffer, finite(op, 'beta', beta), y.buffer);
  return y;
}

/** y += alpha*x */
export function axpy(alpha: number, x: Tensor, y: Tensor): Tensor {
  return namedAxpby('axpy', alpha, x, 1, y);
}

/** x *= alpha, in place. */
export function scale(alpha: number, x: Tensor): Tensor {
  return namedAxpby('scale', alpha, x, 0, x);
}

/** out = a * b element-wise (out defaults to a new tensor shaped like a). */
export function multiply(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  const op = 'multiply';
  requireTensor(op, 'a', a);
  requireTensor(op, 'b', b);
  requireSize(op, 'b', b, a.size);
  const y = out ?? Tensor.empty(a.shape, a.device);
  requireTensor(op, 'out', y);
  requireSize(op, 'out', y, a.size);
  requireSameDevice(op, { a, b, out: y });
  native.multiply(a.size, a.buffer, b.buffer, y.buffer);
  return y;
}

export interface PowerOptions {
  power: number;
  scale: number;
  shift: number;
}

/** y = (shift + scale*x)^power  (Caffe's Power layer). */
export function powerForward(x: Tensor, y: Tensor, { power, scale, shift }: PowerOptions): Tensor {
  const op = 'power';
  requireTensor(op, 'x', x);
  requireTensor(op, 'y', y);
  requireSize(op, 'y', y, x.size);
  requireSameDevice(op, { x, y });
  native.powerForward(x.size, finite(op, 'power', power), finite(op, 'scale', scale), finite(op, 'shift', shift),
    x.buffer, y.buffer);
  return y;
}

/** dx = dy * power*scale*(shift + scale*x)^(power-1) */
export function powerBackward(x: Tensor, dy: Tensor, dx: Tensor, { power, scale, shift }: PowerOptions): Tensor {
  const op = 'power backward';
  for (const [name, t] of Object.entries({ x, dy, dx })) requireTensor(op, name, t);
  requireSize(op, 'dy', dy, x.size);
  requireSize(op, 'dx', dx, x.size);
  requireSameDevice(op, { x, dy, dx });
  native.powerBackward(x.size, finite(op, 'power', power), finite(op, 'scale', scale), finite(op, 'shift', shift),
    x.buffer, dy.buffer, dx.buffer);
  return dx;
}

/** Eltwise MAX, one bottom at a time (index 0 first): y = max(y, x), mask = index of the winner. */
export function maxAccumulate(index: number, x: Tensor, y: Tensor, mask: Tensor): void {
  const op = 'eltwise max';
  nonNegativeInteger(op, 'index', index, MAX_BOTTOM_INDEX);
  for (const [name, t] of Object.entries({ x, y, mask })) requireTensor(op, name, t);
  requireSize(op, 'y', y, x.size);
  requireSize(op, 'mask', mask, x.size);
  requireSameDevice(op, { x, y, mask });
  native.maxAccumulate(x.size, index, x.buffer, y.buffer, mask.buffer);
}

/** dx = dy where mask == index, else 0. */
export function maxSelectBackward(index: number, mask: Tensor, dy: Tensor, dx: Tensor): void {
  const op = 'eltwise max backward';
  nonNegativeInteger(op, 'index', index, MAX_BOTTOM_INDEX);
  for (const [name, t] of Object.entries({ mask, dy, dx })) requireTensor(op, name, t);
  requireSize(op, 'dy', dy, mask.size);
  requireSize(op, 'dx', dx, mask.size);
  requireSameDevice(op, { mask, dy, dx });
  native.maxSelectBackward(mask.size, index, mask.buffer, dy.buffer, dx.buffer);
}

/** Splits a shape at `axis` into [outer, channels, inner] for per-channel ops. */
export function splitAtAxis(shape: readonly number[], axis: number, channelAxes = 1): [number, number, number] {
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return [product(shape.slice(0, axis)), product(shape.slice(axis, axis + channelAxes)),
    product(shape.slice(axis + channelAxes))];
}

/** y = x*scale[c] + bias[c] over channels at `axis` (Caffe's Scale layer). */
export function channelAffineForward(x: Tensor, scale: Tensor, bias: Tensor | null, y: Tensor, axis = 1): Tensor {
  const op = 'scale';
  requireTensor(op, 'x', x);
  requireTensor(op, 'scale', scale);
  if (bias) requireTensor(op, 'bias', bias);
  requireTensor(op, 'y', y);
  const [outer, channels, inner] = splitAtAxis(x.shape, axis, scale.shape.length);
  requireSize(op, 'scale', scale, channels);
  if (bias) requireSize(op, 'bias', bias, channels);
  requireSize(op, 'y', y, x.size);
  requireSameDevice(op, { x, scale, bias, y });
  native.channelAffineForward(outer, channels, inner, x.buffer, scale.buffer, bias?.buffer ?? null, y.buffer);
  return y;
}

/** dx = dy*scale[c]; dscale[c] += sum dy*x; dbias[c] += sum dy (each optional). */
export function channelAffineBackward(
  x: Tensor, scale: Tensor, dy: Tensor,
  grads: { dx?: Tensor | null; dscale?: Tensor | null; dbias?: Tensor | null }, axis = 1,
): void {
  const op = 'scale backward';
  const [outer, channels, inner] = splitAtAxis(x.shape, axis, scale.shape.length);
  for (const [name, t] of Object.entries({ x, scale, dy })) requireTensor(op, name, t);
  requireSize(op, 'dy', dy, x.size);
  if (grads.dx) requireSize(op, 'dx', grads.dx, x.size);
  if (grads.dscale) requireSize(op, 'dscale', grads.dscale, channels);
  if (grads.dbias) requireSize(op, 'dbias', grads.dbias, channels);
  requireSameDevice(op, { x, scale, dy, ...grads });
  native.channelAffineBackward(outer, channels, inner, x.buffer, scale.buffer, dy.buffer, grads.dx?.buffer ?? null,
    grads.dscale?.buffer ?? null, grads.dbias?.buffer ?? null);
}

/** Copies `count` blocks of `block` floats between strided places (Concat and Slice use it). */
export function copyBlocks(
  count: number, block: number,
  source: Tensor, sourceOffset: number, sourceStride: number,
  destination: Tensor, destinationOffset: number, destinationStride: number,
): void {
  const op = 'copyBlocks';
  const numbers = { count, block, sourceOffset, sourceStride, destinationOffset, destinationStride };
  for (const [name, value] of Object.entries(numbers)) nonNegativeInteger(op, name, value);
  requireTensor(op, 'source', source);
  requireTensor(op, 'destination', destination);
  requireSameDevice(op, { source, destination });
  const sourceEnd = count === 0 ? 0 : sourceOffset + (count - 1) * sourceStride + block;
  const destinationEnd = count === 0 ? 0 : destinationOffset + (count - 1) * destinationStride + block;
  if (sourceEnd > source.size || destinationEnd > destination.size)
    throw new CudnetError('SHAPE_MISMATCH', `${op}: the blocks run past the end of a tensor`);
  native.copyBlocks(count, block, source.buffer, sourceOffset, sourceStride, destination.buffer, destinationOffset,
    destinationStride);
}

function scalarOut(op: string, like: Tensor, out?: Tensor): Tensor {
  const result = out ?? Tensor.empty([1], like.device);
  requireTensor(op, 'out', result);
  requireSameDevice(op, { x: like, out: result });
  return result;
}

/** out[0] = sum x*y (accumulated in double). Returns the 1-element tensor; await `.data()` for the value. */
export function dot(x: Tensor, y: Tensor, out?: Tensor): Tensor {
  const op = 'dot';
  requireTensor(op, 'x', x);
  requireTensor(op, 'y', y);
  requireSize(op, 'y', y, x.size);
  requireSameDevice(op, { x, y });
  const result = scalarOut(op, x, out);
  native.dot(x.size, x.buffer, y.buffer, result.buffer);
  return result;
}

/** out[0] = sum x^2 */
export function sumSquares(x: Tensor, out?: Tensor): Tensor {
  requireTensor('sumSquares', 'x', x);
  const result = scalarOut('sumSquares', x, out);
  native.sumSquares(x.size, x.buffer, result.buffer);
  return result;
}

/** out[0] = sum |x| (NaN or Inf anywhere in x makes it non-finite). */
export function sumAbs(x: Tensor, out?: Tensor): Tensor {
  requireTensor('sumAbs', 'x', x);
  const result = scalarOut('sumAbs', x, out);
  native.sumAbs(x.size, x.buffer, result.buffer);
  return result;
}
