// records.ts — reading a dataset split's LMDB records for the gallery and for classify-many: keys, labels, and each image as PNG bytes.
import { open, type RootDatabase } from 'lmdb';
import protobuf from 'protobufjs';
import sharp from 'sharp';

/* Caffe's Datum (caffe.proto); lib/data writes it but does not export a reader. */
const datumType = protobuf.parse(`syntax = "proto2"; package caffe;
message Datum { optional int32 channels = 1; optional int32 height = 2; optional int32 width = 3; optional bytes data = 4;
  optional int32 label = 5; repeated float float_data = 6; optional bool encoded = 7 [default = false]; }`, { keepCase: true }).root.lookupType('caffe.Datum');

interface Datum {
  channels: number;
  height: number;
  width: number;
  data: Uint8Array;
  label: number;
  encoded: boolean;
}

export interface RecordEntry {
  index: number;
  label: number;
}

/** A split's records, opened read-only; keys are "%08d_<label>", so labels come from the keys alone. */
export class SplitRecords {
  private constructor(private readonly database: RootDatabase<Buffer, Buffer>, readonly entries: RecordEntry[]) {}

  static async open(folder: string): Promise<SplitRecords> {
    const database = open<Buffer, Buffer>({ path: folder, readOnly: true, encoding: 'binary', keyEncoding: 'binary', compression: false });
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
    if (datum.encoded) return sharp(datum.data).png().toBuffer();
    return sharp(interleaved(datum), { raw: { width: datum.width, height: datum.height, channels: datum.channels as 1 | 3 } }).png().toBuffer();
  }

  datum(entry: RecordEntry): Datum {
    const key = Buffer.from(`${String(entry.index).padStart(8, '0')}_${entry.label}`, 'ascii');
    const value = this.database.getBinary(key);
    if (value === undefined) throw new Error(`no record ${key.toString()}`);
    return datumType.toObject(datumType.decode(value), { defaults: true }) as Datum;
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
