// non-finite.ts — finding where a diverging net first holds NaN or Inf, and the error that says so.
import { CudnetError } from '../errors.js';
import type { NetLike } from '../net/contract.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';

/** A Net may find the blob itself (lib/net offers it); otherwise every blob is summed here. */
type NetWithSearch = NetLike & { firstNonFiniteBlob?: () => Promise<string | undefined> | string | undefined };

/** True when some element of `tensor` is NaN or ±Inf: the sum of |x| is then not finite. */
async function holdsNonFinite(tensor: Tensor): Promise<boolean> {
  const sum = ops.sumAbs(tensor);
  const [value] = await sum.data();
  sum.dispose();
  return !Number.isFinite(value);
}

/**
 * Describes the first non-finite place: the parameters first (a diverged update poisons every
 * blob after it), then each layer's tops in execution order.
 */
export async function firstNonFiniteBlob(net: NetLike): Promise<string | undefined> {
  const search = (net as NetWithSearch).firstNonFiniteBlob;
  if (typeof search === 'function') return search.call(net);
  for (const param of net.learnableParams)
    if (await holdsNonFinite(param.blob.data)) return `parameter ${param.name} (layer '${param.layerName}')`;
  for (const layer of net.layers) {
    for (const top of layer.tops) {
      const blob = net.blobs.get(top);
      if (blob && (await holdsNonFinite(blob.data))) return `blob '${top}' (output of ${layer.type} layer '${layer.name}')`;
    }
  }
  return undefined;
}

/** The NON_FINITE_LOSS error: where it started and what to try. */
export async function nonFiniteLossError(net: NetLike, loss: number, iter: number, baseLr: number): Promise<CudnetError> {
  const where = await firstNonFiniteBlob(net);
  const place = where ? `; the first non-finite value is in ${where}` : '';
  return new CudnetError(
    'NON_FINITE_LOSS',
    `The loss became ${loss} at iteration ${iter}${place}. Training diverged: try a lower base_lr ` +
      `(now ${baseLr}, e.g. ${baseLr / 10}), or clip_gradients.`,
  );
}
