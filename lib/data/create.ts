// createDataset: DIGITS' "New Image Classification Dataset" — plan, decode and resize, write LMDBs, mean, manifest.
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sharp as loadSharp } from '../optional-deps.js';
import { convertChannels, decodeResizedFile, ImageError, missingFileError, type ResizedImage } from './decode.js';
import { DatasetError } from './errors.js';
import { cleanLeftovers, checkCanCreate } from './leftovers.js';
import { MeanAccumulator, saveMean } from './mean.js';
import { resolveOptions, type CreateDatasetOptions, type ResolvedOptions } from './options.js';
import { planImport, SPLIT_NAMES, type Entry, type ImportPlan, type SkippedFile, type SplitName } from './plan.js';
import { mapInOrder } from './pool.js';
import { ProgressTracker, type ProgressListener } from './progress.js';
import { createRandom, mixSeed } from './random.js';
import { encodeRecord, pipelineEncoder, recordKey } from './records.js';
import { resizeImage } from './resize.js';
import { lmdbDataFormat, RecordWriter } from './store.js';
import { buildManifest, MANIFEST_FILE, type DatasetManifest, type SplitSummary } from './manifest.js';

export interface CreateDatasetHooks {
  onProgress?: ProgressListener;
  /** Notes worth showing a user as they happen: dropped classes, skipped files. */
  onMessage?: (message: string) => void;
  /**
   * Confines what the import reads: asked about every listed image, every symbolic link a folder scan meets
   * and every file before it is decoded. A path it refuses counts as missing: a link in a folder is passed
   * over as a dangling one is, a listed or planned file is skipped as 'missing'.
   */
  allowPath?: (file: string) => Promise<boolean>;
}

/** What an import produced; the same facts are in `<dest>/dataset.json`. */
export interface DatasetReport {
  dest: string;
  labels: string[];
  splits: Partial<Record<SplitName, SplitSummary>>;
  skipped: SkippedFile[];
  messages: string[];
  manifest: DatasetManifest;
}

/** Imports an image-classification dataset; throws DatasetError before any work when the source is unusable. */
export async function createDataset(options: CreateDatasetOptions, hooks: CreateDatasetHooks = {}): Promise<DatasetReport> {
  const resolved = resolveOptions(options);
  await checkDestination(resolved, hooks);
  const plan = await planImport(resolved, (done, total) => reportScan(hooks, done, total), hooks.allowPath);
  plan.messages.forEach((message) => hooks.onMessage?.(message));
  plan.skipped.forEach((skipped) => hooks.onMessage?.(skipMessage(skipped)));
  return writeDataset(resolved, plan, hooks);
}

/** How every note about a file or folder left out starts. */
export const SKIP_NOTE = 'Skipped ';

/** The note for a file or folder left out: its path, the reason's name and what was wrong. */
export function skipMessage(skipped: SkippedFile): string {
  return `${SKIP_NOTE}${skipped.path} (${skipped.reason}): ${skipped.message}`;
}

/** Scan progress is reported every 50 files (probing is fast; a listener per file would dominate). */
function reportScan(hooks: CreateDatasetHooks, done: number, total: number): void {
  if (done % 50 === 0 || done === total) hooks.onProgress?.({ phase: 'scan', done, total, imagesPerSecond: 0, etaSeconds: 0 });
}

/** The folder an import writes into before renaming it to `dest`. */
const partialFolder = (dest: string): string => `${dest}.partial-${process.pid}`;

/**
 * Before anything is read: cleans up what killed imports left beside the destination, refuses to
 * replace an existing dataset unless asked to, and checks that the destination can be created.
 */
export async function checkDestination(options: ResolvedOptions, hooks: CreateDatasetHooks = {}): Promise<void> {
  const dest = path.resolve(options.dest);
  for (const note of await cleanLeftovers(dest)) hooks.onMessage?.(note);
  const existing = await stat(dest).catch(() => null);
  if (existing !== null && !options.overwrite) {
    throw new DatasetError('DESTINATION_EXISTS', `Destination "${options.dest}" already exists (pass overwrite to replace it)`);
  }
  await checkCanCreate(dest, partialFolder(dest));
}

interface SplitResult {
  summary: SplitSummary;
  lines: string[];
}

/**
 * Writes everything into `<dest>.partial-<pid>` and renames it to `<dest>` only at the end,
 * so an import that is killed or fails never leaves a folder that looks like a dataset.
 */
export async function writeDataset(options: ResolvedOptions, plan: ImportPlan, hooks: CreateDatasetHooks): Promise<DatasetReport> {
  const dest = path.resolve(options.dest);
  const partial = partialFolder(dest);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial);
  try {
    const mean = new MeanAccumulator(options.width, options.height, options.channels);
    const splits: Partial<Record<SplitName, SplitSummary>> = {};
    for (const [index, split] of SPLIT_NAMES.entries()) {
      if (plan.splits[split].length === 0 && split !== 'train') continue;
      const result = await withImportSettings(() => writeSplit(options, plan, split, index, partial, split === 'train' ? mean : undefined, hooks));
      splits[split] = result.summary;
      await writeFile(path.join(partial, `${split}.txt`), result.lines.join(''));
    }
    if (mean.count === 0) throw new DatasetError('NO_IMAGES', 'No training image could be read; nothing to import');
    await saveMean(mean, path.join(partial, 'mean.binaryproto'), path.join(partial, 'mean.png'));
    await writeFile(path.join(partial, 'labels.txt'), plan.labels.map((label) => `${label}\n`).join(''));
    const manifest = buildManifest(options, plan, splits, lmdbDataFormat(path.join(partial, 'train_db')));
    await writeFile(path.join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    hooks.onProgress?.({ phase: 'finish', done: 1, total: 1, imagesPerSecond: 0, etaSeconds: 0 });
    await publish(partial, dest, options.overwrite);
    return { dest, labels: plan.labels, splits, skipped: plan.skipped, messages: plan.messages, manifest };
  } catch (error) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/** Moves the finished folder into place; with overwrite, the old dataset is moved aside first and removed after. */
async function publish(partial: string, dest: string, overwrite: boolean): Promise<void> {
  const existing = await stat(dest).catch(() => null);
  if (existing !== null && overwrite) {
    const aside = `${dest}.old-${process.pid}`;
    await rename(dest, aside);
    await rename(partial, dest);
    await rm(aside, { recursive: true, force: true });
    return;
  }
  if (existing !== null) throw new DatasetError('DESTINATION_EXISTS', `Destination "${dest}" appeared during the import; the new dataset was not written`);
  await rename(partial, dest);
}

/** Decodes (or takes from memory), converts channels and resizes one entry. */
async function prepareImage(entry: Entry, options: ResolvedOptions, noiseSeed: number, needPixels: boolean): Promise<ResizedImage> {
  const random = createRandom(noiseSeed);
  if (entry.pixels === undefined) {
    const encode = needPixels || options.encoding === 'none' ? undefined : pipelineEncoder(options.encoding, options.pngCompression);
    return decodeResizedFile(entry.path, options.channels, options.width, options.height, options.resizeMode, random, options.maxInputPixels, encode);
  }
  return resizeImage(convertChannels(entry.pixels, options.channels), options.width, options.height, options.resizeMode, random);
}

/**
 * Runs `work` with libvips set up for an import: one thread per image (the import keeps
 * several images in flight on libuv's pool, which spreads small images over the cores better
 * than splitting each one across threads) and no operation cache (every image is new, so the
 * cache only costs: hashing, holding recent images, evicting them; about 0.3 ms per image
 * measured). The previous settings are restored when the last import ends.
 */
let importsRunning = 0;
let savedConcurrency = 0;
let savedCache: ReturnType<typeof import('sharp').default.cache> | undefined;
async function withImportSettings<T>(work: () => Promise<T>): Promise<T> {
  if (importsRunning++ === 0) {
    savedConcurrency = loadSharp().concurrency();
    savedCache = loadSharp().cache();
    loadSharp().concurrency(1);
    loadSharp().cache(false);
  }
  try {
    return await work();
  } finally {
    if (--importsRunning === 0) {
      loadSharp().concurrency(savedConcurrency);
      const { memory, files, items } = savedCache!;
      loadSharp().cache({ memory: memory.max, files: files.max, items: items.max });
    }
  }
}

/** Writes one split's LMDB; images that fail to decode are skipped and the following records keep consecutive keys. */
async function writeSplit(
  options: ResolvedOptions, plan: ImportPlan, split: SplitName, splitIndex: number, folder: string,
  mean: MeanAccumulator | undefined, hooks: CreateDatasetHooks,
): Promise<SplitResult> {
  const entries = plan.splits[split];
  const writer = new RecordWriter(path.join(folder, `${split}_db`));
  const perClass = new Array<number>(plan.labels.length).fill(0);
  const lines: string[] = [];
  const tracker = new ProgressTracker(split, entries.length, hooks.onProgress);
  let done = 0;
  try {
    await mapInOrder(entries, options.concurrency, async (entry, index) => {
      if (entry.pixels === undefined && hooks.allowPath && !(await hooks.allowPath(entry.path))) throw missingFileError();
      const image = await prepareImage(entry, options, mixSeed(options.seed, splitIndex, index), mean !== undefined);
      return { image: mean !== undefined ? image : undefined, record: await encodeRecord(image, entry.label, options.encoding, options.pngCompression) };
    }, async (result, entry) => {
      tracker.update(++done);
      if (!result.ok) {
        skipEntry(plan, entry, result.error, hooks);
        return;
      }
      await writer.put(recordKey(writer.count, entry.label), result.value.record);
      if (result.value.image !== undefined) mean!.add(result.value.image);
      perClass[entry.label]!++;
      lines.push(`${entry.path} ${entry.label}\n`);
    });
  } finally {
    await writer.close();
  }
  return { summary: { db: `${split}_db`, list: `${split}.txt`, count: lines.length, perClass }, lines };
}

function skipEntry(plan: ImportPlan, entry: Entry, error: unknown, hooks: CreateDatasetHooks): void {
  const failure = error instanceof ImageError ? error : new ImageError('unreadable', error instanceof Error ? error.message : String(error));
  const skipped = { path: entry.path, reason: failure.reason, message: failure.message };
  plan.skipped.push(skipped);
  hooks.onMessage?.(skipMessage(skipped));
}
