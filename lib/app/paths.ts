// paths.ts — where the app finds its own files (the package root) and the rule that confines server-side paths to the --data-root folders.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../index.js';
import { AppError } from './errors.js';

/** The static pages: lib/app/public, which the TypeScript build does not copy, so it is read from the sources. */
export function publicFolder(): string {
  return path.join(packageRoot(), 'lib', 'app', 'public');
}

export interface InsideRootsOptions {
  /** A relative path is taken from this folder; without it a relative path is refused (400). */
  relativeTo?: string;
  /** The status of a path that does not exist (or whose links lead out of the roots): 400 on a form, 404 where a file is asked for. */
  missingStatus?: number;
}

/**
 * The one rule for every server path a request or a job names: it must lie inside a data root. The path as
 * written (`..` resolved, nothing looked up) is checked first, against each root as given and as its real
 * path: outside is 403, which says nothing about what exists elsewhere. Then symlinks are resolved on both
 * sides (fs.realpath) and the real path must lie inside a root's real path too; a path that does not exist
 * and one whose links lead out of the roots get the same answer (`missingStatus`, "does not exist"), so no
 * answer tells whether something outside the roots exists. Returns the real path.
 */
export async function resolveInsideRoots(given: string, roots: readonly string[], field: string, options: InsideRootsOptions = {}): Promise<string> {
  if (roots.length === 0) throw new AppError(400, 'The server was started without --data-root, so no server path can be read', field);
  if (options.relativeTo === undefined && !path.isAbsolute(given)) throw new AppError(400, `Expected an absolute path for ${field} but received ${JSON.stringify(given)}`, field);
  const candidate = path.resolve(options.relativeTo ?? '/', given);
  const realRoots = (await Promise.all(roots.map((root) => realpath(root).catch(() => undefined)))).filter((root): root is string => root !== undefined);
  if (![...roots, ...realRoots].some((root) => isInside(candidate, root))) {
    throw new AppError(403, `${given} is outside the data folders this server may read (${roots.join(', ')})`, field);
  }
  const real = await realpath(candidate).catch(() => undefined);
  if (real === undefined || !realRoots.some((root) => isInside(real, root))) {
    throw new AppError(options.missingStatus ?? 400, `${given} does not exist inside the data folders (links out of them are not followed)`, field);
  }
  return real;
}

/** Whether `file` is `folder` or lies below it (both absolute and normalized). */
function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}
