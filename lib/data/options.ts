// The options of an image-classification dataset import, their DIGITS defaults, and their validation.
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_INPUT_PIXELS } from './decode.js';
import { DatasetError, rejectUnknownKeys } from './errors.js';
import { RESIZE_MODES } from './resize.js';

export type Encoding = 'none' | 'png' | 'jpg';

/**
 * How PNG records are compressed (both lossless, the pixels are the same):
 * 'fast' — the Average filter on every row, then Huffman coding alone, or with runs of a repeated byte on
 *          flat images (our C++ writer, png.ts);
 * 'small' — what DIGITS writes through PIL: a filter chosen per row and zlib level 6 (libvips),
 * about 10% smaller on photos and about 3x slower to encode.
 */
export type PngCompression = 'fast' | 'small';
export const PNG_COMPRESSIONS: readonly PngCompression[] = ['fast', 'small'];

/** What the caller may pass to createDataset; every field but `dest` and one source is optional. */
export interface CreateDatasetOptions {
  /** Where the dataset folder is created (must not exist unless `overwrite`). */
  dest: string;
  /** Folder method: one sub-folder per class. */
  folder?: string;
  /** Separate folders parsed as 100% validation / test with the training label list (forces the matching percent to 0). */
  valFolder?: string;
  testFolder?: string;
  /** Textfile method: labels file (line i = name of label i) and `path label` list files. */
  labelsFile?: string;
  trainList?: string;
  valList?: string;
  testList?: string;
  /** Folder prepended to relative paths of the list files. */
  prefix?: string;
  width?: number;
  height?: number;
  channels?: 1 | 3;
  resizeMode?: 'squash' | 'crop' | 'fill' | 'half_crop';
  encoding?: Encoding;
  /** PNG records only: 'fast' (default) or 'small' (DIGITS' zlib level 6); see PngCompression. */
  pngCompression?: PngCompression;
  valPercent?: number;
  testPercent?: number;
  minPerClass?: number;
  maxPerClass?: number;
  /** Shuffle each split's records (DIGITS does; Caffe's Data layer reads in key order). */
  shuffle?: boolean;
  seed?: number;
  /** Images larger than this many pixels are skipped without decoding. */
  maxInputPixels?: number;
  /** Images in flight at once (read, decoding, encoding or waiting for their turn to be written). */
  concurrency?: number;
  overwrite?: boolean;
}

const positiveInteger = z.number().int().positive();
const percent = z.number().min(0).max(100);

const schema = z.object({
  dest: z.string().min(1),
  folder: z.string().min(1).optional(),
  valFolder: z.string().min(1).optional(),
  testFolder: z.string().min(1).optional(),
  labelsFile: z.string().min(1).optional(),
  trainList: z.string().min(1).optional(),
  valList: z.string().min(1).optional(),
  testList: z.string().min(1).optional(),
  prefix: z.string().min(1).optional(),
  width: positiveInteger.default(256),
  height: positiveInteger.default(256),
  channels: z.union([z.literal(1), z.literal(3)]).default(3),
  resizeMode: z.enum(RESIZE_MODES as ['squash', 'crop', 'fill', 'half_crop']).default('squash'),
  encoding: z.enum(['none', 'png', 'jpg']).default('png'),
  pngCompression: z.enum(PNG_COMPRESSIONS as ['fast', 'small']).default('fast'),
  valPercent: percent.default(25),
  testPercent: percent.default(0),
  minPerClass: positiveInteger.default(2),
  maxPerClass: positiveInteger.optional(),
  shuffle: z.boolean().default(true),
  seed: z.number().int().min(0).default(0),
  maxInputPixels: positiveInteger.default(DEFAULT_MAX_INPUT_PIXELS),
  concurrency: positiveInteger.default(Math.max(2, os.availableParallelism()) * 8),
  overwrite: z.boolean().default(false),
});

/** Options with every default filled in, as recorded in dataset.json. */
export type ResolvedOptions = z.infer<typeof schema>;

export const OPTION_NAMES = Object.keys(schema.shape);

/** Message in the project's form: "Expected <what> for <name> but received <value>". */
function describeIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>): string {
  const name = issue.path.join('.');
  const received = JSON.stringify(input[String(issue.path[0])]);
  return `Expected ${issue.message.replace(/^Invalid input: expected /i, '').replace(/^Invalid input/i, 'a valid value')} for ${name} but received ${received}`;
}

/** Fills defaults and checks every rule (types, ranges, one source, percent sum); throws DatasetError. */
export function resolveOptions(options: CreateDatasetOptions): ResolvedOptions {
  rejectUnknownKeys(options, OPTION_NAMES, 'dataset');
  const parsed = schema.safeParse(options);
  if (!parsed.success) throw new DatasetError('INVALID_OPTION', describeIssue(parsed.error.issues[0]!, options as unknown as Record<string, unknown>));
  const resolved = parsed.data;
  checkSourceChoice(resolved);
  if (resolved.valFolder !== undefined) resolved.valPercent = 0;
  if (resolved.testFolder !== undefined) resolved.testPercent = 0;
  if (resolved.valPercent + resolved.testPercent > 100) {
    throw new DatasetError('INVALID_OPTION', `Expected valPercent + testPercent <= 100 but received ${resolved.valPercent} + ${resolved.testPercent}`);
  }
  if (resolved.maxPerClass !== undefined && resolved.maxPerClass < resolved.minPerClass) {
    throw new DatasetError('INVALID_OPTION', `Expected maxPerClass >= minPerClass (${resolved.minPerClass}) but received ${resolved.maxPerClass}`);
  }
  return resolved;
}

function checkSourceChoice(resolved: ResolvedOptions): void {
  const usesList = resolved.trainList !== undefined;
  if (resolved.folder === undefined && !usesList) {
    throw new DatasetError('INVALID_OPTION', 'Expected a source for the dataset: folder (one sub-folder per class) or trainList with labelsFile');
  }
  if (resolved.folder !== undefined && usesList) {
    throw new DatasetError('INVALID_OPTION', 'Expected either folder or trainList but received both');
  }
  if (usesList && resolved.labelsFile === undefined) {
    throw new DatasetError('INVALID_OPTION', 'Expected labelsFile with trainList (line i of the file names label i)');
  }
}
