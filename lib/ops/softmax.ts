// softmax.ts — softmax over an axis, SoftmaxWithLoss (forward, backward) and top-k accuracy, as Caffe.
import { z } from 'zod';
import { CudnetError } from '../errors.js';
import {
  native, type AccuracyParams, type NativeBuffer, type SoftmaxLossParams, type SoftmaxParams,
} from '../native.js';
import { Tensor, formatShape } from '../tensor.js';
import { field, parseOptions, requireSameDevice, requireShape, requireSize, requireTensor } from './check.js';

/** The native entry points this file calls (native/binding/ops/softmax.cpp). */
interface SoftmaxEntries {
  softmaxForward(params: SoftmaxParams, x: NativeBuffer, y: NativeBuffer): void;
  softmaxBackward(params: SoftmaxParams, y: NativeBuffer, dy: NativeBuffer, dx: NativeBuffer): void;
  softmaxLossForward(params: SoftmaxLossParams, prob: NativeBuffer, labels: NativeBuffer, loss: NativeBuffer): void;
  softmaxLossBackward(params: SoftmaxLossParams, prob: NativeBuffer, labels: NativeBuffer, lossWeight: NativeBuffer,
    dx: NativeBuffer): void;
  accuracy(params: AccuracyParams, scores: NativeBuffer, labels: NativeBuffer, out: NativeBuffer): void;
}
const entries = native as unknown as SoftmaxEntries;

const NORMALIZATIONS = ['FULL', 'VALID', 'BATCH_SIZE', 'NONE'] as const;

const softmaxSchema = z.object({ axis: field.nonNegativeInt().default(1) });
const lossSchema = z.object({
  axis: field.nonNegativeInt().default(1),
  ignoreLabel: z.number().int().optional().describe('an integer'),
  normalization: z.enum(NORMALIZATIONS).default('VALID').describe('"FULL", "VALID", "BATCH_SIZE" or "NONE"'),
});
const accuracySchema = z.object({
  axis: field.nonNegativeInt().default(1),
  topK: field.positiveInt().default(1),
  ignoreLabel: z.number().int().optional().describe('an integer'),
});

/** Softmax over `axis` (default 1, the channels). */
export type SoftmaxOptions = z.input<typeof softmaxSchema>;
/** Caffe's SoftmaxWithLoss: axis 1, optional ignoreLabel, normalization VALID (FULL, BATCH_SIZE, NONE). */
export type SoftmaxLossOptions = z.input<typeof lossSchema>;
/** Caffe's Accuracy: axis 1, topK 1, optional ignoreLabel. */
export type AccuracyOptions = z.input<typeof accuracySchema>;

/** Splits x's shape at `axis` into [outer, channels, inner], or throws naming the op and the shape. */
function splitShape(op: string, x: Tensor, axis: number): SoftmaxParams {
  if (axis >= x.shape.length)
    throw new CudnetError(
      'INVALID_ARGUMENT',
      `${op}: Expected an axis below ${x.shape.length} for axis but received ${axis} (x has shape ${formatShape(x.shape)})`,
    );
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return { outer: product(x.shape.slice(0, axis)), channels: x.shape[axis], inner: product(x.shape.slice(axis + 1)) };
}

/** Labels hold one value per (outer, inner) position, in any shape with that many elements. */
function requireLabels(op: string, labels: Tensor, shape: SoftmaxParams, scoresName: string, scores: Tensor): void {
  requireTensor(op, 'labels', labels);
  if (labels.size !== shape.outer * shape.inner)
    throw new CudnetError(
      'SHAPE_MISMATCH',
      `${op}: labels has shape ${formatShape(labels.shape)} (${labels.size} elements) but ${scoresName} of shape ` +
        `${formatShape(scores.shape)} needs ${shape.outer * shape.inner} labels (one per position outside the axis)`,
    );
}

/** A fresh [1] tensor for a scalar result, or the given one checked. */
function scalarOut(op: string, name: string, like: Tensor, out: Tensor | undefined): Tensor {
  const result = out ?? Tensor.empty([1], like.device);
  requireTensor(op, name, result);
  requireSize(op, name, result, 1);
  return result;
}

/**
 * y = exp(x - max) / sum_c exp(x - max) over the channels at `axis`, independently at every
 * other position (x, y: [outer, channels, inner] once split at the axis). y may be x.
 */
export function softmaxForward(x: Tensor, y: Tensor, options?: SoftmaxOptions): Tensor {
  const op = 'softmax';
  requireTensor(op, 'x', x);
  const shape = splitShape(op, x, parseOptions(op, softmaxSchema, options).axis);
  requireTensor(op, 'y', y);
  requireShape(op, 'y', y, x.shape);
  requireSameDevice(op, { x, y });
  entries.softmaxForward(shape, x.buffer, y.buffer);
  return y;
}

/** dx = y * (dy - sum_c dy*y), from the forward output y; dx is overwritten. */
export function softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor, options?: SoftmaxOptions): Tensor {
  const op = 'softmax backward';
  requireTensor(op, 'y', y);
  const shape = splitShape(op, y, parseOptions(op, softmaxSchema, options).axis);
  for (const [name, tensor] of Object.entries({ dy, dx })) {
    requireTensor(op, name, tensor);
    requireShape(op, name, tensor, y.shape);
  }
  requireSameDevice(op, { y, dy, dx });
  entries.softmaxBackward(shape, y.buffer, dy.buffer, dx.buffer);
  return dx;
}

function lossParams(op: string, prob: Tensor, labels: Tensor, options: SoftmaxLossOptions | undefined) {
  requireTensor(op, 'prob', prob);
  const parsed = parseOptions(op, lossSchema, options);
  const shape = splitShape(op, prob, parsed.axis);
  requireLabels(op, labels, shape, 'prob', prob);
  const params: SoftmaxLossParams = {
    ...shape,
    hasIgnoreLabel: parsed.ignoreLabel !== undefined,
    ignoreLabel: parsed.ignoreLabel ?? -1,
    normalization: NORMALIZATIONS.indexOf(parsed.normalization),
  };
  return params;
}

/**
 * SoftmaxWithLoss forward from probabilities prob (softmaxForward's output) and labels (one per
 * position, stored as floats and truncated to int, as Caffe reads them):
 * loss[0] = -sum_{valid i} log(max(prob[i, label_i], FLT_MIN)) / normalizer, where the normalizer,
 * clamped to >= 1, is FULL: outer*inner, VALID: the non-ignored positions, BATCH_SIZE: outer, NONE: 1.
 * The loss is not multiplied by the loss weight (Caffe reports it unweighted). A label outside
 * [0, channels) that is not ignoreLabel fails the op: the error (INVALID_ARGUMENT, naming the label
 * and its position) rejects the reads of `loss` (and of what is computed from it) until an op that
 * succeeds overwrites it; other work is not affected.
 */
export function softmaxLossForward(prob: Tensor, labels: Tensor, loss?: Tensor, options?: SoftmaxLossOptions): Tensor {
  const op = 'softmax loss';
  const params = lossParams(op, prob, labels, options);
  const out = scalarOut(op, 'loss', prob, loss);
  requireSameDevice(op, { prob, labels, loss: out });
  entries.softmaxLossForward(params, prob.buffer, labels.buffer, out.buffer);
  return out;
}

/**
 * SoftmaxWithLoss backward: dx = (prob - onehot(label)) * lossWeight[0] / normalizer, and 0 at every
 * channel of an ignored position. lossWeight is a [1] tensor (the top diff), read on the device.
 */
export function softmaxLossBackward(
  prob: Tensor, labels: Tensor, lossWeight: Tensor, dx: Tensor, options?: SoftmaxLossOptions,
): Tensor {
  const op = 'softmax loss backward';
  const params = lossParams(op, prob, labels, options);
  requireTensor(op, 'lossWeight', lossWeight);
  requireSize(op, 'lossWeight', lossWeight, 1);
  requireTensor(op, 'dx', dx);
  requireShape(op, 'dx', dx, prob.shape);
  requireSameDevice(op, { prob, labels, lossWeight, dx });
  entries.softmaxLossBackward(params, prob.buffer, labels.buffer, lossWeight.buffer, dx.buffer);
  return dx;
}

/**
 * Top-k accuracy: a non-ignored position is correct when fewer than topK classes OTHER than its
 * label score >= the label's score (ties count against). out[0] = correct / non-ignored positions
 * (0 when every position is ignored). topK must not exceed the number of classes.
 */
export function accuracy(scores: Tensor, labels: Tensor, out?: Tensor, options?: AccuracyOptions): Tensor {
  const op = 'accuracy';
  requireTensor(op, 'scores', scores);
  const parsed = parseOptions(op, accuracySchema, options);
  const shape = splitShape(op, scores, parsed.axis);
  if (parsed.topK > shape.channels)
    throw new CudnetError(
      'INVALID_ARGUMENT',
      `${op}: Expected at most ${shape.channels} (the number of classes) for topK but received ${parsed.topK}`,
    );
  requireLabels(op, labels, shape, 'scores', scores);
  const result = scalarOut(op, 'out', scores, out);
  requireSameDevice(op, { scores, labels, out: result });
  const params: AccuracyParams = {
    ...shape, topK: parsed.topK, hasIgnoreLabel: parsed.ignoreLabel !== undefined, ignoreLabel: parsed.ignoreLabel ?? -1,
  };
  entries.accuracy(params, scores.buffer, labels.buffer, result.buffer);
  return result;
}
