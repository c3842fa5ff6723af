// update.ts — the solver types, their checks and history blobs, and one parameter blob's fused update.
import { CudnetError, closestName } from '../errors.js';
import type { SolverParameter } from '../caffe/index.js';
import { prepareSolverUpdate, needsSecondHistory, SOLVER_TYPES, type SolverType } from '../ops/solver.js';
import type { Tensor } from '../tensor.js';

export { SOLVER_TYPES, type SolverType };

/** The solver's settings that every update reads (the rate changes per iteration, so it is passed alone). */
export interface UpdateSettings {
  type: SolverType;
  momentum: number;
  momentum2: number;
  rmsDecay: number;
  delta: number;
  weightDecay: number;
  regularization: 'L2' | 'L1';
}

/**
 * Reads and checks the update settings, as Caffe's solver constructors CHECK them: AdaGrad and
 * RMSProp take no momentum, the regularization is L1 or L2, and the type is known (case as Caffe's).
 */
export function updateSettings(parameter: SolverParameter): UpdateSettings {
  const type = solverType(parameter.type);
  if ((type === 'AdaGrad' || type === 'RMSProp') && parameter.momentum !== 0)
    throw new CudnetError('INVALID_SOLVER', `Momentum cannot be used with ${type} (momentum is ${parameter.momentum}; remove it)`);
  if (type === 'RMSProp' && !(parameter.rms_decay >= 0 && parameter.rms_decay < 1))
    throw new CudnetError('INVALID_SOLVER', `rms_decay must be in [0, 1) but is ${parameter.rms_decay}`);
  const regularization = parameter.regularization_type;
  if (regularization !== 'L2' && regularization !== 'L1')
    throw new CudnetError('INVALID_SOLVER', `Unknown regularization_type "${regularization}" (use "L2" or "L1")`);
  return {
    type, momentum: parameter.momentum, momentum2: parameter.momentum2, rmsDecay: parameter.rms_decay,
    delta: parameter.delta, weightDecay: parameter.weight_decay, regularization,
  };
}

function solverType(name: string): SolverType {
  if ((SOLVER_TYPES as readonly string[]).includes(name)) return name as SolverType;
  const suggestion = closestName(name, SOLVER_TYPES);
  throw new CudnetError(
    'INVALID_SOLVER',
    `Unknown solver type "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (known: ${SOLVER_TYPES.join(', ')})`,
  );
}

/** AdaDelta keeps the squared updates and Adam the second moment beside the first history. */
export function historiesPerParam(type: SolverType): 1 | 2 {
  return needsSecondHistory(type) ? 2 : 1;
}

/**
 * Updates one parameter blob in place: the diff `gradient` gets the regularization term
 * (weightDecay*decay_mult times w for L2, times sign(w) for L1), then the type's rule turns it into
 * the step and w -= step (formulas in native/core/params.h). `rate` is the policy's rate for this
 * iteration; lr_mult scales it, and decay_mult the weight decay. `iteration` is the number of
 * updates already applied (Adam's bias correction uses iteration + 1).
 */
export function updateParam(
  settings: UpdateSettings, rate: number, iteration: number,
  param: { weights: Tensor; gradient: Tensor; lrMult: number; decayMult: number },
  history: Tensor, secondHistory: Tensor | null,
): void {
  preparedUpdate(settings, param, history, secondHistory)(rate * param.lrMult, iteration);
}

interface PreparedUpdate {
  settings: UpdateSettings;
  gradient: Tensor;
  history: Tensor;
  secondHistory: Tensor | null;
  lrMult: number;
  decayMult: number;
  run: (learningRate: number, iteration: number) => void;
}

// The checked update of each parameter blob, kept while its tensors and settings are the same, so an
// iteration does not validate the same options again for every parameter.
const preparedUpdates = new WeakMap<Tensor, PreparedUpdate>();

function preparedUpdate(
  settings: UpdateSettings, param: { weights: Tensor; gradient: Tensor; lrMult: number; decayMult: number },
  history: Tensor, secondHistory: Tensor | null,
): PreparedUpdate['run'] {
  const known = preparedUpdates.get(param.weights);
  if (known && known.settings === settings && known.gradient === param.gradient && known.history === history &&
      known.secondHistory === secondHistory && known.lrMult === param.lrMult && known.decayMult === param.decayMult)
    return known.run;
  const run = prepareSolverUpdate(param.weights, param.gradient, history, secondHistory, {
    type: settings.type,
    learningRate: 0,
    momentum: settings.momentum,
    momentum2: settings.momentum2,
    rmsDecay: settings.rmsDecay,
    delta: settings.delta,
    weightDecay: settings.weightDecay * param.decayMult,
    regularization: settings.regularization,
    iteration: 0,
  });
  preparedUpdates.set(param.weights, {
    settings, gradient: param.gradient, history, secondHistory, lrMult: param.lrMult, decayMult: param.decayMult, run,
  });
  return run;
}
