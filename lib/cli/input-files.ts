// input-files.ts — the files and folders a command's flags name, checked before any work so a wrong path is one line, not a stack trace.
import { stat } from 'node:fs/promises';
import { CudnetError } from '../errors.js';

/** What a flag's path must be. */
export type PathKind = 'file' | 'folder';

/**
 * Checks that `value` (given as `--<flag>`) exists and is a file or a folder as `kind` says.
 * Throws CudnetError FILE_NOT_FOUND when nothing is there, NOT_A_FILE / NOT_A_FOLDER when the
 * other kind is, and FILE_NOT_READABLE when it cannot be looked at (permissions).
 */
export async function checkInputPath(flag: string, value: string, kind: PathKind): Promise<void> {
  let info;
  try {
    info = await stat(value);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CudnetError('FILE_NOT_FOUND', `--${flag} ${value}: no such ${kind}`);
    if (code === 'ELOOP') throw new CudnetError('FILE_NOT_FOUND', `--${flag} ${value}: a symbolic link that points back to itself`);
    throw new CudnetError('FILE_NOT_READABLE', `--${flag} ${value}: cannot be read (${(error as Error).message})`, { cause: error });
  }
  if (kind === 'folder' && !info.isDirectory()) throw new CudnetError('NOT_A_FOLDER', `--${flag} ${value}: expected a folder but this is a file`);
  if (kind === 'file' && !info.isFile())
    throw new CudnetError('NOT_A_FILE', `--${flag} ${value}: expected a file but this is ${info.isDirectory() ? 'a folder' : 'not a regular file'}`);
}
