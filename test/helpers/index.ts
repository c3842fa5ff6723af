// index.ts — what every op and layer test shares: seeded random data, poisoning, error measures,
// the devices to run on, and Caffe's finite-difference gradient check.
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Test } from 'tap';
import { Tensor, devices, cudaUnavailableReason } from '../../lib/index.js';

/** A seeded generator (mulberry32): the same seed gives the same data in every run. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [low, high). */
export function randomArray(n: number, random: () => number, low = -1, high = 1): Float32Array {
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = low + (high - low) * random();
  return values;
}

/** Fills a tensor with NaN so an element the op forgets to write fails the comparison. */
export function poison(tensor: Tensor): Tensor {
  return tensor.fill(Number.NaN);
}

/** max |actual - expected| / max |expected| (DESIGN.md's relative error); NaN anywhere gives Infinity. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let maxDifference = 0;
  let maxReference = 0;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(difference)) return Infinity;
    maxDifference = Math.max(maxDifference, difference);
    maxReference = Math.max(maxReference, Math.abs(expected[i]));
  }
  return maxReference === 0 ? maxDifference : maxDifference / maxReference;
}

/** Asserts relativeError(actual, expected) <= tolerance. */
export function assertClose(
  t: Test,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  message: string,
  tolerance = 1e-5,
): void {
  const error = relativeError(actual, expected);
  t.ok(error <= tolerance, `${message} (relative error ${error.toExponential(2)} <= ${tolerance})`);
}

/**
 * Runs `body` once per device: always the CPU; each CUDA device where one is usable, else a
 * skipped subtest that prints why (the CUDA cases are never deleted).
 */
export async function forEachDevice(t: Test, body: (t: Test, device: string) => Promise<void> | void): Promise<void> {
  await t.test('cpu', async (sub) => body(sub, 'cpu'));
  const gpus = devices().filter((name) => name.startsWith('cuda:'));
  if (gpus.length === 0) {
    await t.test('cuda', { skip: `no usable CUDA device: ${cudaUnavailableReason().split('\n')[0]}` }, () => {});
    return;
  }
  for (const gpu of gpus) await t.test(gpu, async (sub) => body(sub, gpu));
}

export interface GradientCheck {
  /** Inputs to perturb (host copies); the check writes perturbed values into them. */
  inputs: Record<string, Float32Array>;
  /** Runs the forward pass on the given inputs and returns the output. */
  forward: (inputs: Record<string, Float32Array>) => Promise<Float32Array>;
  /** Runs the backward pass for output gradient dy; returns the gradient of each input by name. */
  backward: (inputs: Record<string, Float32Array>, dy: Float32Array) => Promise<Record<string, Float32Array>>;
  /** Elements where the function has a kink (|x| small for ReLU, ties for MAX): skipped. */
  skip?: (name: string, index: number, inputs: Record<string, Float32Array>) => boolean;
  step?: number;
  tolerance?: number;
  /** Check at most this many elements per input (spread evenly), to keep tests fast. */
  maxChecks?: number;
  seed?: number;
}

/**
 * Caffe's gradient check: the objective is L = sum(y * r) for a fixed random r, so the analytic
 * gradient is backward(dy = r); each checked element is compared with the central difference
 * (L(x+h) - L(x-h)) / 2h, |analytic - numeric| <= tolerance * max(|analytic|, |numeric|, 1).
 */
export async function checkGradient(t: Test, name: string, check: GradientCheck): Promise<void> {
  const step = check.step ?? 1e-2;
  const tolerance = check.tolerance ?? 1e-3;
  const random = rng(check.seed ?? 7);
  const output = await check.forward(check.inputs);
  const projection = randomArray(output.length, random);
  const analytic = await check.backward(check.inputs, projection);
  const objective = async () => {
    const y = await check.forward(check.inputs);
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i] * projection[i];
    return sum;
  };
  let failures = 0;
  let checked = 0;
  for (const [inputName, values] of Object.entries(check.inputs)) {
    const gradient = analytic[inputName];
    if (!gradient) continue;
    const stride = Math.max(1, Math.floor(values.length / (check.maxChecks ?? 64)));
    for (let i = 0; i < values.length; i += stride) {
      if (check.skip?.(inputName, i, check.inputs)) continue;
      const saved = values[i];
      values[i] = saved + step;
      const plus = await objective();
      values[i] = saved - step;
      const minus = await objective();
      values[i] = saved;
      const numeric = (plus - minus) / (2 * step);
      const scale = Math.max(Math.abs(gradient[i]), Math.abs(numeric), 1);
      checked++;
      if (Math.abs(gradient[i] - numeric) > tolerance * scale) {
        if (failures++ < 5)
          t.fail(`${name}: d/d${inputName}[${i}] analytic ${gradient[i]} vs numeric ${numeric}`);
      }
    }
  }
  t.ok(checked > 0 && failures === 0, `${name}: ${checked} gradient elements match finite differences (${failures} off)`);
}

/** Awaits `promiseOrFn` and asserts it throws a CudnetError with `code` whose message matches. */
export async function assertThrowsCode(t: Test, fn: () => unknown, code: string, message: RegExp | string): Promise<void> {
  try {
    await fn();
    t.fail(`expected an error with code ${code}`);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    t.equal(e.code, code, `error code ${code}`);
    if (typeof message === 'string') t.equal(e.message, message);
    else t.match(e.message ?? '', message);
  }
}

/**
 * Collects garbage now and lets the finalizers that free forgotten tensors run, so that a device's
 * memory count changes only by what a test does (a tensor an earlier test dropped without dispose()
 * could otherwise be freed in the middle of the measurement).
 */
export async function settleGarbage(): Promise<void> {
  // The tests run with --expose-gc (package.json); a file run by plain node exposes it here.
  let gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  for (let round = 0; round < 2; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
