// lr-policy.ts — Caffe's learning-rate policies (SGDSolver::GetLearningRate), as pure functions of the iteration.
import { CudnetError, closestName } from '../errors.js';

export const LR_POLICIES = ['fixed', 'step', 'exp', 'inv', 'multistep', 'poly', 'sigmoid'] as const;
export type LrPolicy = (typeof LR_POLICIES)[number];

/** The SolverParameter fields the policies read (Caffe's names). */
export interface LrPolicyParameters {
  base_lr: number;
  lr_policy?: string;
  gamma: number;
  power: number;
  stepsize: number;
  stepvalue: readonly number[];
  max_iter: number;
}

/**
 * The rate for the update that follows `iter` updates already applied (Caffe reads iter_ before
 * incrementing it, so the first update uses iter = 0):
 *   fixed:     base_lr
 *   step:      base_lr * gamma^floor(iter / stepsize)
 *   exp:       base_lr * gamma^iter
 *   inv:       base_lr * (1 + gamma*iter)^(-power)
 *   multistep: base_lr * gamma^(number of stepvalues <= iter)
 *   poly:      base_lr * (1 - iter/max_iter)^power
 *   sigmoid:   base_lr / (1 + exp(-gamma * (iter - stepsize)))
 * An absent lr_policy means 'fixed'.
 */
export function learningRate(parameters: LrPolicyParameters, iter: number): number {
  const policy = checkLrPolicy(parameters);
  const { base_lr: baseLr, gamma, power, stepsize } = parameters;
  switch (policy) {
    case 'fixed':
      return baseLr;
    case 'step':
      return baseLr * Math.pow(gamma, Math.floor(iter / stepsize));
    case 'exp':
      return baseLr * Math.pow(gamma, iter);
    case 'inv':
      return baseLr * Math.pow(1 + gamma * iter, -power);
    case 'multistep':
      return baseLr * Math.pow(gamma, multistepIndex(parameters.stepvalue, iter));
    case 'poly':
      return baseLr * Math.pow(1 - iter / parameters.max_iter, power);
    case 'sigmoid':
      return baseLr / (1 + Math.exp(-gamma * (iter - stepsize)));
  }
}

/** How many step values have been reached at `iter` (Caffe's current_step_ for multistep). */
export function multistepIndex(stepvalue: readonly number[], iter: number): number {
  let step = 0;
  while (step < stepvalue.length && iter >= stepvalue[step]!) step++;
  return step;
}

/** Returns the policy name after checking that the fields it needs are usable (Caffe CHECKs the same). */
export function checkLrPolicy(parameters: LrPolicyParameters): LrPolicy {
  const policy = parameters.lr_policy ?? 'fixed';
  if (!(LR_POLICIES as readonly string[]).includes(policy)) {
    const suggestion = closestName(policy, LR_POLICIES);
    throw new CudnetError(
      'INVALID_SOLVER',
      `Unknown lr_policy "${policy}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (known: ${LR_POLICIES.join(', ')})`,
    );
  }
  if (policy === 'step' && !(parameters.stepsize > 0))
    throw new CudnetError('INVALID_SOLVER', `lr_policy "step" needs stepsize > 0 but stepsize is ${parameters.stepsize}`);
  if (policy === 'poly' && !(parameters.max_iter > 0))
    throw new CudnetError('INVALID_SOLVER', `lr_policy "poly" needs max_iter > 0 but max_iter is ${parameters.max_iter}`);
  if (policy === 'multistep' && parameters.stepvalue.some((value, i) => i > 0 && value <= parameters.stepvalue[i - 1]!))
    throw new CudnetError('INVALID_SOLVER', `lr_policy "multistep" needs increasing stepvalue entries but got [${parameters.stepvalue.join(', ')}]`);
  return policy as LrPolicy;
}
