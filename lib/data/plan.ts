// Import planning: find the images (class folders or list files), drop bad files and small classes, split, shuffle.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ImageError, missingFileError, probeImageFile } from './decode.js';
import { DatasetError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { mapInOrder } from './pool.js';
import { createRandom, mixSeed, shuffleInPlace } from './random.js';
import { classFolders, walkImages, type AllowPath, type SkippedFile } from './scan.js';
export type { AllowPath } from './scan.js';
import type { RawImage } from './resize.js';
import { requiredSplits, threeWaySplit } from './split.js';

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** One image to import: a file, or pixels already in memory (MNIST). */
export interface Entry {
  path: string;
  label: number;
  pixels?: RawImage;
}

export type { SkippedFile };

export interface ImportPlan {
  labels: string[];
  splits: Record<SplitName, Entry[]>;
  skipped: SkippedFile[];
  /** Human-readable notes: dropped classes, caps reached, unknown classes. */
  messages: string[];
}

export interface PlanProgress {
  (done: number, total: number): void;
}

const allowEveryPath: AllowPath = async () => true;

/** Checks that `folder` exists and is a directory; DatasetError otherwise. */
export async function checkFolder(folder: string, what: string): Promise<void> {
  let info;
  try {
    info = await stat(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new DatasetError('SOURCE_NOT_READABLE', `${what} "${folder}" cannot be read: permission denied`, { cause: error });
    throw new DatasetError('SOURCE_NOT_FOUND', `${what} "${folder}" does not exist`);
  }
  if (!info.isDirectory()) throw new DatasetError('SOURCE_NOT_DIRECTORY', `${what} "${folder}" is not a folder`);
}

/** DIGITS' label for a class folder: the folder name with `_` shown as a space. */
export const labelOfFolder = (name: string): string => name.replace(/_/g, ' ');

const stringSeed = (text: string): number => mixSeed(...Array.from(text, (character) => character.codePointAt(0)!));

/**
 * Probes files in order until `limit` valid ones are found; bad files go to `skipped`.
 * Probing stops early so a huge class capped by maxPerClass is not read in full.
 */
async function firstValid(files: string[], limit: number, options: ResolvedOptions, skipped: SkippedFile[], tick: () => void): Promise<string[]> {
  const valid: string[] = [];
  const chunk = options.concurrency * 4;
  for (let start = 0; start < files.length && valid.length < limit; start += chunk) {
    const slice = files.slice(start, start + chunk);
    await mapInOrder(slice, options.concurrency, (file) => probeImageFile(file, options.maxInputPixels), (result, file) => {
      tick();
      if (result.ok) {
        if (valid.length < limit) valid.push(file);
      } else {
        const error = result.error instanceof ImageError ? result.error : new ImageError('unreadable', String(result.error));
        skipped.push({ path: file, reason: error.reason, message: error.message });
      }
    });
  }
  return valid;
}

interface ClassFiles {
  label: string;
  files: string[];
}

/**
 * Lists every class folder's images, shuffled per class with the seed (DIGITS shuffles before
 * splitting); what the listing leaves out goes to `skipped`, and links the import may not follow
 * (allowPath) are left out as missing.
 */
async function listClasses(folder: string, seed: number, skipped: SkippedFile[], allowPath: AllowPath): Promise<ClassFiles[]> {
  const classes: ClassFiles[] = [];
  for (const name of await classFolders(folder, skipped, allowPath)) {
    const files = await walkImages(path.join(folder, name), skipped, allowPath);
    classes.push({ label: labelOfFolder(name), files: shuffleInPlace(files, createRandom(mixSeed(seed, stringSeed(name)))) });
  }
  return classes;
}

/** Folder method: classes from sub-folders, bad files and small classes dropped, split per class. */
async function planFromFolder(options: ResolvedOptions, plan: ImportPlan, progress: PlanProgress, allowPath: AllowPath): Promise<void> {
  const folder = options.folder!;
  await checkFolder(folder, 'Image folder');
  const classes = await listClasses(folder, options.seed, plan.skipped, allowPath);
  if (classes.length < 2) {
    throw new DatasetError('TOO_FEW_CLASSES', `Image folder "${folder}" must contain at least two sub-folders (one per class); found ${classes.length}`);
  }
  const total = classes.reduce((sum, entry) => sum + entry.files.length, 0);
  let done = 0;
  const tick = (): void => progress(++done, total);
  const needed = Math.max(options.minPerClass, requiredSplits(options.valPercent, options.testPercent), 1);
  for (const { label, files } of classes) {
    const valid = await firstValid(files, options.maxPerClass ?? Infinity, options, plan.skipped, tick);
    if (options.maxPerClass !== undefined && valid.length === options.maxPerClass && files.length > valid.length) {
      plan.messages.push(`Class "${label}": kept ${valid.length} images (maxPerClass)`);
    }
    if (valid.length < needed) {
      plan.messages.push(`Class "${label}" dropped: ${valid.length} usable image(s), needs at least ${needed}`);
      continue;
    }
    const labelIndex = plan.labels.push(label) - 1;
    const counts = threeWaySplit(valid.length, options.valPercent, options.testPercent);
    const entries = valid.map((file) => ({ path: file, label: labelIndex }));
    plan.splits.train.push(...entries.slice(0, counts.train));
    plan.splits.val.push(...entries.slice(counts.train, counts.train + counts.val));
    plan.splits.test.push(...entries.slice(counts.train + counts.val));
  }
  if (plan.labels.length < 2) {
    throw new DatasetError('TOO_FEW_CLASSES', `Did not find two valid classes in "${folder}" (${plan.messages.join('; ')})`);
  }
}

/** A separate validation or test folder: classes matched by name to the training labels, all images to `split`. */
async function planExtraFolder(folder: string, split: SplitName, options: ResolvedOptions, plan: ImportPlan, progress: PlanProgress, allowPath: AllowPath): Promise<void> {
  await checkFolder(folder, `${split === 'val' ? 'Validation' : 'Test'} folder`);
  const classes = await listClasses(folder, mixSeed(options.seed, split.length), plan.skipped, allowPath);
  const total = classes.reduce((sum, entry) => sum + entry.files.length, 0);
  let done = 0;
  for (const { label, files } of classes) {
    const labelIndex = plan.labels.indexOf(label);
    if (labelIndex < 0) {
      plan.messages.push(`Class "${label}" of ${split} folder is not a training class; skipped`);
      continue;
    }
    const valid = await firstValid(files, options.maxPerClass ?? Infinity, options, plan.skipped, () => progress(++done, total));
    plan.splits[split].push(...valid.map((file) => ({ path: file, label: labelIndex })));
  }
}

/** Reads a labels file: one name per non-empty line, line i naming label i. */
async function readLabels(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new DatasetError('SOURCE_NOT_FOUND', `Labels file "${file}" cannot be read`);
  });
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
}

/** Parses `path label` lines (DIGITS' regex `(.+)\s+(\d+)\s*$`); bad lines and unknown labels are skipped. */
async function readList(file: string, prefix: string | undefined, labelCount: number, skipped: SkippedFile[]): Promise<Entry[]> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new DatasetError('SOURCE_NOT_FOUND', `List file "${file}" cannot be read`);
  });
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line.length === 0) return;
    const match = /^(.+)\s+(\d+)\s*$/.exec(line);
    const where = `${file}:${index + 1}`;
    if (match === null) {
      skipped.push({ path: where, reason: 'bad-line', message: `expected "path label" but read "${line}"` });
      return;
    }
    const label = Number(match[2]);
    const imagePath = prefix !== undefined && !path.isAbsolute(match[1]!) ? path.join(prefix, match[1]!) : match[1]!;
    if (label >= labelCount) {
      skipped.push({ path: imagePath, reason: 'unknown-label', message: `label ${label} is beyond the ${labelCount} labels (${where})` });
      return;
    }
    entries.push({ path: imagePath, label });
  });
  return entries;
}

/** Textfile method: labels file plus train (and optional val/test) lists; every listed file is probed. */
async function planFromLists(options: ResolvedOptions, plan: ImportPlan, progress: PlanProgress, allowPath: AllowPath): Promise<void> {
  if (options.prefix !== undefined) await checkFolder(options.prefix, 'Image folder prefix');
  plan.labels.push(...(await readLabels(options.labelsFile!)));
  if (plan.labels.length < 2) throw new DatasetError('TOO_FEW_CLASSES', `Labels file "${options.labelsFile}" must name at least two classes`);
  const lists: [SplitName, string | undefined][] = [['train', options.trainList], ['val', options.valList], ['test', options.testList]];
  const listed: [SplitName, Entry[]][] = [];
  for (const [split, file] of lists) {
    if (file !== undefined) listed.push([split, await readList(file, options.prefix, plan.labels.length, plan.skipped)]);
  }
  const total = listed.reduce((sum, [, entries]) => sum + entries.length, 0);
  let done = 0;
  for (const [split, entries] of listed) {
    const probe = async (entry: Entry) => {
      if (!(await allowPath(entry.path))) throw missingFileError();
      await probeImageFile(entry.path, options.maxInputPixels);
    };
    await mapInOrder(entries, options.concurrency, probe, (result, entry) => {
      progress(++done, total);
      if (result.ok) plan.splits[split].push(entry);
      else {
        const error = result.error instanceof ImageError ? result.error : new ImageError('unreadable', String(result.error));
        plan.skipped.push({ path: entry.path, reason: error.reason, message: error.message });
      }
    });
  }
  if (plan.splits.train.length === 0) throw new DatasetError('NO_IMAGES', `No usable image in training list "${options.trainList}"`);
}

/** Builds the whole plan; throws DatasetError before any image is decoded when the source is unusable. */
export async function planImport(options: ResolvedOptions, progress: PlanProgress, allowPath: AllowPath = allowEveryPath): Promise<ImportPlan> {
  const plan: ImportPlan = { labels: [], splits: { train: [], val: [], test: [] }, skipped: [], messages: [] };
  if (options.folder !== undefined) {
    await planFromFolder(options, plan, progress, allowPath);
    if (options.valFolder !== undefined) await planExtraFolder(options.valFolder, 'val', options, plan, progress, allowPath);
    if (options.testFolder !== undefined) await planExtraFolder(options.testFolder, 'test', options, plan, progress, allowPath);
  } else {
    await planFromLists(options, plan, progress, allowPath);
  }
  if (options.shuffle) shuffleSplits(plan, options.seed);
  return plan;
}

/** Mixes classes within each split (records otherwise arrive class by class and Caffe reads them in key order). */
export function shuffleSplits(plan: Pick<ImportPlan, 'splits'>, seed: number): void {
  SPLIT_NAMES.forEach((split, index) => shuffleInPlace(plan.splits[split], createRandom(mixSeed(seed, 1000 + index))));
}
