// measure.ts — times a built net: each layer's forward and backward, then whole iterations, after warm-up.
import type { Net } from '../net/index.js';
import { layerCost, type LayerCost, type LayerShapes } from './cost.js';
import { summarize, type TimingSummary } from './stats.js';

export interface MeasureOptions {
  iterations: number;
  warmup: number;
}

/** One layer's timings (milliseconds) and its closed-form work. */
export interface LayerMeasurement {
  index: number;
  name: string;
  type: string;
  /** Shapes of the tops, e.g. [[16, 96, 55, 55]]. */
  topShapes: number[][];
  forward: TimingSummary;
  /** Null where the layer does not run backward (inputs, accuracy, layers below no loss). */
  backward: TimingSummary | null;
  cost: LayerCost;
}

export interface NetMeasurement {
  layers: LayerMeasurement[];
  /** forward() + backward() (TRAIN) or forward() alone (TEST), without waiting between layers. */
  iteration: TimingSummary;
}

/** Milliseconds from issuing `run` to the device having finished everything it queued. */
async function timed(net: Net, run: () => void | Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  await net.device.synchronize();
  return performance.now() - start;
}

/**
 * Fills every Input layer's tops: the first (images) with values in [-1, 1), the others (labels) with 0,
 * a valid class for every loss and accuracy layer.
 */
export function fillInputs(net: Net): void {
  net.layers.forEach((layer) => {
    if (layer.type !== 'Input') return;
    layer.tops.forEach((name, i) => {
      const data = net.blobs.get(name)!.data;
      if (i > 0) return void data.fill(0);
      data.write(patternValues(data.size));
    });
  });
}

/** `count` values spread over [-1, 1) by a multiplicative hash: fixed, so runs see the same data. */
export function patternValues(count: number): Float32Array {
  const values = new Float32Array(count);
  for (let j = 0; j < count; j++) values[j] = (Math.imul(j + 1, 2654435761) >>> 8) / 8388608 - 1;
  return values;
}

/** Fills the diffs of the tops of layers that run backward and consume no loss (a lone layer's output). */
function fillLooseTopDiffs(net: Net, runsBackward: boolean[]): void {
  const consumed = new Set(net.layers.flatMap((layer) => layer.bottoms));
  net.layers.forEach((layer, i) => {
    if (!runsBackward[i] || layer.type.endsWith('Loss')) return;
    for (const name of layer.tops) if (!consumed.has(name)) net.blobs.get(name)!.diff.fill(0.01);
  });
}

/** The shapes and backward plan of layer `index`, for the cost model. */
export function layerShapesOf(net: Net, index: number): LayerShapes {
  const layer = net.layerObjects[index];
  const { bottoms, tops } = net.layers[index];
  const plan = net.backwardPlanOf(index);
  return {
    type: layer.type, param: layer.param,
    bottoms: bottoms.map((name) => [...net.blobs.get(name)!.shape]),
    tops: tops.map((name) => [...net.blobs.get(name)!.shape]),
    params: layer.blobs.map((blob) => [...blob.shape]),
    backward: plan.layer, bottomDiffs: [...plan.bottoms], paramDiffs: plan.layer && layer.paramPropagateDown.some(Boolean),
  };
}

/**
 * Times each layer alone, `warmup` untimed passes then `iterations` timed ones: forward in order,
 * then (TRAIN) backward in reverse, each call timed to `device.synchronize()`. Parameter diffs are
 * cleared between passes, outside the timings, as the solver does. Then whole iterations.
 */
export async function measureNet(net: Net, options: MeasureOptions): Promise<NetMeasurement> {
  const training = net.phase === 'TRAIN';
  const runsBackward = net.layers.map((_, i) => training && net.backwardPlanOf(i).layer);
  fillInputs(net);
  fillLooseTopDiffs(net, runsBackward);
  const forward: number[][] = net.layers.map(() => []);
  const backward: number[][] = net.layers.map(() => []);
  for (let pass = 0; pass < options.warmup + options.iterations; pass++) {
    const keep = pass >= options.warmup;
    for (let i = 0; i < net.layers.length; i++) {
      const ms = await timed(net, () => net.forwardLayer(i));
      if (keep) forward[i].push(ms);
    }
    if (!training) continue;
    net.clearParamDiffs();
    await net.device.synchronize();
    for (let i = net.layers.length - 1; i >= 0; i--) {
      if (!runsBackward[i]) continue;
      const ms = await timed(net, () => net.backwardLayer(i));
      if (keep) backward[i].push(ms);
    }
  }
  const layers = net.layers.map((layer, i): LayerMeasurement => ({
    index: i, name: layer.name, type: layer.type,
    topShapes: layer.tops.map((name) => [...net.blobs.get(name)!.shape]),
    forward: summarize(forward[i]), backward: runsBackward[i] ? summarize(backward[i]) : null,
    cost: layerCost(layerShapesOf(net, i)),
  }));
  return { layers, iteration: await measureIterations(net, options, training) };
}

/** Whole iterations: forward (and backward) with no wait between layers, as training and inference run. */
async function measureIterations(net: Net, options: MeasureOptions, training: boolean): Promise<TimingSummary> {
  const times: number[] = [];
  for (let pass = 0; pass < options.warmup + options.iterations; pass++) {
    if (training) net.clearParamDiffs();
    await net.device.synchronize();
    const ms = await timed(net, async () => {
      await net.forward();
      if (training) net.backward();
    });
    if (pass >= options.warmup) times.push(ms);
  }
  return summarize(times);
}
