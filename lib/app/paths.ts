// paths.ts — where the app finds its own files (the package root) and the rule that confines server-side paths to the --data-root folders.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../index.js';
import { AppError } from './errors.js';

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

/**
 * A file a form names by path: a relative path is taken from the first data root. Outside the roots
 * is 403 (checked on the path as written before it is looked up, so the answer says nothing of
 * files elsewhere), a missing file 404, then resolveInsideRoots' check with symlinks resolved.
 */
export async function resolveFileInsideRoots(given: string, roots: readonly string[], field: string): Promise<string> {
  if (roots.length === 0) throw new AppError(400, 'The server was started without --data-root, so no server file can be read', field);
  const candidate = path.resolve(roots[0]!, given);
  const inside = roots.some((root) => {
    const relative = path.relative(path.resolve(root), candidate);
    return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
  });
  if (!inside) throw new AppError(403, `${given} is outside the data folders this server may read (${roots.join(', ')})`, field);
  await realpath(candidate).catch(() => {
    throw new AppError(404, `${given} does not exist`, field);
  });
  return resolveInsideRoots(candidate, roots, field);
}
