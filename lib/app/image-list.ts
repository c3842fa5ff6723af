// image-list.ts — classify many from an uploaded list: its `path [label]` lines (DIGITS' format), each path resolved and confined to the data roots as the dataset list import does.
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError, messageOf } from './errors.js';
import { resolveInsideRoots } from './paths.js';

/** The most lines (non-empty) one list may hold, and its largest size: the upload is refused beyond them. */
export const LIST_MAX_LINES = 10000;
export const LIST_MAX_BYTES = 1 << 20;
/** In an evaluation job's folder: the uploaded list, and every line's result (written when the job ends). */
export const LIST_FILE = 'list.txt';
export const LINES_FILE = 'lines.json';
/** A listed file larger than this is not read. */
const IMAGE_MAX_BYTES = 64 << 20;

export type LineFailure = 'missing' | 'outside' | 'not-a-file' | 'not-an-image' | 'bad-label' | 'too-large';

/** One line of a classified list as LINES_FILE keeps it: its top-5, or why it failed. */
export interface LineResult {
  line: number;
  text: string;
  file?: string;
  label?: number;
  predictions?: { index: number; probability: number }[];
  reason?: LineFailure;
  error?: string;
}

/** One non-empty line: its number (1-based), its text, and the path and label it names. */
export interface ListLine {
  line: number;
  text: string;
  path: string;
  label?: number;
  /** A label that is not a class index ("-1", "2.5"): reported once the classes are known. */
  badLabel?: string;
}

/**
 * DIGITS' parse of a classify-many list: a line that ends in whitespace and digits is `path label`,
 * any other is a path alone; blank lines are skipped. A trailing "-1" or "2.5" is kept as a bad label.
 */
export function parseImageList(text: string): ListLine[] {
  const lines: ListLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const labelled = /^(.*\S)\s+(\d+)$/.exec(line);
    const malformed = labelled ? null : /^(.*\S)\s+(-\d+(?:\.\d+)?|\d+\.\d*)$/.exec(line);
    if (labelled) lines.push({ line: index + 1, text: line, path: labelled[1]!, label: Number(labelled[2]) });
    else if (malformed) lines.push({ line: index + 1, text: line, path: malformed[1]!, badLabel: malformed[2]! });
    else lines.push({ line: index + 1, text: line, path: line });
  });
  return lines;
}

/** Refuses an upload that is not a usable list (field `list`): not text, no line, or more lines than allowed. */
export function checkImageList(text: string): number {
  if (text.includes('\0')) throw new AppError(400, 'list: the uploaded file is not a text file', 'list');
  const count = parseImageList(text).length;
  if (count === 0) throw new AppError(400, 'list: the uploaded file lists no image', 'list');
  if (count > LIST_MAX_LINES) throw new AppError(400, `list: the uploaded file lists ${count} images; at most ${LIST_MAX_LINES} are classified at once`, 'list');
  return count;
}

/** A relative path is taken from `prefix` (the form's folder, or the first data root), as the dataset list import takes it. */
export function listedPath(given: string, prefix: string): string {
  return path.isAbsolute(given) ? given : path.join(prefix, given);
}

export class LineError extends Error {
  constructor(readonly reason: LineFailure, message: string) {
    super(message);
  }
}

/**
 * The bytes of a listed image: its path resolved against the prefix, then confined to the data
 * roots with symlinks resolved (resolveInsideRoots); a failure is a LineError with its reason.
 */
export async function readListedImage(given: string, prefix: string, roots: readonly string[]): Promise<{ file: string; bytes: Buffer }> {
  let file: string;
  try {
    file = await resolveInsideRoots(listedPath(given, prefix), roots, 'path');
  } catch (error) {
    if (error instanceof AppError && error.status === 403) throw new LineError('outside', `${given} is outside the data folders this server may read`);
    throw new LineError('missing', error instanceof AppError ? `${listedPath(given, prefix)} does not exist` : messageOf(error));
  }
  const info = await stat(file).catch((error: unknown) => {
    throw new LineError('missing', messageOf(error));
  });
  if (!info.isFile()) throw new LineError('not-a-file', `${file} is not a file`);
  if (info.size > IMAGE_MAX_BYTES) throw new LineError('too-large', `${file} is larger than ${IMAGE_MAX_BYTES >> 20} MiB`);
  const handle = await open(file, 'r');
  try {
    return { file, bytes: await handle.readFile() };
  } finally {
    await handle.close();
  }
}
