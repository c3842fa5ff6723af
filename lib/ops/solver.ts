// solver.ts — one parameter blob's update for Caffe's solvers (SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam).
import { z } from 'zod';
import { CudnetError } from '../errors.js';
import { native, type NativeBuffer, type SolverUpdateParams } from '../native.js';
import { Tensor } from '../tensor.js';
import { field, parseOptions, requireSameDevice, requireSize, requireTensor } from './check.js';

/** The native entry point this file calls (native/binding/ops/solver.cpp). */
interface SolverEntries {
  solverUpdate(params: SolverUpdateParams, weights: NativeBuffer, gradient: NativeBuffer, history1: NativeBuffer,
    history2: NativeBuffer | null): void;
}
const entries = native as unknown as SolverEntries;

export const SOLVER_TYPES = ['SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam'] as const;
export type SolverType = (typeof SOLVER_TYPES)[number];

const solverSchema = z.object({
  type: z.enum(SOLVER_TYPES).describe('"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta" or "Adam"'),
  learningRate: field.finite(),
  momentum: field.finite().default(0),
  momentum2: field.finite().default(0.999),
  rmsDecay: field.finite().default(0.99),
  delta: field.finite().default(1e-8),
  weightDecay: field.finite().default(0),
  regularization: z.enum(['L2', 'L1']).default('L2').describe('"L2" or "L1"'),
  iteration: field.nonNegativeInt().default(0),
});

/**
 * One update's settings. learningRate already includes lr_mult and weightDecay already includes
 * decay_mult (Caffe's local_rate and local_decay). momentum is also AdaDelta's decay and Adam's
 * beta1; momentum2 is Adam's beta2; iteration is the number of updates already applied (Adam's
 * bias correction uses iteration + 1). Defaults follow Caffe's SolverParameter.
 */
export type SolverUpdateOptions = z.input<typeof solverSchema>;

/** Whether the solver keeps a second history blob (AdaDelta: squared updates; Adam: v). */
export function needsSecondHistory(type: SolverType): boolean {
  return type === 'AdaDelta' || type === 'Adam';
}

/**
 * Applies one update to `weights` in a single pass, Caffe's formulas (per element):
 *   g += weightDecay * (L2: w | L1: sign(w))          (skipped when weightDecay is 0)
 *   SGD:      h = momentum*h + lr*g;                 update = h
 *   Nesterov: h' = momentum*h + lr*g;                update = (1+momentum)*h' - momentum*h
 *   AdaGrad:  h += g^2;                              update = lr*g / (sqrt(h) + delta)
 *   RMSProp:  h = rmsDecay*h + (1-rmsDecay)*g^2;     update = lr*g / (sqrt(h) + delta)
 *   AdaDelta: h = m*h + (1-m)*g^2; u = g*sqrt((h2+delta)/(h+delta)); h2 = m*h2 + (1-m)*u^2; update = lr*u
 *   Adam:     m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *             update = lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + delta),  t = iteration + 1
 *   w -= update;  gradient = update (the diff holds the applied update afterwards, as in Caffe).
 * weights, gradient, history1 and history2 (AdaDelta and Adam only, else null) have equal sizes.
 */
export function solverUpdate(
  weights: Tensor, gradient: Tensor, history1: Tensor, history2: Tensor | null, options: SolverUpdateOptions,
): Tensor {
  const params = checkedUpdate(weights, gradient, history1, history2, options);
  entries.solverUpdate(params, weights.buffer, gradient.buffer, history1.buffer, history2?.buffer ?? null);
  return weights;
}

/**
 * Checks the tensors and options of solverUpdate once and returns the update as a function of this
 * iteration's rate and count, so a solver that updates every parameter every iteration does not
 * parse its options again each time. The tensors must stay alive while the function is used.
 */
export function prepareSolverUpdate(
  weights: Tensor, gradient: Tensor, history1: Tensor, history2: Tensor | null, options: SolverUpdateOptions,
): (learningRate: number, iteration: number) => void {
  const params = checkedUpdate(weights, gradient, history1, history2, options);
  return (learningRate, iteration) => {
    if (!Number.isFinite(learningRate) || !Number.isInteger(iteration) || iteration < 0)
      throw new CudnetError('INVALID_ARGUMENT',
        `solver update: Expected a finite learning rate and an iteration count but received ${learningRate} and ${iteration}`);
    weights.assertAlive('solver update', 'weights');
    params.learningRate = learningRate;
    params.iteration = iteration;
    entries.solverUpdate(params, weights.buffer, gradient.buffer, history1.buffer, history2?.buffer ?? null);
  };
}

function checkedUpdate(
  weights: Tensor, gradient: Tensor, history1: Tensor, history2: Tensor | null, options: SolverUpdateOptions,
): SolverUpdateParams {
  const op = 'solver update';
  const parsed = parseOptions(op, solverSchema, options);
  const tensors: Record<string, Tensor> = { weights, gradient, history1 };
  if (needsSecondHistory(parsed.type)) {
    if (!history2)
      throw new CudnetError('INVALID_ARGUMENT', `${op}: ${parsed.type} needs history2 (a tensor shaped like weights)`);
    tensors.history2 = history2;
  } else if (history2) {
    throw new CudnetError('INVALID_ARGUMENT', `${op}: ${parsed.type} keeps one history; pass null for history2`);
  }
  requireTensor(op, 'weights', weights);
  for (const [name, tensor] of Object.entries(tensors)) {
    requireTensor(op, name, tensor);
    requireSize(op, name, tensor, weights.size);
  }
  requireSameDevice(op, tensors);
  const params: SolverUpdateParams = {
    kind: SOLVER_TYPES.indexOf(parsed.type), count: weights.size, learningRate: parsed.learningRate,
    momentum: parsed.momentum, momentum2: parsed.momentum2, rmsDecay: parsed.rmsDecay, delta: parsed.delta,
    weightDecay: parsed.weightDecay, regularization: parsed.regularization === 'L2' ? 0 : 1,
    iteration: parsed.iteration,
  };
  return params;
}
