// The networks and solvers shipped in the package's models/ folder, and where to find them on disk.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The prototxt files in models/: Caffe's MNIST LeNet and bvlc_alexnet, as train_val, deploy and solver. */
export const BUILTIN_MODELS = [
  'lenet_train_val.prototxt', 'lenet_deploy.prototxt', 'lenet_solver.prototxt',
  'alexnet_train_val.prototxt', 'alexnet_deploy.prototxt', 'alexnet_solver.prototxt',
] as const;

export type BuiltinModelName = (typeof BUILTIN_MODELS)[number];

/**
 * The absolute path of a builtin model file. models/ sits at the package root, which is two
 * folders above this file in the sources (lib/caffe) and three in the build (dist/lib/caffe), so
 * the nearest models/ folder upwards is used.
 */
export function builtinModelPath(name: BuiltinModelName): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, 'models', name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`builtin model ${name} not found above ${dirname(fileURLToPath(import.meta.url))}`);
    folder = parent;
  }
}
