// optional-deps.ts — sharp (image decoding and resizing) and lmdb (dataset storage), loaded on first use.
// Tensors, ops, nets, solvers and the Caffe formats need neither, so `import 'cudnet'` works where they
// are absent (a bundle without them, a platform without their prebuilt binaries); the first use of
// images or datasets then says which package is missing instead of the whole library failing to load.
import { createRequire } from 'node:module';
import { CudnetError } from './errors.js';

type SharpModule = typeof import('sharp').default;
type LmdbModule = typeof import('lmdb');

const requireHere = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

/** `require(name)` once per process; a failure is a CudnetError naming the package and what needs it. */
function loadOnce<T>(name: string, neededFor: string): T {
  if (loaded.has(name)) return loaded.get(name) as T;
  let module: T;
  try {
    module = requireHere(name) as T;
  } catch (error) {
    throw new CudnetError('DEPENDENCY_MISSING',
      `${neededFor} needs the package '${name}', which cannot be loaded: ${(error as Error).message.split('\n')[0]} ` +
      `(install it with \`npm install ${name}\`)`, { cause: error });
  }
  loaded.set(name, module);
  return module;
}

/** The sharp function (with its statics: cache, concurrency, ...). */
export function sharp(): SharpModule {
  return loadOnce<SharpModule>('sharp', 'decoding, resizing or writing images');
}

/** The lmdb package. */
export function lmdb(): LmdbModule {
  return loadOnce<LmdbModule>('lmdb', 'reading or writing an LMDB dataset');
}
