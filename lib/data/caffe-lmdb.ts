// LMDB 0.9 (data format 1) copies of a dataset's databases for Caffe, DIGITS and py-lmdb, and the way back, through LMDB's own mdb_load / mdb_dump.
import { spawn, spawnSync } from 'node:child_process';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CudnetError } from '../errors.js';
import { makeFolder } from '../files.js';
import { DatasetError } from './errors.js';
import { checkCanCreate, cleanLeftovers } from './leftovers.js';
import { readDatasetManifest } from './manifest.js';
import type { SplitName } from './plan.js';
import { lmdbDataFormat, openRecords, RecordWriter } from './store.js';

/*
 * Why through mdb_load and mdb_dump: our databases are written by the lmdb package, whose LMDB
 * (0.9.90) uses data format 2, which Caffe's, DIGITS' and py-lmdb's LMDB 0.9 cannot open, and the
 * other way round (README.md, "LMDB data format"). LMDB's own command-line tools (Debian/Ubuntu
 * package lmdb-utils, built from LMDB 0.9) read and write format 1 and speak a documented text
 * format (mdb_dump's "bytevalue": a header, then each key and each value as one line of hex after
 * a space). So a copy for Caffe streams our records, in key order, into mdb_load, and a Caffe or
 * DIGITS database comes back through mdb_dump; no LMDB file is written by hand.
 */

/** The LMDB 0.9 tools: a `-V` call proves the program runs and says its version. */
function lmdbTool(program: string, purpose: string): string {
  const probe = spawnSync(program, ['-V'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new DatasetError('TOOL_MISSING', `${purpose} needs ${program} (LMDB 0.9's command-line tools: apt-get install lmdb-utils), but "${program}" could not be run${probe.error ? ` (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message})` : ''}`);
  }
  return probe.stdout.trim();
}

/** Writes `text` and waits while the pipe is full, so a large database never piles up in memory; false once the pipe is gone. */
async function write(stream: Writable, text: string): Promise<boolean> {
  if (stream.write(text)) return true;
  // Resolves false when the pipe closed or failed (the tool exited): what went wrong is the tool's to say.
  return new Promise((resolve) => {
    const finish = (open: boolean) => () => {
      stream.off('drain', drained).off('close', closed).off('error', closed);
      resolve(open);
    };
    const drained = finish(true), closed = finish(false);
    stream.on('drain', drained).on('close', closed).on('error', closed);
  });
}

/**
 * Runs a tool to completion; rejects with its standard error when it fails. The rejection is marked
 * handled at once: the tool may fail while its output is still being read, and it is awaited after.
 */
function finished(child: ReturnType<typeof spawn>, what: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new DatasetError('TOOL_MISSING', `${what}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new DatasetError('DATABASE_INVALID', `${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}`));
    });
  });
  done.catch(() => {});
  return done;
}

/**
 * Copies one database (ours, `source`) to `target` (created) in LMDB data format 1 with mdb_load.
 * The map size given to mdb_load leaves room for the records twice over; Caffe opens with its own.
 */
export async function copyToLmdb09(source: string, target: string, mdbLoad = 'mdb_load'): Promise<number> {
  lmdbTool(mdbLoad, 'Writing an LMDB 0.9 database');
  return loadInto(source, target, mdbLoad);
}

/** copyToLmdb09 once mdb_load is known to run (exportCaffeLmdb checks it once for every split). */
async function loadInto(source: string, target: string, mdbLoad: string): Promise<number> {
  const size = (await stat(path.join(source, 'data.mdb'))).size;
  const mapSize = Math.ceil((2 * size + 64 * 2 ** 20) / 2 ** 20) * 2 ** 20;
  await makeFolder(target, `LMDB 0.9 database "${target}"`).catch((error: unknown) => {
    throw error instanceof CudnetError ? new DatasetError('DESTINATION_INVALID', error.message, { cause: error }) : error;
  });
  const database = openRecords(source);
  const child = spawn(mdbLoad, [target], { stdio: ['pipe', 'ignore', 'pipe'] });
  const done = finished(child, `mdb_load into ${target}`);
  let count = 0;
  let open = true;
  try {
    const input = child.stdin!;
    input.on('error', () => {}); // a tool that exits early is reported by `done`
    open = await write(input, `VERSION=3\nformat=bytevalue\ntype=btree\nmapsize=${mapSize}\nHEADER=END\n`);
    for (const { key, value } of database.getRange()) {
      if (!open) break;
      open = await write(input, ` ${Buffer.from(key).toString('hex')}\n ${Buffer.from(value).toString('hex')}\n`);
      count++;
    }
    if (open) input.end('DATA=END\n');
  } finally {
    await database.close();
  }
  await done;
  if (!open) throw new DatasetError('DATABASE_INVALID', `mdb_load into ${target} stopped reading before the last record`);
  return count;
}

/**
 * Copies an LMDB 0.9 (data format 1) database, such as Caffe or DIGITS write, into a new database of
 * ours at `target` with mdb_dump. The copy is written beside `target` and renamed into place when
 * complete, so a failure leaves no database there.
 */
export async function copyFromLmdb09(source: string, target: string, mdbDump = 'mdb_dump'): Promise<number> {
  const format = lmdbDataFormat(source);
  if (format !== 1) throw new DatasetError('DATABASE_INVALID', `${source} is not an LMDB 0.9 database (no data.mdb in data format 1${format !== undefined ? `; it is format ${format}` : ''})`);
  lmdbTool(mdbDump, 'Reading an LMDB 0.9 database');
  await cleanLeftovers(path.resolve(target));
  if (await stat(target).catch(() => undefined)) throw new DatasetError('DESTINATION_EXISTS', `Destination "${target}" already exists`);
  const partial = `${target}.partial-${process.pid}`;
  await checkCanCreate(target, partial);
  try {
    const count = await dumpInto(source, partial, mdbDump);
    await rename(partial, target);
    return count;
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

async function dumpInto(source: string, target: string, mdbDump: string): Promise<number> {
  const child = spawn(mdbDump, [source], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = finished(child, `mdb_dump of ${source}`);
  const writer = new RecordWriter(target);
  let key: Buffer | undefined;
  let [inData, ended] = [false, false];
  try {
    for await (const line of createInterface({ input: child.stdout as Readable, crlfDelay: Infinity })) {
      if (!inData) {
        if (line === 'HEADER=END') inData = true;
        else if (line.startsWith('format=') && line !== 'format=bytevalue') throw new DatasetError('DATABASE_INVALID', `mdb_dump wrote ${line}; expected format=bytevalue`);
        continue;
      }
      if (line === 'DATA=END') {
        ended = true;
        break;
      }
      const bytes = Buffer.from(line.slice(1), 'hex');
      if (key === undefined) key = bytes;
      else {
        await writer.put(key, bytes);
        key = undefined;
      }
    }
  } finally {
    await writer.close();
  }
  await done;
  if (!ended || key !== undefined) throw new DatasetError('DATABASE_INVALID', `mdb_dump of ${source} ended before its last record (no DATA=END line)`);
  return writer.count;
}

export interface CaffeExportOptions {
  /** Folder for the copies (default `<dataset>/caffe`): `<split>_db` for each split. */
  dest?: string;
  /** Replace an existing destination. */
  overwrite?: boolean;
  /** The mdb_load program (default: found on PATH). */
  mdbLoad?: string;
}

export interface CaffeExport {
  dest: string;
  splits: { split: SplitName; db: string; count: number }[];
  /** The dataset's mean, for transform_param.mean_file. */
  meanFile: string;
}

/**
 * Writes LMDB 0.9 copies of every split of the dataset at `folder`, for Caffe's Data layer
 * (`data_param { source: "<dest>/train_db" backend: LMDB }`), DIGITS or py-lmdb. The copies are
 * written to a temporary folder renamed into place at the end, so an interrupted export leaves no
 * destination that looks complete.
 */
export async function exportCaffeLmdb(folder: string, options: CaffeExportOptions = {}): Promise<CaffeExport> {
  const manifest = await readDatasetManifest(folder);
  const dest = path.resolve(options.dest ?? path.join(folder, 'caffe'));
  const mdbLoad = options.mdbLoad ?? 'mdb_load';
  lmdbTool(mdbLoad, 'Writing an LMDB 0.9 database');
  await cleanLeftovers(dest);
  const existing = await stat(dest).catch(() => undefined);
  if (existing !== undefined && !options.overwrite) throw new DatasetError('DESTINATION_EXISTS', `Destination "${dest}" already exists (pass overwrite to replace it)`);
  const partial = `${dest}.partial-${process.pid}`;
  await checkCanCreate(dest, partial);
  const splits: CaffeExport['splits'] = [];
  try {
    for (const [split, summary] of Object.entries(manifest.splits) as [SplitName, NonNullable<(typeof manifest.splits)[SplitName]>][]) {
      const count = await loadInto(path.join(folder, summary.db), path.join(partial, summary.db), mdbLoad);
      if (count !== summary.count) throw new DatasetError('DATABASE_INVALID', `${summary.db} holds ${count} records but dataset.json lists ${summary.count}`);
      splits.push({ split, db: path.join(dest, summary.db), count });
    }
    if (existing !== undefined) await rm(dest, { recursive: true, force: true });
    await rename(partial, dest);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  return { dest, splits, meanFile: path.resolve(folder, manifest.mean.binaryproto) };
}
