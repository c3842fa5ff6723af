// LMDB access for datasets: a batched record writer and a read-only opener, both byte-for-byte (no lmdb-js encodings).
import { open, type Database, type RootDatabase } from 'lmdb';

/** Records per write transaction (DIGITS commits batches of 100). */
const BATCH = 100;

/**
 * Opens the environment as Caffe expects it: a folder holding data.mdb and lock.mdb, raw
 * byte keys and values, no lmdb-js compression or msgpack. overlappingSync is off so each
 * commit is an ordinary LMDB commit.
 */
function openRaw(folder: string, readOnly: boolean): RootDatabase<Buffer, Buffer> {
  return open<Buffer, Buffer>({
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

/** Opens a dataset database for reading. */
export function openRecords(folder: string): Database<Buffer, Buffer> {
  return openRaw(folder, true);
}
