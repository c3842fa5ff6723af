// paths.ts — where the app finds its own files (the package root) and the rule that confines server-side paths to the --data-root folders.
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from './errors.js';

/** The folder holding package.json, found by walking up from this file (works from lib/ and from dist/lib/). */
export function packageRoot(): string {
  let folder = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(folder, 'package.json'))) {
    const parent = path.dirname(folder);
    if (parent === folder) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    folder = parent;
  }
  return folder;
}

/** The static pages: lib/app/public, which the TypeScript build does not copy, so it is read from the sources. */
export function publicFolder(): string {
  return path.join(packageRoot(), 'lib', 'app', 'public');
}

/**
 * Resolves a user-given path and checks it lies inside one of the data roots. Symlinks are
 * resolved on both sides (fs.realpath), so neither `..` nor a link can lead outside.
 */
export async function resolveInsideRoots(given: string, roots: readonly string[], field: string): Promise<string> {
  if (roots.length === 0) throw new AppError(400, 'The server was started without --data-root, so no server folder can be read', field);
  if (!path.isAbsolute(given)) throw new AppError(400, `Expected an absolute path for ${field} but received ${JSON.stringify(given)}`, field);
  const real = await realpath(given).catch(() => {
    throw new AppError(400, `${given} does not exist`, field);
  });
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => undefined);
    if (realRoot === undefined) continue;
    const relative = path.relative(realRoot, real);
    if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) return real;
  }
  throw new AppError(403, `${given} is outside the data folders this server may read (${roots.join(', ')})`, field);
}
