// native.ts — the only place that loads the native addon; everything else imports `native` from here.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CudnetError, fromNativeError } from './errors.js';

/** The native side of a tensor's storage. */
export interface NativeBuffer {
  readonly count: number;
  readonly device: string | null;
  readonly disposed: boolean;
  dispose(): void;
  read(offset: number, count: number): Promise<Float32Array>;
  write(values: Float32Array, offset: number): void;
  copyFrom(source: NativeBuffer, sourceOffset: number, destinationOffset: number, count: number): void;
}

type Buffer = NativeBuffer;
type Optional = NativeBuffer | null;

/** Plain parameter objects, field for field the C++ structs of native/core/params.h. */
export interface Conv2dParams {
  N: number; C: number; H: number; W: number; K: number;
  kernelH: number; kernelW: number; padH: number; padW: number;
  strideH: number; strideW: number; dilationH: number; dilationW: number; group: number;
}
export interface PoolParams {
  N: number; C: number; H: number; W: number; kernelH: number; kernelW: number;
  padH: number; padW: number; strideH: number; strideW: number; method: number;
}
export interface LrnParams {
  N: number; C: number; H: number; W: number; localSize: number; alpha: number; beta: number; k: number; region: number;
}
export interface SoftmaxParams { outer: number; channels: number; inner: number }
export interface SoftmaxLossParams extends SoftmaxParams {
  hasIgnoreLabel: boolean; ignoreLabel: number; normalization: number;
}
export interface AccuracyParams extends SoftmaxParams { topK: number; hasIgnoreLabel: boolean; ignoreLabel: number }
export interface SolverUpdateParams {
  kind: number; count: number; learningRate: number; momentum: number; momentum2: number; rmsDecay: number;
  delta: number; weightDecay: number; regularization: number; iteration: number;
}

/** Every native entry point. Arguments are checked in lib/ops before they get here. */
export interface NativeAddon {
  NativeBuffer: new (device: string, count: number) => NativeBuffer;
  devices(): { names: string[]; cudaUnavailable: string };
  openDevice(name: string): { name: string; description: string };
  memory(): Record<string, { bytes: number; tensors: number; cachedBytes: number; pendingOps: number }>;
  synchronize(device: string): Promise<void>;
  /** A GPU's deterministic-convolution switch; resolves with "deterministic" or "fastest". */
  setCudaDeterministic(device: string, enabled: boolean): Promise<string>;
  emptyCache(device: string): void;

  fill(y: Buffer, n: number, value: number): void;
  axpby(n: number, alpha: number, x: Buffer, beta: number, y: Buffer): void;
  multiply(n: number, a: Buffer, b: Buffer, y: Buffer): void;
  powerForward(n: number, power: number, scale: number, shift: number, x: Buffer, y: Buffer): void;
  powerBackward(n: number, power: number, scale: number, shift: number, x: Buffer, dy: Buffer, dx: Buffer): void;
  maxAccumulate(n: number, index: number, x: Buffer, y: Buffer, mask: Buffer): void;
  maxSelectBackward(n: number, index: number, mask: Buffer, dy: Buffer, dx: Buffer): void;
  channelAffineForward(outer: number, channels: number, inner: number, x: Buffer, scale: Buffer, bias: Optional,
    y: Buffer): void;
  channelAffineBackward(outer: number, channels: number, inner: number, x: Buffer, scale: Buffer, dy: Buffer,
    dx: Optional, dscale: Optional, dbias: Optional): void;
  copyBlocks(count: number, block: number, source: Buffer, sourceOffset: number, sourceStride: number,
    destination: Buffer, destinationOffset: number, destinationStride: number): void;
  dot(n: number, x: Buffer, y: Buffer, out: Buffer): void;
  sumSquares(n: number, x: Buffer, out: Buffer): void;
  sumAbs(n: number, x: Buffer, out: Buffer): void;

  // Other op groups add their entry points here (one block per lib/ops file).
  [entry: string]: unknown;
}

/** The package root: the nearest folder above this file whose package.json is cudnet's. */
export function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'cudnet') return folder;
    const parent = dirname(folder);
    if (parent === folder) throw new CudnetError('ADDON_NOT_FOUND', 'cannot find the cudnet package root');
    folder = parent;
  }
}

function loadAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  const root = packageRoot();
  try {
    return require('node-gyp-build')(root) as NativeAddon;
  } catch (error) {
    throw new CudnetError(
      'ADDON_NOT_FOUND',
      `cudnet's native addon is not built (looked in ${join(root, 'prebuilds')} and ${join(root, 'build')}); ` +
        `run "npm run build:native" in ${root}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * The addon with each entry point's failure, thrown or a rejected Promise, turned into a CudnetError
 * (the addon throws plain Errors carrying `.code`). lib/ops checks arguments first; this makes sure
 * that whatever the native side still refuses reaches the caller as the library's one error class.
 */
function withCudnetErrors(addon: NativeAddon): NativeAddon {
  const wrapped: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(addon)) {
    if (typeof entry !== 'function' || name === 'NativeBuffer') {
      wrapped[name] = entry;
      continue;
    }
    wrapped[name] = (...args: unknown[]) => {
      let result: unknown;
      try {
        result = entry.apply(addon, args);
      } catch (error) {
        throw fromNativeError(error);
      }
      if (result instanceof Promise) return result.catch((error: unknown) => Promise.reject(fromNativeError(error)));
      return result;
    };
  }
  return wrapped as NativeAddon;
}

export const native: NativeAddon = withCudnetErrors(loadAddon());
