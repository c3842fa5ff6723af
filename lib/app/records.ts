// records.ts — reading a dataset split's LMDB records for the gallery and for classify-many: keys, labels, and each image as PNG bytes.
import type { Database } from 'lmdb';
import { sharp as loadSharp } from '../optional-deps.js';
import { caffe, data } from '../index.js';

type Datum = ReturnType<typeof caffe.decodeDatum>;

export interface RecordEntry {
  index: number;
  label: number;
}

/** A split's records, opened read-only; keys are "%08d_<label>", so labels come from the keys alone. */
export class SplitRecords {
  private constructor(private readonly database: Database<Buffer, Buffer>, readonly entries: RecordEntry[]) {}

  static async open(folder: string): Promise<SplitRecords> {
    const database = data.openRecords(folder);
    const entries: RecordEntry[] = [];
    for (const key of database.getKeys()) {
      const [index, label] = (key as Buffer).toString('ascii').split('_');
      entries.push({ index: Number(index), label: Number(label) });
    }
    return new SplitRecords(database, entries);
  }

  /** The record's image as a PNG (raw records are C x H x W BGR; encoded ones hold a PNG or JPEG already). */
  async png(entry: RecordEntry): Promise<Buffer> {
    const datum = this.datum(entry);
    if (datum.encoded) return loadSharp()(datum.data).png().toBuffer();
    return loadSharp()(interleaved(datum), { raw: { width: datum.width, height: datum.height, channels: datum.channels as 1 | 3 } }).png().toBuffer();
  }

  datum(entry: RecordEntry): Datum {
    const key = data.recordKey(entry.index, entry.label);
    const value = this.database.getBinary(key);
    if (value === undefined) throw new Error(`no record ${key.toString()}`);
    return caffe.decodeDatum(value);
  }

  async close(): Promise<void> {
    await this.database.close();
  }
}

/** Planar C x H x W with BGR channel order to interleaved H x W x C RGB, as sharp reads raw pixels. */
function interleaved(datum: Datum): Buffer {
  const { channels, height, width, data } = datum;
  const plane = height * width;
  const pixels = Buffer.alloc(plane * channels);
  for (let c = 0; c < channels; c++) {
    const source = (channels - 1 - c) * plane;
    for (let i = 0; i < plane; i++) pixels[i * channels + c] = data[source + i]!;
  }
  return pixels;
}
