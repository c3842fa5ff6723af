// backward-plan.ts — which layers run backward and which bottoms get a diff: Caffe's rules from Net::Init.
import type { Blob } from './blob.js';
import type { LossTop, WiredLayer } from './wiring.js';

/** For each layer: whether its backward runs, and for each bottom whether its diff is computed. */
export interface BackwardPlan {
  layerNeedsBackward: boolean[];
  bottomNeedsBackward: boolean[][];
}

/**
 * Caffe's rules, in three passes:
 * 1. forward: a layer needs backward when a bottom blob needs a gradient or a parameter is
 *    learned (lr_mult != 0); its tops then need gradients. propagate_down overrides per bottom.
 * 2. backward: a layer whose tops carry no loss (directly or through later layers) is skipped, and
 *    so are layers none of whose tops are propagated into.
 * 3. force_backward: every layer runs backward and every bottom gets a diff where the layer
 *    allows it (not labels); every parameter's gradient is computed.
 * Layers without a gradient (Accuracy, Data, Input) never run backward.
 */
export function planBackward(layers: readonly WiredLayer[], lossTops: readonly LossTop[], forceBackward: boolean): BackwardPlan {
  const plan = forwardPass(layers);
  skipLayersWithoutLoss(layers, lossTops, plan);
  if (forceBackward) forceEveryLayer(layers, plan);
  layers.forEach(({ layer }, i) => {
    if (!layer.hasBackward) plan.layerNeedsBackward[i] = false;
  });
  return plan;
}

function forwardPass(layers: readonly WiredLayer[]): BackwardPlan {
  const blobNeedsBackward = new Set<Blob>();
  const plan: BackwardPlan = { layerNeedsBackward: [], bottomNeedsBackward: [] };
  for (const { layer, bottoms, tops } of layers) {
    const propagateDown = layer.param.propagate_down;
    if (propagateDown.length > 0 && propagateDown.length !== bottoms.length)
      throw new Error(`layer '${layer.name}': propagate_down must be given once per bottom (${bottoms.length}) or not at all`);
    let needs = false;
    const bottomNeeds = bottoms.map((bottom, j) => {
      needs ||= blobNeedsBackward.has(bottom);
      return propagateDown.length > 0 ? propagateDown[j] : blobNeedsBackward.has(bottom);
    });
    needs ||= layer.paramPropagateDown.some(Boolean);
    plan.layerNeedsBackward.push(needs);
    plan.bottomNeedsBackward.push(bottomNeeds);
    if (needs) for (const top of tops) blobNeedsBackward.add(top);
  }
  return plan;
}

function skipLayersWithoutLoss(layers: readonly WiredLayer[], lossTops: readonly LossTop[], plan: BackwardPlan): void {
  const lossBlobs = new Set(lossTops.map((top) => top.blob));
  const underLoss = new Set<Blob>();
  const skipped = new Set<Blob>();
  for (let i = layers.length - 1; i >= 0; i--) {
    const { bottoms, tops } = layers[i];
    const contributesLoss = tops.some((top) => lossBlobs.has(top) || underLoss.has(top));
    const skipPropagateDown = tops.every((top) => skipped.has(top));
    if (plan.layerNeedsBackward[i] && skipPropagateDown && tops.length > 0) {
      plan.layerNeedsBackward[i] = false;
      plan.bottomNeedsBackward[i].fill(false);
    }
    if (!contributesLoss) plan.layerNeedsBackward[i] = false;
    bottoms.forEach((bottom, j) => {
      if (contributesLoss) underLoss.add(bottom);
      else plan.bottomNeedsBackward[i][j] = false;
      if (!plan.bottomNeedsBackward[i][j]) skipped.add(bottom);
    });
  }
}

function forceEveryLayer(layers: readonly WiredLayer[], plan: BackwardPlan): void {
  layers.forEach(({ layer, bottoms }, i) => {
    plan.layerNeedsBackward[i] = true;
    bottoms.forEach((_, j) => {
      plan.bottomNeedsBackward[i][j] ||= layer.allowForceBackward(j);
    });
    layer.paramPropagateDown.fill(true);
  });
}
