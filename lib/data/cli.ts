// `cudnet dataset create`: argument parsing and a progress bar (images/s, ETA) around createDataset / createMnistDataset.
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { CudnetError, isSystemError } from '../errors.js';
import { copyFromLmdb09, exportCaffeLmdb } from './caffe-lmdb.js';
import { createDataset, SKIP_NOTE, type CreateDatasetHooks, type DatasetReport } from './create.js';
import { DatasetError } from './errors.js';
import { MANIFEST_FILE } from './manifest.js';
import { createMnistDataset } from './mnist.js';
import type { CreateDatasetOptions, Encoding, PngCompression } from './options.js';
import type { ImportProgress } from './progress.js';

export const DATASET_CREATE_USAGE = `Usage: cudnet dataset create <folder> <dest> [options]
       cudnet dataset create <dest> --labels <file> --train-list <file> [--val-list <file>] [--test-list <file>] [--prefix <dir>]
       cudnet dataset create <dest> --mnist

  --val-percent <n>      % of each class for validation (default 25)
  --test-percent <n>     % of each class for testing (default 0)
  --val-folder <dir>     separate validation folder (same class names)
  --test-folder <dir>    separate test folder
  --size <W>x<H>         resize target (default 256x256)
  --resize <mode>        squash | crop | fill | half_crop (default squash)
  --channels <1|3>       1 = greyscale, 3 = colour (default 3)
  --encoding <e>         none | png | jpg (default png)
  --png-compression <c>  fast | small: PNG records' zlib effort (default fast; small = DIGITS' level 6,
                         about 10% smaller on photos, about 3x slower to encode)
  --min-per-class <n>    drop classes with fewer images (default 2)
  --max-per-class <n>    use at most n images per class
  --seed <n>             shuffle seed (default 0)
  --no-shuffle           keep list order in the databases
  --overwrite            replace an existing <dest>`;

/** Where the CLI writes; tests pass their own. */
export interface CliStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const argumentSpec = {
  'val-percent': { type: 'string' }, 'test-percent': { type: 'string' }, 'val-folder': { type: 'string' }, 'test-folder': { type: 'string' },
  size: { type: 'string' }, resize: { type: 'string' }, channels: { type: 'string' }, encoding: { type: 'string' },
  'png-compression': { type: 'string' },
  'min-per-class': { type: 'string' }, 'max-per-class': { type: 'string' }, seed: { type: 'string' },
  labels: { type: 'string' }, 'train-list': { type: 'string' }, 'val-list': { type: 'string' }, 'test-list': { type: 'string' },
  prefix: { type: 'string' }, mnist: { type: 'boolean' }, 'no-shuffle': { type: 'boolean' }, overwrite: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Parsed = ReturnType<typeof parseArgs<{ options: typeof argumentSpec; allowPositionals: true }>>;

/** A number option, checked here so the message names the flag the user typed. */
function numberFlag(values: Parsed['values'], name: keyof typeof argumentSpec): number | undefined {
  const text = values[name] as string | undefined;
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new DatasetError('INVALID_OPTION', `Expected a number for --${name} but received "${text}"`);
  return value;
}

function parseSize(text: string | undefined): { width?: number; height?: number } {
  if (text === undefined) return {};
  const match = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (match === null) throw new DatasetError('INVALID_OPTION', `Expected <width>x<height> for --size but received "${text}"`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** Turns parsed flags into createDataset options (positionals: <folder> <dest>, or <dest> alone for lists). */
export function optionsFromArguments(parsed: Parsed): CreateDatasetOptions {
  const { values, positionals } = parsed;
  const usesList = values['train-list'] !== undefined;
  const expected = usesList ? 1 : 2;
  if (positionals.length !== expected) {
    throw new DatasetError('INVALID_OPTION', `Expected ${usesList ? '<dest>' : '<folder> <dest>'} but received ${positionals.length} argument(s)\n${DATASET_CREATE_USAGE}`);
  }
  const options: CreateDatasetOptions = {
    dest: positionals[expected - 1]!,
    ...(usesList ? {} : { folder: positionals[0]! }),
    ...parseSize(values.size),
  };
  const assign = <K extends keyof CreateDatasetOptions>(key: K, value: CreateDatasetOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  assign('valPercent', numberFlag(values, 'val-percent'));
  assign('testPercent', numberFlag(values, 'test-percent'));
  assign('valFolder', values['val-folder']);
  assign('testFolder', values['test-folder']);
  assign('resizeMode', values.resize as CreateDatasetOptions['resizeMode']);
  assign('channels', numberFlag(values, 'channels') as 1 | 3 | undefined);
  assign('encoding', values.encoding as Encoding | undefined);
  assign('pngCompression', values['png-compression'] as PngCompression | undefined);
  assign('minPerClass', numberFlag(values, 'min-per-class'));
  assign('maxPerClass', numberFlag(values, 'max-per-class'));
  assign('seed', numberFlag(values, 'seed'));
  assign('labelsFile', values.labels);
  assign('trainList', values['train-list']);
  assign('valList', values['val-list']);
  assign('testList', values['test-list']);
  assign('prefix', values.prefix);
  if (values['no-shuffle']) options.shuffle = false;
  if (values.overwrite) options.overwrite = true;
  return options;
}

/**
 * A command's failure as its exit code: a CudnetError is printed with its code (2 for a bad option,
 * else 1), a system error (EACCES, ENOSPC, ...) with its code; anything else is a bug and is rethrown.
 */
function reportError(error: unknown, streams: CliStreams): number {
  if (isSystemError(error)) {
    streams.stderr.write(`Error (${error.code}): ${error.message}\n`);
    return 1;
  }
  if (!(error instanceof CudnetError)) throw error;
  streams.stderr.write(`Error (${error.code}): ${error.message}\n`);
  return error.code === 'INVALID_OPTION' || error.code === 'UNKNOWN_OPTION' ? 2 : 1;
}

/** A cli-progress bar per phase, showing images/s and the time left. */
function progressHooks(streams: CliStreams): { hooks: CreateDatasetHooks; stop: (report?: DatasetReport) => void } {
  const bar = new cliProgress.SingleBar({
    stream: streams.stderr,
    format: '{phase} [{bar}] {value}/{total} | {rate} images/s | ETA {etaText}',
    hideCursor: true,
    noTTYOutput: false,
  }, cliProgress.Presets.shades_classic);
  let phase: string | undefined;
  const onProgress = (progress: ImportProgress): void => {
    const payload = { phase: progress.phase.padEnd(5), rate: progress.imagesPerSecond.toFixed(0), etaText: `${Math.ceil(progress.etaSeconds)}s` };
    if (progress.phase === 'finish') return;
    if (progress.phase !== phase) {
      if (phase !== undefined) bar.stop();
      phase = progress.phase;
      bar.start(progress.total, progress.done, payload);
    } else {
      bar.setTotal(progress.total);
      bar.update(progress.done, payload);
    }
  };
  const messages: string[] = [];
  return {
    hooks: { onProgress, onMessage: (message) => messages.push(message) },
    stop: (report?: DatasetReport) => {
      if (phase !== undefined) bar.stop();
      printMessages(messages, streams, report);
    },
  };
}

/** Skipped files shown at most; the rest are counted, and every one is in dataset.json. */
const SHOWN_SKIPS = 100;

/** The notes gathered during the import: every one, except that past SHOWN_SKIPS skipped files only their count is printed. */
function printMessages(messages: readonly string[], streams: CliStreams, report: DatasetReport | undefined): void {
  let skips = 0;
  for (const message of messages) {
    if (message.startsWith(SKIP_NOTE) && ++skips > SHOWN_SKIPS) continue;
    streams.stderr.write(`${message}\n`);
  }
  if (skips <= SHOWN_SKIPS) return;
  const where = report !== undefined ? `; all ${skips} are listed under "skipped" in ${path.join(report.dest, MANIFEST_FILE)}` : '';
  streams.stderr.write(`... and ${skips - SHOWN_SKIPS} more skipped file(s)${where}\n`);
}

function printSummary(report: DatasetReport, streams: CliStreams): void {
  const counts = Object.entries(report.splits).map(([split, summary]) => `${summary!.count} ${split}`).join(', ');
  streams.stdout.write(`Created ${report.dest}: ${report.labels.length} classes, ${counts}`);
  streams.stdout.write(report.skipped.length > 0 ? `; ${report.skipped.length} file(s) skipped (listed in dataset.json)\n` : '\n');
}

/**
 * Runs `cudnet dataset create ...`; `argv` is what follows the program name, with or without
 * the leading "dataset create". Returns the exit code (0 done, 1 error, 2 usage) and never exits.
 */
export async function runDatasetCreateCli(argv: readonly string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const args = argv[0] === 'dataset' && argv[1] === 'create' ? argv.slice(2) : argv[0] === 'create' ? argv.slice(1) : argv.slice();
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options: argumentSpec, allowPositionals: true, strict: true });
  } catch (error) {
    streams.stderr.write(`${(error as Error).message}\n${DATASET_CREATE_USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    streams.stdout.write(`${DATASET_CREATE_USAGE}\n`);
    return 0;
  }
  const progress = progressHooks(streams);
  try {
    const report = parsed.values.mnist ? await runMnist(parsed, progress.hooks) : await createDataset(optionsFromArguments(parsed), progress.hooks);
    progress.stop(report);
    printSummary(report, streams);
    return 0;
  } catch (error) {
    progress.stop();
    return reportError(error, streams);
  }
}

async function runMnist(parsed: Parsed, hooks: CreateDatasetHooks): Promise<DatasetReport> {
  if (parsed.positionals.length !== 1) throw new DatasetError('INVALID_OPTION', `Expected <dest> with --mnist but received ${parsed.positionals.length} argument(s)`);
  const seed = numberFlag(parsed.values, 'seed');
  return createMnistDataset(parsed.positionals[0]!, {
    ...(parsed.values.encoding !== undefined ? { encoding: parsed.values.encoding as Encoding } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(parsed.values.overwrite ? { overwrite: true } : {}),
  }, hooks);
}

export const DATASET_EXPORT_CAFFE_USAGE = `Usage: cudnet dataset export-caffe <dataset> [--dest <dir>] [--overwrite]

Writes LMDB 0.9 copies of the dataset's databases (<dest>/train_db, val_db, test_db; default
<dest>: <dataset>/caffe) that Caffe's Data layer, DIGITS and py-lmdb open. Needs mdb_load, from
LMDB's command-line tools (apt-get install lmdb-utils).

  --dest <dir>   where the copies go (default <dataset>/caffe)
  --overwrite    replace an existing <dest>`;

/** Runs `cudnet dataset export-caffe ...` (`argv` after "export-caffe"); returns the exit code and never exits. */
export async function runDatasetExportCaffeCli(argv: readonly string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: { dest: { type: 'string' }; overwrite: { type: 'boolean' }; help: { type: 'boolean'; short: 'h' } }; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: { dest: { type: 'string' }, overwrite: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    streams.stderr.write(`${(error as Error).message}\n${DATASET_EXPORT_CAFFE_USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    streams.stdout.write(`${DATASET_EXPORT_CAFFE_USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    streams.stderr.write(`Expected <dataset> but received ${parsed.positionals.length} argument(s)\n${DATASET_EXPORT_CAFFE_USAGE}\n`);
    return 2;
  }
  try {
    const result = await exportCaffeLmdb(parsed.positionals[0]!, {
      ...(parsed.values.dest !== undefined ? { dest: parsed.values.dest } : {}),
      ...(parsed.values.overwrite ? { overwrite: true } : {}),
    });
    for (const { split, db, count } of result.splits) streams.stdout.write(`${split}: ${count} records -> ${db}\n`);
    const train = result.splits.find((entry) => entry.split === 'train') ?? result.splits[0];
    if (train !== undefined) {
      streams.stdout.write(`In a Caffe prototxt: data_param { source: "${train.db}" backend: LMDB }\n`);
      streams.stdout.write(`                     transform_param { mean_file: "${result.meanFile}" }\n`);
    }
    return 0;
  } catch (error) {
    return reportError(error, streams);
  }
}

export const DATASET_IMPORT_CAFFE_USAGE = `Usage: cudnet dataset import-caffe <lmdb-0.9-db> <dest-db>

Copies an LMDB 0.9 database (data format 1, as Caffe, DIGITS and py-lmdb write) into a database cudnet
reads (its Data layer's source, or LmdbBatchSource), record for record. Needs mdb_dump, from LMDB's
command-line tools (apt-get install lmdb-utils).`;

/** Runs `cudnet dataset import-caffe <source> <dest>` (`argv` after "import-caffe"); returns the exit code and never exits. */
export async function runDatasetImportCaffeCli(argv: readonly string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    streams.stdout.write(`${DATASET_IMPORT_CAFFE_USAGE}\n`);
    return 0;
  }
  if (argv.length !== 2 || argv.some((arg) => arg.startsWith('-'))) {
    streams.stderr.write(`Expected <lmdb-0.9-db> <dest-db> but received ${argv.map((arg) => JSON.stringify(arg)).join(' ') || 'nothing'}\n${DATASET_IMPORT_CAFFE_USAGE}\n`);
    return 2;
  }
  const [source, dest] = argv as [string, string];
  try {
    const count = await copyFromLmdb09(source, dest);
    streams.stdout.write(`${count} records -> ${dest}\n`);
    return 0;
  } catch (error) {
    return reportError(error, streams);
  }
}
