// dataset.json: the self-describing manifest of a dataset folder (every option, counts, skipped files, format version).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DatasetError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { ImportPlan, SkippedFile, SplitName } from './plan.js';

export const MANIFEST_FILE = 'dataset.json';
export const MANIFEST_FORMAT = 'cudnet-image-classification-dataset';
/** Bumped whenever the folder layout or record layout changes incompatibly. */
export const MANIFEST_VERSION = 1;

export interface SplitSummary {
  /** LMDB folder, relative to the dataset folder. */
  db: string;
  /** `path label` lines of the records, in key order. */
  list: string;
  count: number;
  /** Images per label index. */
  perClass: number[];
}

export interface DatasetManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  createdAt: string;
  options: Omit<ResolvedOptions, 'concurrency'>;
  image: { width: number; height: number; channels: number; resizeMode: string; encoding: string; channelOrder: 'BGR' | 'grey' };
  /** lmdbDataFormat: 1 = LMDB 0.9.x's format (Caffe, DIGITS, py-lmdb), 2 = lmdb-js' prebuilt binaries' (see README.md). */
  record: { backend: 'lmdb'; lmdbDataFormat?: number; key: string; value: string };
  labels: string[];
  labelsFile: string;
  splits: Partial<Record<SplitName, SplitSummary>>;
  mean: { binaryproto: string; png: string; split: 'train' };
  skipped: SkippedFile[];
  messages: string[];
}

export function buildManifest(
  options: ResolvedOptions, plan: ImportPlan, splits: Partial<Record<SplitName, SplitSummary>>, lmdbDataFormat?: number,
): DatasetManifest {
  const { concurrency: _concurrency, ...recorded } = options;
  return {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_VERSION,
    createdAt: new Date().toISOString(),
    options: recorded,
    image: {
      width: options.width, height: options.height, channels: options.channels, resizeMode: options.resizeMode,
      encoding: options.encoding, channelOrder: options.channels === 3 ? 'BGR' : 'grey',
    },
    record: {
      backend: 'lmdb',
      ...(lmdbDataFormat !== undefined ? { lmdbDataFormat } : {}),
      key: '%08d_%d (record index in the split, label)',
      value: options.encoding === 'none'
        ? 'caffe.Datum: channels, height, width, label, data = C x H x W uint8 (BGR)'
        : `caffe.Datum: channels, height, width, label, encoded = true, data = ${options.encoding.toUpperCase()} file (RGB or grey)`,
    },
    labels: plan.labels,
    labelsFile: 'labels.txt',
    splits,
    mean: { binaryproto: 'mean.binaryproto', png: 'mean.png', split: 'train' },
    skipped: plan.skipped,
    messages: plan.messages,
  };
}

/** Reads and checks `<folder>/dataset.json`. */
export async function readDatasetManifest(folder: string): Promise<DatasetManifest> {
  const file = path.join(folder, MANIFEST_FILE);
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as DatasetManifest;
  } catch (error) {
    throw new DatasetError('DATABASE_INVALID', `"${folder}" is not a complete dataset (no readable ${MANIFEST_FILE})`, { cause: error });
  }
  if (manifest.format !== MANIFEST_FORMAT || manifest.formatVersion > MANIFEST_VERSION) {
    throw new DatasetError('DATABASE_INVALID', `"${file}" has format ${manifest.format} version ${manifest.formatVersion}; this cudnet reads ${MANIFEST_FORMAT} up to version ${MANIFEST_VERSION}`);
  }
  return manifest;
}
