// files.ts — creating folders without Node's recursive mkdir, and telling whether the process that left a file behind is gone.
import type { Stats } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CudnetError } from './errors.js';

/** Whether a path exists as something, following links; ENOENT and ENOTDIR (a file on the way) mean it does not. */
async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
}

/** Why mkdir failed, in words, for a folder whose parent exists. */
function mkdirFailure(error: NodeJS.ErrnoException, parent: string): string {
  if (error.code === 'EACCES' || error.code === 'EPERM') return `permission denied in "${parent}"`;
  if (error.code === 'EROFS') return `"${parent}" is on a read-only file system`;
  if (error.code === 'ENOSPC') return `no space left on the device of "${parent}"`;
  // /proc, /sys and the like exist but refuse new entries with ENOENT.
  if (error.code === 'ENOENT') return `the file system of "${parent}" does not allow new folders`;
  return error.message;
}

/**
 * Creates `folder` and any missing parents, like `mkdir -p`. Node's own `mkdir(..., { recursive: true })`
 * is not used: on a file system that answers ENOENT for a folder whose parent exists (/proc, /sys) it
 * retries forever. Throws CudnetError NOT_A_FOLDER when a file stands where a folder is needed, and
 * CANNOT_CREATE_FOLDER when the file system refuses (permissions, read-only, /proc). `subject` starts
 * the messages: `Output folder "runs/a"` gives `Output folder "runs/a" cannot be created: ...`.
 */
export async function makeFolder(folder: string, subject: string): Promise<void> {
  const target = path.resolve(folder);
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    const info = await statOrNull(existing);
    if (info !== null) {
      if (!info.isDirectory())
        throw new CudnetError('NOT_A_FOLDER', `${subject} cannot be created: "${existing}" is a file, not a folder`);
      break;
    }
    missing.unshift(existing);
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const entry of missing) {
    try {
      await mkdir(entry);
    } catch (error) {
      // Created meanwhile by someone else: fine when it is a folder.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (await statOrNull(entry))?.isDirectory()) continue;
      throw new CudnetError('CANNOT_CREATE_FOLDER',
        `${subject} cannot be created: ${mkdirFailure(error as NodeJS.ErrnoException, path.dirname(entry))}`, { cause: error });
    }
  }
}

/**
 * Whether no process with this id runs any more. A process of another user counts as running (EPERM):
 * only files whose writer is certainly gone are ever cleaned up.
 */
export function processIsGone(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
