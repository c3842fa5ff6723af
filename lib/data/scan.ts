// scan.ts — listing an image folder: class folders and their image files, with every entry left out reported and why.
//
// Only regular files become images (a named pipe with an image's name would block the reader for
// ever); symbolic links are followed, each real folder once per class; a folder that cannot be listed,
// a link to nothing or to itself, and a name that is not UTF-8 are reported, never fatal and never
// silent. Only the folder given as the source must be readable.
import type { Dirent, Stats } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeNonFile, IMAGE_EXTENSIONS, missingFileError, type SkipReason } from './decode.js';
import { DatasetError } from './errors.js';

/** A file or folder left out of the import, and why. */
export interface SkippedFile {
  path: string;
  reason: SkipReason;
  message: string;
}

/** What a directory entry is, from readdir's type or, past a link, from stat. */
type EntryKind = Pick<Stats, 'isFile' | 'isDirectory' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice' | 'isSymbolicLink'>;

interface NamedEntry {
  name: string;
  full: string;
  kind: EntryKind;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const isImageName = (name: string): boolean => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());

/** Why an fs call on `what` failed, as a skip reason and message. */
function failureOf(error: unknown, what: 'file' | 'folder'): { reason: SkipReason; message: string } {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return { reason: 'permission-denied', message: `permission denied: the ${what} cannot be ${what === 'folder' ? 'listed' : 'read'}` };
  if (code === 'ENOENT') return { reason: 'missing', message: `the ${what} was not found (removed during the import?)` };
  if (code === 'ELOOP') return { reason: 'symlink-loop', message: 'a symbolic link that leads back to itself' };
  return { reason: 'unreadable', message: (error as Error).message };
}

/**
 * The entries of `folder` with UTF-8 names, sorted by name; entries with other names and a folder
 * that cannot be listed go to `skipped`. Only `required` makes an unreadable folder an error.
 */
async function listEntries(folder: string, skipped: SkippedFile[], required = false): Promise<NamedEntry[]> {
  let dirents: Dirent<Buffer>[];
  try {
    dirents = await readdir(folder, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    const failure = failureOf(error, 'folder');
    if (required) throw new DatasetError('SOURCE_NOT_READABLE', `Image folder "${folder}" cannot be read: ${failure.message}`, { cause: error });
    skipped.push({ path: folder, ...failure });
    return [];
  }
  const entries: NamedEntry[] = [];
  for (const dirent of dirents) {
    let name: string;
    try {
      name = strictUtf8.decode(dirent.name);
    } catch {
      const shown = dirent.name.toString('utf8');
      // Other files whose names are not UTF-8 are not images of the dataset and are ignored like any other non-image.
      if (dirent.isDirectory() || dirent.isSymbolicLink() || isImageName(shown))
        skipped.push({ path: path.join(folder, shown), reason: 'bad-filename', message: `the name is not valid UTF-8 (bytes ${dirent.name.toString('hex')})` });
      continue;
    }
    entries.push({ name, full: path.join(folder, name), kind: dirent });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether the import may read a path (CreateDatasetHooks.allowPath: the app confines it to its data roots). */
export type AllowPath = (file: string) => Promise<boolean>;

/**
 * An entry's kind with links followed; a broken link goes to `skipped` and gives undefined. A link the
 * import may not follow is reported as missing, in the words a missing file gets, so the report does
 * not tell whether something exists where the import may not look.
 */
async function resolveKind(entry: NamedEntry, skipped: SkippedFile[], allowPath: AllowPath): Promise<EntryKind | undefined> {
  const known = entry.kind.isFile() || entry.kind.isDirectory() || entry.kind.isFIFO() || entry.kind.isSocket()
    || entry.kind.isCharacterDevice() || entry.kind.isBlockDevice();
  if (known) return entry.kind;
  if (!(await allowPath(entry.full))) {
    const missing = missingFileError();
    skipped.push({ path: entry.full, reason: missing.reason, message: missing.message });
    return undefined;
  }
  try {
    return await stat(entry.full);
  } catch (error) {
    const failure = failureOf(error, 'file');
    if (failure.reason === 'missing' && entry.kind.isSymbolicLink()) {
      const target = await readlink(entry.full).catch(() => '?');
      failure.message = `a symbolic link to "${target}", which does not exist`;
    }
    skipped.push({ path: entry.full, ...failure });
    return undefined;
  }
}

/** Immediate sub-folders (symlinks followed), sorted by name as DIGITS sorts them. */
export async function classFolders(folder: string, skipped: SkippedFile[], allowPath: AllowPath): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await listEntries(folder, skipped, true)) {
    const kind = await resolveKind(entry, skipped, allowPath);
    if (kind?.isDirectory()) names.push(entry.name);
  }
  return names;
}

/**
 * Every image file below `folder`, flattened and sorted, symlinks followed with each real folder
 * visited once. Files with an image extension that are not regular files, and every folder or link
 * that cannot be followed, go to `skipped`.
 */
export async function walkImages(folder: string, skipped: SkippedFile[], allowPath: AllowPath, visited = new Set<string>()): Promise<string[]> {
  const real = await realpath(folder).catch(() => folder);
  visited.add(real);
  const files: string[] = [];
  for (const entry of await listEntries(folder, skipped)) {
    const kind = await resolveKind(entry, skipped, allowPath);
    if (kind === undefined) continue;
    if (kind.isDirectory()) {
      const target = await realpath(entry.full).catch(() => entry.full);
      if (visited.has(target)) {
        skipped.push({ path: entry.full, reason: 'symlink-loop', message: `a link to the folder "${target}", which this class already includes` });
        continue;
      }
      files.push(...(await walkImages(entry.full, skipped, allowPath, visited)));
    } else if (isImageName(entry.name)) {
      if (kind.isFile()) files.push(entry.full);
      else skipped.push({ path: entry.full, reason: 'not-a-file', message: describeNonFile(kind) });
    }
  }
  return files.sort();
}
