// leftovers.ts — what a killed import or export left beside its destination (`<dest>.partial-<pid>`, `<dest>.old-<pid>`), cleaned up by the next one.
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CudnetError } from '../errors.js';
import { makeFolder, processIsGone } from '../files.js';
import { DatasetError } from './errors.js';

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes `<dest>.partial-<pid>` folders (an import or export killed while writing) and deals with
 * `<dest>.old-<pid>` folders (an overwrite killed while swapping: the previous dataset, moved aside)
 * whose process is gone: an old folder is put back as `<dest>` when nothing took its place, else
 * removed. Folders of running processes are left alone. Returns one note per folder handled.
 */
export async function cleanLeftovers(dest: string): Promise<string[]> {
  const folder = path.dirname(dest);
  const pattern = new RegExp(`^${escapeRegExp(path.basename(dest))}\\.(partial|old)-(\\d+)$`);
  const names = await readdir(folder).catch(() => [] as string[]);
  const notes: string[] = [];
  for (const name of names.sort()) {
    const match = pattern.exec(name);
    if (match === null || !processIsGone(Number(match[2]))) continue;
    const leftover = path.join(folder, name);
    if (match[1] === 'old' && (await stat(dest).catch(() => null)) === null) {
      await rename(leftover, dest);
      notes.push(`Put back ${dest} from ${name}, left by an overwrite that was interrupted`);
    } else {
      await rm(leftover, { recursive: true, force: true });
      notes.push(`Removed ${name}, left by an import that was interrupted`);
    }
  }
  return notes;
}

/**
 * Checks, before any work, that `dest` can be created: its parent folders are made, and the folder
 * the import writes into (`partial`) is created once and removed. DatasetError DESTINATION_INVALID
 * when a file is in the way or the file system refuses (permissions, read-only, /proc).
 */
export async function checkCanCreate(dest: string, partial: string): Promise<void> {
  try {
    await makeFolder(partial, `Destination "${dest}"`);
  } catch (error) {
    if (error instanceof CudnetError) throw new DatasetError('DESTINATION_INVALID', error.message, { cause: error });
    throw error;
  }
  await rm(partial, { recursive: true, force: true });
}
