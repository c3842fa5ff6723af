// gemm.ts — dense algebra: the general matrix multiply, and InnerProduct's forward and backward built on it.
import { z } from 'zod';
import { CudnetError } from '../errors.js';
import { native, type NativeBuffer } from '../native.js';
import { Tensor, formatShape } from '../tensor.js';
import { field, parseOptions, requireRank, requireSameDevice, requireShape, requireTensor } from './check.js';

/** The native entry points of this file (native/binding/ops/gemm.cpp). */
interface GemmEntries {
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: NativeBuffer,
    B: NativeBuffer, beta: number, C: NativeBuffer): void;
  addRowBias(rows: number, columns: number, bias: NativeBuffer, y: NativeBuffer): void;
  sumRowsInto(rows: number, columns: number, dy: NativeBuffer, db: NativeBuffer): void;
}
const entries = native as unknown as GemmEntries;

const gemmOptions = z.object({
  transA: z.boolean().describe('a boolean').optional(),
  transB: z.boolean().describe('a boolean').optional(),
  alpha: field.finite().optional(),
  beta: field.finite().optional(),
});
export type GemmOptions = z.input<typeof gemmOptions>;

/**
 * General matrix multiply, row-major:  C = alpha * op(A) * op(B) + beta * C   (in place on C).
 *
 * op(X) is X transposed when transA / transB is set. Shapes: A is [M, K] ([K, M] with transA),
 * B is [K, N] ([N, K] with transB), C is [M, N]. alpha defaults to 1, beta to 0; with beta = 0
 * C's old values are never read (it may hold NaN).
 */
export function gemm(a: Tensor, b: Tensor, c: Tensor, options?: GemmOptions): Tensor {
  const op = 'gemm';
  const { transA = false, transB = false, alpha = 1, beta = 0 } = parseOptions(op, gemmOptions, options);
  const layouts = { a: transA ? '[K, M]' : '[M, K]', b: transB ? '[N, K]' : '[K, N]', c: '[M, N]' };
  for (const [name, tensor] of Object.entries({ a, b, c })) {
    requireTensor(op, name, tensor);
    requireRank(op, name, tensor, 2, layouts[name as keyof typeof layouts]);
  }
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const N = transB ? b.shape[0] : b.shape[1];
  requireShape(op, 'b', b, transB ? [N, K] : [K, N]);
  requireShape(op, 'c', c, [M, N]);
  requireSameDevice(op, { a, b, c });
  entries.gemm(transA, transB, M, N, K, alpha, a.buffer, b.buffer, beta, c.buffer);
  return c;
}

const innerProductOptions = z.object({
  transpose: z.boolean().describe('a boolean').optional(),
  axis: field.nonNegativeInt().optional(),
});
export type InnerProductOptions = z.input<typeof innerProductOptions>;

interface InnerProductShapes {
  M: number; // rows: the product of x's axes before `axis`
  K: number; // inputs per row: the product of x's axes from `axis` on
  N: number; // outputs per row (num_output)
  transpose: boolean;
}

/** Checks x, weight (and bias) against each other; returns the GEMM sizes. */
function innerProductShapes(op: string, x: Tensor, weight: Tensor, options: unknown): InnerProductShapes {
  const { transpose = false, axis = 1 } = parseOptions(op, innerProductOptions, options);
  requireTensor(op, 'x', x);
  requireTensor(op, 'weight', weight);
  if (axis < 1 || axis > x.shape.length)
    throw new CudnetError('INVALID_ARGUMENT',
      `${op}: Expected an axis in [1, ${x.shape.length}] for axis but received ${axis}`);
  const M = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const K = x.shape.slice(axis).reduce((p, d) => p * d, 1);
  requireRank(op, 'weight', weight, 2, transpose ? '[K, num_output]' : '[num_output, K]');
  const N = transpose ? weight.shape[1] : weight.shape[0];
  requireShape(op, 'weight', weight, transpose ? [K, N] : [N, K]);
  return { M, K, N, transpose };
}

/**
 * Caffe's InnerProduct forward:  y[M, N] = x[M, K] * W^T + b.
 *
 * x is flattened from `axis` (default 1): M = product of the leading axes, K = product of the rest.
 * W is [N, K] (num_output rows), or [K, N] when `transpose` is set; b is [N] or null; y is [M, N]
 * (a new tensor unless `out` is given) and is overwritten.
 */
export function innerProductForward(x: Tensor, weight: Tensor, bias: Tensor | null, options?: InnerProductOptions,
  out?: Tensor): Tensor {
  const op = 'inner product';
  const { M, K, N, transpose } = innerProductShapes(op, x, weight, options);
  if (bias) {
    requireTensor(op, 'bias', bias);
    requireShape(op, 'bias', bias, [N]);
  }
  const y = out ?? Tensor.empty([M, N], x.device);
  requireTensor(op, 'out', y);
  if (y.size !== M * N)
    throw new CudnetError('SHAPE_MISMATCH', `${op}: out has shape ${formatShape(y.shape)} but ${formatShape([M, N])} was expected`);
  requireSameDevice(op, { x, weight, bias, out: y });
  entries.gemm(false, !transpose, M, N, K, 1, x.buffer, weight.buffer, 0, y.buffer);
  if (bias) entries.addRowBias(M, N, bias.buffer, y.buffer);
  return y;
}

/** The gradients InnerProduct backward computes; each is optional. */
export interface InnerProductGradients {
  /** dx = dy * W, overwritten; shaped like x. */
  dx?: Tensor | null;
  /** dW += dy^T * x (or x^T * dy when transposed); accumulates (Caffe's convention). */
  dweight?: Tensor | null;
  /** db += sum over rows of dy; accumulates. */
  dbias?: Tensor | null;
}

/**
 * Caffe's InnerProduct backward for y = x * W^T + b, with dy [M, N]:
 *   dx = dy * W  (overwritten),   dW += dy^T * x,   db += sum_i dy[i, :]  (accumulate).
 * With `transpose` (W stored [K, N]): dx = dy * W^T and dW += x^T * dy.
 */
export function innerProductBackward(x: Tensor, weight: Tensor, dy: Tensor, gradients: InnerProductGradients,
  options?: InnerProductOptions): void {
  const op = 'inner product backward';
  const { M, K, N, transpose } = innerProductShapes(op, x, weight, options);
  requireTensor(op, 'dy', dy);
  if (dy.size !== M * N)
    throw new CudnetError('SHAPE_MISMATCH', `${op}: dy has shape ${formatShape(dy.shape)} but ${formatShape([M, N])} was expected`);
  const { dx, dweight, dbias } = gradients;
  if (dx) requireTensor(op, 'dx', dx), requireShape(op, 'dx', dx, x.shape);
  if (dweight) requireTensor(op, 'dweight', dweight), requireShape(op, 'dweight', dweight, weight.shape);
  if (dbias) requireTensor(op, 'dbias', dbias), requireShape(op, 'dbias', dbias, [N]);
  requireSameDevice(op, { x, weight, dy, dx, dweight, dbias });
  if (dweight) {
    if (transpose) entries.gemm(true, false, K, N, M, 1, x.buffer, dy.buffer, 1, dweight.buffer);
    else entries.gemm(true, false, N, K, M, 1, dy.buffer, x.buffer, 1, dweight.buffer);
  }
  if (dbias) entries.sumRowsInto(M, N, dy.buffer, dbias.buffer);
  if (dx) entries.gemm(false, transpose, M, K, N, 1, dy.buffer, weight.buffer, 0, dx.buffer);
}
