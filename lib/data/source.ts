// LmdbBatchSource: batches from a split's LMDB, transformed as Caffe's Data layer does, prefetched by worker threads.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { sharp as loadSharp } from '../optional-deps.js';
import { readDatumView } from '../caffe/datum.js';
import type { BatchSource } from './batch-source.js';
import { readMeanBinaryproto } from './mean.js';
import { DatasetError } from './errors.js';
import { EpochOrder } from './order.js';
import { openRecords } from './store.js';
import type { BatchRequest, BatchSlot, WorkerInit, WorkerReply } from './source-worker.js';
import { chooseItems, packChoices, type Phase, type TransformParam, type TransformSpec } from './transform.js';

export interface LmdbBatchSourceOptions {
  /** The split's LMDB folder (e.g. <dataset>/train_db). */
  source: string;
  batchSize: number;
  phase?: Phase;
  transform?: TransformParam;
  /** Read each epoch in a new seeded order (Caffe reads in key order; DIGITS shuffles at import instead). */
  shuffle?: boolean;
  seed?: number;
  /** Worker threads (default: one per core, at most 4). */
  workers?: number;
  /** Batches prepared ahead of the consumer (default: 2 per worker). */
  prefetch?: number;
  /**
   * Hand out each batch in place, as Caffe's prefetch queue does: the arrays returned by next()
   * are views of a shared slot that workers wrote into, valid only until the following next()
   * call, which gives the slot back to be filled again. Off by default: next() then returns a
   * copy the caller owns. A Data layer that copies each batch out should turn it on.
   */
  reuseBuffers?: boolean;
}

/** A batch being built: the slot it goes into and the promise of its completion. */
interface Pending {
  slot: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Count and geometry of a database, read from its first record. */
async function describeDatabase(folder: string): Promise<{ count: number; channels: number; height: number; width: number }> {
  const database = openRecords(folder);
  try {
    const count = (database.getStats() as { entryCount: number }).entryCount;
    let first: { value: Buffer } | undefined;
    for (const entry of database.getRange({ limit: 1 })) first = entry;
    if (count === 0 || first === undefined) throw new DatasetError('DATABASE_INVALID', `Database "${folder}" holds no records`);
    const datum = readDatumView(first.value);
    if (!datum.encoded) return { count, channels: datum.channels, height: datum.height, width: datum.width };
    // Encoded records carry the decoded geometry as DIGITS writes it; the picture's header is the fallback.
    if (datum.channels > 0 && datum.height > 0 && datum.width > 0) return { count, channels: datum.channels, height: datum.height, width: datum.width };
    const info = await loadSharp()(Buffer.from(datum.data)).metadata();
    return { count, channels: Math.min(info.channels ?? 0, 3), height: info.height ?? 0, width: info.width ?? 0 };
  } finally {
    await database.close();
  }
}

/** Resolves transform_param against the record geometry, with Caffe's checks. */
async function buildSpec(param: TransformParam, phase: Phase, geometry: { channels: number; height: number; width: number }): Promise<TransformSpec> {
  const { channels, height, width } = geometry;
  const cropSize = param.cropSize ?? 0;
  if (cropSize < 0 || cropSize > Math.min(height, width)) {
    throw new DatasetError('INVALID_OPTION', `Expected cropSize between 0 and ${Math.min(height, width)} for transform but received ${cropSize}`);
  }
  if (param.meanFile !== undefined && param.meanValue !== undefined) {
    throw new DatasetError('INVALID_OPTION', 'Cannot specify meanFile and meanValue at the same time');
  }
  let meanImage: Float32Array | null = null;
  if (param.meanFile !== undefined) {
    const mean = await readMeanBinaryproto(param.meanFile).catch((error: unknown) => {
      throw new DatasetError('MEAN_FILE_INVALID', `Mean file "${param.meanFile}" cannot be read: ${(error as Error).message}`);
    });
    if (mean.channels !== channels || mean.height !== height || mean.width !== width) {
      throw new DatasetError('MEAN_FILE_INVALID', `Mean file "${param.meanFile}" is ${mean.channels}x${mean.height}x${mean.width} but the records are ${channels}x${height}x${width}`);
    }
    meanImage = mean.data;
  }
  let meanValues: Float32Array | null = null;
  if (param.meanValue !== undefined) {
    if (param.meanValue.length !== 1 && param.meanValue.length !== channels) {
      throw new DatasetError('INVALID_OPTION', `Expected 1 or ${channels} values for meanValue but received ${param.meanValue.length}`);
    }
    meanValues = Float32Array.from({ length: channels }, (_, c) => param.meanValue![param.meanValue!.length === 1 ? 0 : c]!);
  }
  return { channels, height, width, cropSize, scale: param.scale ?? 1, meanImage, meanValues, mirror: param.mirror ?? false, phase };
}

/** The worker script beside this file (.ts when run from source by a TypeScript loader, .js once built). */
const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './source-worker.ts' : './source-worker.js', import.meta.url);

/**
 * Batches are built by worker threads straight into a ring of SharedArrayBuffer slots (one
 * batch each: data, then labels), so no batch is allocated, copied or transferred between
 * threads. The main thread only plans batches (record order and random choices) and hands
 * slots out and back.
 */
export class LmdbBatchSource implements BatchSource {
  readonly batchShape: [number, number, number, number];
  /** Records in the database. */
  readonly count: number;
  private readonly pending = new Map<number, Pending>();
  private readonly freeSlots: number[];
  private nextBatch = 0;
  private requested = 0;
  private failure: Error | undefined;
  private closed = false;
  /** The slot whose views the caller holds (reuseBuffers), given back on the following next(). */
  private heldSlot: number | undefined;

  private constructor(
    private readonly options: Required<Omit<LmdbBatchSourceOptions, 'transform'>>,
    private readonly spec: TransformSpec,
    private readonly order: EpochOrder,
    private readonly workers: Worker[],
    private readonly slots: BatchSlot[],
  ) {
    this.batchShape = batchShapeOf(options.batchSize, spec);
    this.count = order.count;
    this.freeSlots = slots.map((_, index) => index);
    workers.forEach((worker) => {
      worker.on('message', (reply: WorkerReply) => this.receive(reply));
      worker.on('error', (error: unknown) => this.fail(error as Error));
    });
    this.topUp();
  }

  /** Opens a split's database and starts the workers; the first batches are being built when this resolves. */
  static async open(options: LmdbBatchSourceOptions): Promise<LmdbBatchSource> {
    if (!Number.isInteger(options.batchSize) || options.batchSize <= 0) {
      throw new DatasetError('INVALID_OPTION', `Expected a positive integer for batchSize but received ${options.batchSize}`);
    }
    const geometry = await describeDatabase(options.source).catch((error: unknown) => {
      if (error instanceof DatasetError) throw error;
      throw new DatasetError('DATABASE_INVALID', `Database "${options.source}" cannot be read: ${(error as Error).message}`);
    });
    const phase = options.phase ?? 'TRAIN';
    const spec = await buildSpec(options.transform ?? {}, phase, geometry);
    const workerCount = options.workers ?? Math.min(4, Math.max(1, os.availableParallelism()));
    const resolved = {
      source: options.source, batchSize: options.batchSize, phase, shuffle: options.shuffle ?? false, seed: options.seed ?? 0,
      workers: workerCount, prefetch: Math.max(1, options.prefetch ?? 2 * workerCount), reuseBuffers: options.reuseBuffers ?? false,
    };
    // One more slot than batches ahead when the caller holds one in place.
    const slotCount = resolved.prefetch + (resolved.reuseBuffers ? 1 : 0);
    const shape = batchShapeOf(resolved.batchSize, spec);
    const slots = Array.from({ length: slotCount }, () => createSlot(shape));
    const workers = await Promise.all(Array.from({ length: workerCount }, () => startWorker(options.source, spec, slots)));
    return new LmdbBatchSource(resolved, spec, new EpochOrder(geometry.count, resolved.shuffle, resolved.seed), workers, slots);
  }

  /** The next batch (data N x C x H x W, labels N); normally already built by a worker. */
  async next(): Promise<{ data: Float32Array; labels: Float32Array }> {
    if (this.closed) throw new DatasetError('SOURCE_CLOSED', 'Batch source is closed');
    if (this.failure !== undefined) throw this.failure;
    if (this.heldSlot !== undefined) this.freeSlots.push(this.heldSlot);
    this.heldSlot = undefined;
    const index = this.nextBatch++;
    const entry = this.pending.get(index)!;
    this.topUp();
    try {
      await entry.promise;
    } finally {
      this.pending.delete(index);
    }
    const slot = this.slots[entry.slot]!;
    if (this.options.reuseBuffers) {
      this.heldSlot = entry.slot;
      return { data: slot.data, labels: slot.labels };
    }
    const batch = { data: slot.data.slice(), labels: slot.labels.slice() };
    this.freeSlots.push(entry.slot);
    this.topUp();
    return batch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.pending.values()) entry.promise.catch(() => undefined);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /**
   * Keeps up to `prefetch` batches requested ahead of the consumer, each in a free slot,
   * round-robin over the workers (batch b always goes to worker b mod workers).
   */
  private topUp(): void {
    while (!this.closed && this.requested < this.nextBatch + this.options.prefetch && this.freeSlots.length > 0) {
      const batchIndex = this.requested++;
      const slot = this.freeSlots.shift()!;
      this.pending.set(batchIndex, deferred(slot));
      this.workers[batchIndex % this.workers.length]!.postMessage(this.plan(batchIndex, slot));
    }
  }

  /** Which records and which random choices make batch `batchIndex`, and the slot it is written to. */
  private plan(batchIndex: number, slot: number): BatchRequest {
    const size = this.options.batchSize;
    const records = new Uint32Array(size);
    for (let i = 0; i < size; i++) records[i] = this.order.at(batchIndex * size + i);
    return { type: 'batch', batchIndex, slot, records, choices: packChoices(chooseItems(this.spec, this.options.seed, batchIndex, size)) };
  }

  private receive(reply: WorkerReply): void {
    const entry = this.pending.get(reply.batchIndex);
    if (entry === undefined) return;
    if (reply.type === 'batch') entry.resolve();
    else entry.reject(new DatasetError('DATABASE_INVALID', `Reading ${this.options.source}: ${reply.message}`));
  }

  private fail(error: Error): void {
    this.failure = new DatasetError('DATABASE_INVALID', `Batch worker for ${this.options.source} failed: ${error.message}`, { cause: error });
    for (const entry of this.pending.values()) entry.reject(this.failure);
  }
}

function batchShapeOf(batchSize: number, spec: TransformSpec): [number, number, number, number] {
  const side = (size: number): number => (spec.cropSize > 0 ? spec.cropSize : size);
  return [batchSize, spec.channels, side(spec.height), side(spec.width)];
}

/** A batch's shared memory: N x C x H x W floats, then N labels. */
function createSlot(shape: [number, number, number, number]): BatchSlot {
  const values = shape[0] * shape[1] * shape[2] * shape[3];
  const buffer = new SharedArrayBuffer((values + shape[0]) * Float32Array.BYTES_PER_ELEMENT);
  return { buffer, data: new Float32Array(buffer, 0, values), labels: new Float32Array(buffer, values * Float32Array.BYTES_PER_ELEMENT, shape[0]) };
}

function deferred(slot: number): Pending {
  let resolve!: Pending['resolve'];
  let reject!: Pending['reject'];
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => undefined); // rejections are delivered through next(); never unhandled
  return { slot, promise, resolve, reject };
}

/**
 * Module-loading flags of this process (a TypeScript loader under test) for the worker.
 * Others are left out: workers refuse process-wide flags such as --expose-gc, and
 * --input-type would make the worker refuse its file.
 */
function workerExecArgv(): string[] {
  const kept: string[] = [];
  const loading = /^(--import|--loader|--experimental-loader|--require|-r|--conditions|-C|--enable-source-maps)(=|$)/;
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const match = loading.exec(argv[i]!);
    if (match === null) continue;
    kept.push(argv[i]!);
    if (match[2] === '' && argv[i] !== '--enable-source-maps' && i + 1 < argv.length) kept.push(argv[++i]!);
  }
  return kept;
}

/** Starts one worker and waits until it has opened the database. */
function startWorker(folder: string, spec: TransformSpec, slots: BatchSlot[]): Promise<Worker> {
  const worker = new Worker(workerUrl, { execArgv: workerExecArgv() });
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string; message?: string }): void => {
      worker.off('error', onError);
      if (message.type === 'ready') resolve(worker);
      else {
        void worker.terminate();
        reject(new DatasetError('DATABASE_INVALID', `Database "${folder}" cannot be read: ${message.message}`));
      }
    };
    const onError = (error: Error): void => reject(new DatasetError('DATABASE_INVALID', `Batch worker failed to start: ${error.message}`, { cause: error }));
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.postMessage({ type: 'init', folder, spec, slots: slots.map((slot) => slot.buffer) } satisfies WorkerInit);
  });
}
