// LMDB access for datasets: a batched record writer and a read-only opener, both byte-for-byte (no lmdb-js encodings).
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { lmdb } from '../optional-deps.js';
import { DatasetError } from './errors.js';

/** Records per write transaction (DIGITS commits batches of 100). */
const BATCH = 100;

/**
 * Opens the environment as Caffe expects it: a folder holding data.mdb and lock.mdb, raw
 * byte keys and values, no lmdb-js compression or msgpack. overlappingSync is off so each
 * commit is an ordinary LMDB commit.
 */
function openRaw(folder: string, readOnly: boolean): RootDatabase<Buffer, Buffer> {
  return lmdb().open<Buffer, Buffer>({
    path: folder,
    noSubdir: false,
    encoding: 'binary',
    keyEncoding: 'binary',
    compression: false,
    overlappingSync: false,
    readOnly,
  });
}

/** Appends records in batches; `close()` commits the rest and flushes to disk. */
export class RecordWriter {
  private readonly database: RootDatabase<Buffer, Buffer>;
  private pending: [Buffer, Uint8Array][] = [];
  count = 0;

  constructor(folder: string) {
    this.database = openRaw(folder, false);
  }

  async put(key: Buffer, value: Uint8Array): Promise<void> {
    this.pending.push([key, value]);
    this.count++;
    if (this.pending.length >= BATCH) await this.commit();
  }

  private async commit(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    await this.database.transaction(() => {
      for (const [key, value] of batch) this.database.put(key, value as Buffer);
    });
  }

  async close(): Promise<void> {
    await this.commit();
    await this.database.flushed;
    await this.database.close();
  }
}

/** LMDB's magic number, at the start of each meta page's body. */
const MDB_MAGIC = 0xbeefc0de;

/**
 * The LMDB data format of `<folder>/data.mdb` (the number after the magic in its first meta
 * page): 1 for LMDB 0.9.x (Caffe, DIGITS, py-lmdb, lmdb-js built with use_data_v1), 2 for the
 * newer format lmdb-js' prebuilt binaries write. The page header before the meta data is 16
 * bytes in format 1 and 24 in format 2. Undefined when the file is missing or neither.
 */
export function lmdbDataFormat(folder: string): number | undefined {
  const head = Buffer.alloc(32);
  let length: number;
  try {
    const file = openSync(path.join(folder, 'data.mdb'), 'r');
    try {
      length = readSync(file, head, 0, head.length, 0);
    } finally {
      closeSync(file);
    }
  } catch {
    return undefined;
  }
  for (const at of [16, 24]) {
    if (length >= at + 8 && head.readUInt32LE(at) === MDB_MAGIC) return head.readUInt32LE(at + 4);
  }
  return undefined;
}

/** The LMDB library inside lmdb-js (exported at run time, missing from its typings). */
function lmdbVersion(): { major: number; minor: number; patch: number } {
  return (lmdb() as unknown as { version: { major: number; minor: number; patch: number } }).version;
}

/**
 * The data format this build of lmdb-js reads and writes: LMDB 0.9.90 and later (mdb.master3, in
 * lmdb-js' prebuilt binaries) and 1.x use format 2; the 0.9 releases (its use_data_v1 build: 0.9.29)
 * format 1.
 */
export function lmdbBuildFormat(): number {
  const version = lmdbVersion();
  return version.major > 0 || version.patch >= 90 ? 2 : 1;
}

/**
 * Opens a dataset database for reading. A database in the other LMDB data format is refused with a
 * DatasetError that names both formats, before LMDB sees it: the prebuilt lmdb-js crashes the
 * process (SIGSEGV) opening a format-1 file such as Caffe or DIGITS write.
 */
export function openRecords(folder: string): Database<Buffer, Buffer> {
  const format = lmdbDataFormat(folder);
  const buildFormat = lmdbBuildFormat();
  if (format !== undefined && format !== buildFormat) {
    const version = lmdbVersion();
    throw new DatasetError('DATABASE_INVALID', `${folder} is in LMDB data format ${format}, which this build of lmdb (LMDB ${version.major}.${version.minor}.${version.patch}, data format ${buildFormat}) cannot open${format === 1 ? " (an LMDB 0.9 database, as Caffe and DIGITS write: `cudnet dataset import-caffe` copies it into one this build reads)" : ""}; see lib/data/README.md on LMDB data formats`);
  }
  return openRaw(folder, true);
}
