// Worker thread of LmdbBatchSource: reads records of one split, decodes them and writes transformed batches into shared slots.
import { parentPort } from 'node:worker_threads';
import { sharp as loadSharp } from '../optional-deps.js';
import { readDatumView } from '../caffe/datum.js';
import { toPlanarBgr } from './records.js';
import { openRecords } from './store.js';
import { transformImage, unpackChoice, type TransformSpec } from './transform.js';

/** One batch's shared memory (see createSlot in source.ts): N x C x H x W data, then N labels. */
export interface BatchSlot {
  buffer: SharedArrayBuffer;
  data: Float32Array;
  labels: Float32Array;
}

export interface WorkerInit {
  type: 'init';
  folder: string;
  spec: TransformSpec;
  /** Every slot of the ring; a request names the one to write. */
  slots: SharedArrayBuffer[];
}

export interface BatchRequest {
  type: 'batch';
  batchIndex: number;
  slot: number;
  records: Uint32Array;
  /** packChoices() of the batch's random choices. */
  choices: Int32Array;
}

export type WorkerReply =
  | { type: 'batch'; batchIndex: number }
  | { type: 'error'; batchIndex: number; message: string };

/** All keys of the database in order, packed in one buffer (a Buffer per key would cost ~100 bytes each). */
function readKeys(database: ReturnType<typeof openRecords>): { bytes: Buffer; offsets: Uint32Array } {
  const keys: Buffer[] = [];
  for (const key of database.getKeys()) keys.push(Buffer.from(key));
  const offsets = new Uint32Array(keys.length + 1);
  keys.forEach((key, index) => (offsets[index + 1] = offsets[index]! + key.length));
  return { bytes: Buffer.concat(keys), offsets };
}

/**
 * Decodes an encoded (PNG/JPEG) record to planar C x H x W with colour in BGR, like the raw records,
 * with the database's channel count (Caffe decodes with is_color = channels == 3). sharp's raw output
 * is sRGB unless told otherwise: a grey PNG would come back as three equal planes.
 */
async function decodeEncoded(data: Uint8Array, channels: number): Promise<{ planar: Uint8Array; channels: number; height: number; width: number }> {
  const input = loadSharp()(data);
  const converted = channels === 1 ? input.toColourspace('b-w') : input.removeAlpha().toColourspace('srgb');
  const { data: pixels, info } = await converted.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const image = { pixels, width: info.width, height: info.height, channels: info.channels };
  return { planar: toPlanarBgr(image), channels: info.channels, height: info.height, width: info.width };
}

/** Views of one slot's shared memory for a batch of `count` images of `itemSize` values. */
function slotViews(buffer: SharedArrayBuffer, count: number, itemSize: number): { data: Float32Array; labels: Float32Array } {
  const values = count * itemSize;
  return { data: new Float32Array(buffer, 0, values), labels: new Float32Array(buffer, values * Float32Array.BYTES_PER_ELEMENT, count) };
}

function startWorker(init: WorkerInit): void {
  const database = openRecords(init.folder);
  const keys = readKeys(database);
  const spec = init.spec;
  const itemSize = spec.channels * (spec.cropSize || spec.height) * (spec.cropSize || spec.width);
  const batchSize = init.slots[0]!.byteLength / Float32Array.BYTES_PER_ELEMENT / (itemSize + 1);
  const slots = init.slots.map((buffer) => slotViews(buffer, batchSize, itemSize));

  const checkShape = (channels: number, height: number, width: number, record: number): void => {
    if (channels !== spec.channels || height !== spec.height || width !== spec.width) {
      throw new Error(`Record ${record} is ${channels}x${height}x${width} but the database's first record is ${spec.channels}x${spec.height}x${spec.width}`);
    }
  };

  /** Raw records are transformed in place from LMDB's bytes; encoded ones are decoded first. */
  const buildBatch = async (request: BatchRequest): Promise<void> => {
    const { data, labels } = slots[request.slot]!;
    for (let i = 0; i < request.records.length; i++) {
      const record = request.records[i]!;
      const key = keys.bytes.subarray(keys.offsets[record]!, keys.offsets[record + 1]!);
      const bytes = database.getBinaryFast(key);
      if (bytes === undefined) throw new Error(`Record ${record} vanished from ${init.folder}`);
      const datum = readDatumView(bytes);
      labels[i] = datum.label;
      if (datum.encoded) {
        const decoded = await decodeEncoded(Uint8Array.from(datum.data), spec.channels);
        checkShape(decoded.channels, decoded.height, decoded.width, record);
        transformImage(spec, decoded.planar, unpackChoice(request.choices, i), data, i * itemSize);
      } else {
        checkShape(datum.channels, datum.height, datum.width, record);
        transformImage(spec, datum.data, unpackChoice(request.choices, i), data, i * itemSize);
      }
    }
  };

  parentPort!.on('message', (request: BatchRequest) => {
    buildBatch(request).then(
      () => parentPort!.postMessage({ type: 'batch', batchIndex: request.batchIndex } satisfies WorkerReply),
      (error: unknown) => parentPort!.postMessage({ type: 'error', batchIndex: request.batchIndex, message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply),
    );
  });
}

parentPort!.once('message', (init: WorkerInit) => {
  try {
    startWorker(init);
    parentPort!.postMessage({ type: 'ready' });
  } catch (error) {
    parentPort!.postMessage({ type: 'error', batchIndex: -1, message: error instanceof Error ? error.message : String(error) });
  }
});
