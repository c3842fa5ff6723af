// harness.ts — runs one layer outside a net for the layer tests: bottoms from host arrays, forward, backward, gradient checks.
import type { Test } from 'tap';
import type { BatchSource } from '../../lib/data/batch-source.js';
import { LayerParameterSchema, type LayerParameterInput } from '../../lib/caffe/index.js';
import { device as openDevice } from '../../lib/index.js';
import { Blob, Random, createLayer, type Layer } from '../../lib/net/index.js';
import { checkGradient, randomArray, rng } from '../helpers/index.js';

export interface LayerRun {
  layer: Layer;
  bottoms: Blob[];
  tops: Blob[];
}

/** Builds and sets up a layer on `dev` with bottoms of the given values and shapes. */
export function setUpLayer(dev: string, parameter: LayerParameterInput, bottoms: { values: Float32Array; shape: number[] }[],
  options: { phase?: 'TRAIN' | 'TEST'; inPlace?: boolean; seed?: number; sources?: Record<string, BatchSource> } = {}): LayerRun {
  const device = openDevice(dev as 'cpu');
  const param = LayerParameterSchema.parse({ name: 'layer', ...parameter });
  const layer = createLayer(param, { device, phase: options.phase ?? 'TRAIN', random: new Random(options.seed ?? 3),
    sources: options.sources });
  const bottomBlobs = bottoms.map(({ values, shape }, i) => {
    const blob = new Blob(param.bottom[i] ?? `bottom${i}`, device, shape);
    blob.data.write(values);
    return blob;
  });
  const tops = options.inPlace ? [bottomBlobs[0]] : param.top.map((name) => new Blob(name, device));
  layer.setUp(bottomBlobs, tops);
  layer.paramPropagateDown = layer.blobs.map(() => true);
  return { layer, bottoms: bottomBlobs, tops };
}

/** Runs reshape and forward; resolves with top 0's values. */
export async function forwardValues(run: LayerRun, top = 0): Promise<Float32Array> {
  run.layer.reshape(run.bottoms, run.tops);
  await run.layer.forward(run.bottoms, run.tops);
  return run.tops[top].data.data();
}

/**
 * Caffe's layer gradient check: every bottom (not those in `skipBottoms`) and every parameter blob
 * ('param0', ...) is perturbed; the objective is sum(top0 * r). In place, the bottom is rewritten
 * before each forward.
 */
export async function checkLayerGradient(t: Test, name: string, run: LayerRun, options: {
  skipBottoms?: number[]; skip?: (input: string, index: number, inputs: Record<string, Float32Array>) => boolean;
  beforeForward?: () => void; maxChecks?: number; tolerance?: number; step?: number;
} = {}): Promise<void> {
  const inputs: Record<string, Float32Array> = {};
  const bottomValues = await Promise.all(run.bottoms.map((blob) => blob.data.data()));
  bottomValues.forEach((values, i) => {
    if (!options.skipBottoms?.includes(i)) inputs[`bottom${i}`] = values;
  });
  const fixedBottoms = bottomValues.map((values) => Float32Array.from(values));
  for (const [i, blob] of run.layer.blobs.entries()) inputs[`param${i}`] = await blob.data.data();
  const write = (values: Record<string, Float32Array>) => {
    run.bottoms.forEach((blob, i) => blob.data.write(values[`bottom${i}`] ?? fixedBottoms[i]));
    run.layer.blobs.forEach((blob, i) => blob.data.write(values[`param${i}`]));
  };
  await checkGradient(t, name, {
    inputs, maxChecks: options.maxChecks ?? 40, tolerance: options.tolerance, step: options.step, skip: options.skip,
    forward: async (values) => {
      write(values);
      options.beforeForward?.();
      return forwardValues(run);
    },
    backward: async (values, dy) => {
      write(values);
      options.beforeForward?.();
      await forwardValues(run);
      run.tops[0].diff.write(dy);
      run.layer.blobs.forEach((blob) => blob.diff.fill(0));
      const propagateDown = run.bottoms.map((_, i) => !options.skipBottoms?.includes(i));
      run.layer.backward(run.tops, propagateDown, run.bottoms);
      const gradients: Record<string, Float32Array> = {};
      for (const [i, blob] of run.bottoms.entries()) if (propagateDown[i]) gradients[`bottom${i}`] = await blob.diff.data();
      for (const [i, blob] of run.layer.blobs.entries()) gradients[`param${i}`] = await blob.diff.data();
      return gradients;
    },
  });
}

/** Random values for a shape, from a seeded generator. */
export function randomInput(shape: number[], seed: number, low = -1, high = 1): { values: Float32Array; shape: number[] } {
  return { values: randomArray(shape.reduce((a, b) => a * b, 1), rng(seed), low, high), shape };
}
