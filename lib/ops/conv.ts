// conv.ts — 2-D convolution (Caffe's Convolution layer): forward, and backward for data, filter and bias.
import { z } from 'zod';
import { CudnetError } from '../errors.js';
import { native, type Conv2dParams, type NativeBuffer } from '../native.js';
import { Tensor, type Shape } from '../tensor.js';
import { field, parseOptions, requireRank, requireSameDevice, requireShape, requireTensor } from './check.js';

/** The native entry points of this file (native/binding/ops/conv.cpp). */
interface ConvEntries {
  conv2dForward(p: Conv2dParams, x: NativeBuffer, w: NativeBuffer, b: NativeBuffer | null, y: NativeBuffer): void;
  conv2dBackwardData(p: Conv2dParams, w: NativeBuffer, dy: NativeBuffer, dx: NativeBuffer): void;
  conv2dBackwardFilter(p: Conv2dParams, x: NativeBuffer, dy: NativeBuffer, dw: NativeBuffer): void;
  conv2dBackwardBias(p: Conv2dParams, dy: NativeBuffer, db: NativeBuffer): void;
}
const entries = native as unknown as ConvEntries;

/** A size given once (square) or as [height, width]. */
const pair = (single: () => z.ZodNumber, what: string) =>
  z.union([single(), z.tuple([single(), single()])]).describe(`${what} or a pair [h, w] of them`);

const convOptions = z.object({
  pad: pair(field.nonNegativeInt, 'a non-negative integer').optional(),
  stride: pair(field.positiveInt, 'a positive integer').optional(),
  dilation: pair(field.positiveInt, 'a positive integer').optional(),
  group: field.positiveInt().optional(),
});

/** Convolution options; the kernel size comes from the weight's shape. */
export type ConvOptions = z.input<typeof convOptions>;

function bothSides(value: number | [number, number] | undefined, fallback: number): [number, number] {
  if (value === undefined) return [fallback, fallback];
  return typeof value === 'number' ? [value, value] : value;
}

/** Caffe's output size (rounds down): (in + 2*pad - (dilation*(kernel-1)+1)) / stride + 1. */
function outputSize(input: number, kernel: number, pad: number, stride: number, dilation: number): number {
  return Math.floor((input + 2 * pad - (dilation * (kernel - 1) + 1)) / stride) + 1;
}

/**
 * Checks the shapes of x [N, C, H, W] and weight [K, C/group, kh, kw] and the options, and returns
 * the native parameters with the output size [N, K, outH, outW].
 */
function convParams(op: string, xShape: Shape, weight: Tensor, options: unknown, weightName = 'weight'):
  Conv2dParams & { outShape: Shape } {
  const parsed = parseOptions(op, convOptions, options);
  const [padH, padW] = bothSides(parsed.pad, 0);
  const [strideH, strideW] = bothSides(parsed.stride, 1);
  const [dilationH, dilationW] = bothSides(parsed.dilation, 1);
  const group = parsed.group ?? 1;
  requireRank(op, weightName, weight, 4, '[K, C/group, kernelH, kernelW]');
  const [N, C, H, W] = xShape;
  const [K, , kernelH, kernelW] = weight.shape;
  if (C % group !== 0)
    throw new CudnetError('INVALID_ARGUMENT', `${op}: group ${group} does not divide the ${C} input channels`);
  if (K % group !== 0)
    throw new CudnetError('INVALID_ARGUMENT', `${op}: group ${group} does not divide the ${K} output channels`);
  requireShape(op, weightName, weight, [K, C / group, kernelH, kernelW]);
  const outH = outputSize(H, kernelH, padH, strideH, dilationH);
  const outW = outputSize(W, kernelW, padW, strideW, dilationW);
  if (outH < 1 || outW < 1)
    throw new CudnetError('SHAPE_MISMATCH',
      `${op}: the kernel ${kernelH}x${kernelW} (dilation ${dilationH}x${dilationW}) is larger than the padded ` +
      `input ${H + 2 * padH}x${W + 2 * padW}, so the output would be empty`);
  return { N, C, H, W, K, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW, group,
    outShape: [N, K, outH, outW] };
}

function requireImage(op: string, name: string, tensor: Tensor): void {
  requireTensor(op, name, tensor);
  requireRank(op, name, tensor, 4, '[N, C, H, W]');
}

/** Strips the output shape, leaving exactly the fields of the native struct. */
function nativeParams(p: Conv2dParams & { outShape: Shape }): Conv2dParams {
  const { outShape: _, ...params } = p;
  return params;
}

/** The output shape [N, K, outH, outW] of a convolution of x by weight with these options. */
export function conv2dOutputShape(xShape: Shape, weight: Tensor, options?: ConvOptions): Shape {
  return convParams('convolution', xShape, weight, options).outShape;
}

/**
 * Convolution forward (cross-correlation, zero padding, Caffe's Convolution layer):
 *
 *   y[n, k, oh, ow] = b[k] + sum_{c, i, j} x[n, g*C/G + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] * w[k, c, i, j]
 *
 * with g = floor(k / (K/G)) the group of output channel k, G = group. Shapes: x [N, C, H, W],
 * weight [K, C/G, kh, kw], bias [K] or null, y [N, K, outH, outW] with
 * outH = floor((H + 2*ph - (dh*(kh-1)+1)) / sh) + 1 (likewise outW). y is overwritten
 * (a new tensor unless `out` is given).
 */
export function conv2dForward(x: Tensor, weight: Tensor, bias: Tensor | null, options?: ConvOptions,
  out?: Tensor): Tensor {
  const op = 'convolution';
  requireImage(op, 'x', x);
  requireTensor(op, 'weight', weight);
  const p = convParams(op, x.shape, weight, options);
  if (bias) {
    requireTensor(op, 'bias', bias);
    requireShape(op, 'bias', bias, [p.K]);
  }
  const y = out ?? Tensor.empty(p.outShape, x.device);
  requireTensor(op, 'out', y);
  requireShape(op, 'out', y, p.outShape);
  requireSameDevice(op, { x, weight, bias, out: y });
  entries.conv2dForward(nativeParams(p), x.buffer, weight.buffer, bias?.buffer ?? null, y.buffer);
  return y;
}

/**
 * Convolution backward for the data: the gradient of the forward above with respect to x,
 *
 *   dx[n, c, h, w] = sum over every (k, oh, ow, i, j) that read x[n, c, h, w] of dy[n, k, oh, ow] * w[k, c', i, j]
 *
 * (a transposed convolution). dx [N, C, H, W] is overwritten; dy is [N, K, outH, outW].
 */
export function conv2dBackwardData(weight: Tensor, dy: Tensor, dx: Tensor, options?: ConvOptions): Tensor {
  const op = 'convolution backward data';
  requireImage(op, 'dx', dx);
  requireTensor(op, 'weight', weight);
  const p = convParams(op, dx.shape, weight, options);
  requireImage(op, 'dy', dy);
  requireShape(op, 'dy', dy, p.outShape);
  requireSameDevice(op, { weight, dy, dx });
  entries.conv2dBackwardData(nativeParams(p), weight.buffer, dy.buffer, dx.buffer);
  return dx;
}

/**
 * Convolution backward for the filter, ACCUMULATING into dweight (Caffe's convention; the solver
 * clears parameter gradients each iteration):
 *
 *   dw[k, c, i, j] += sum_{n, oh, ow} dy[n, k, oh, ow] * x[n, g*C/G + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
 *
 * x [N, C, H, W], dy [N, K, outH, outW], dweight [K, C/G, kh, kw].
 */
export function conv2dBackwardFilter(x: Tensor, dy: Tensor, dweight: Tensor, options?: ConvOptions): Tensor {
  const op = 'convolution backward filter';
  requireImage(op, 'x', x);
  requireTensor(op, 'dweight', dweight);
  const p = convParams(op, x.shape, dweight, options, 'dweight');
  requireImage(op, 'dy', dy);
  requireShape(op, 'dy', dy, p.outShape);
  requireSameDevice(op, { x, dy, dweight });
  entries.conv2dBackwardFilter(nativeParams(p), x.buffer, dy.buffer, dweight.buffer);
  return dweight;
}

/**
 * Convolution backward for the bias, ACCUMULATING:  db[k] += sum_{n, oh, ow} dy[n, k, oh, ow].
 * dy [N, K, outH, outW], dbias [K].
 */
export function conv2dBackwardBias(dy: Tensor, dbias: Tensor): Tensor {
  const op = 'convolution backward bias';
  requireImage(op, 'dy', dy);
  requireTensor(op, 'dbias', dbias);
  const [N, K, outH, outW] = dy.shape;
  requireShape(op, 'dbias', dbias, [K]);
  requireSameDevice(op, { dy, dbias });
  // The bias gradient depends only on dy: describe it as a 1x1 convolution whose output is dy.
  const params: Conv2dParams = { N, C: K, H: outH, W: outW, K, kernelH: 1, kernelW: 1, padH: 0, padW: 0,
    strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, group: 1 };
  entries.conv2dBackwardBias(params, dy.buffer, dbias.buffer);
  return dbias;
}
