// Batcher: gathers concurrent requests into batches of up to batchSize, waiting at most maxWaitMs, one batch on the device at a time.

interface Pending<Item, Result> {
  item: Item;
  arrivedAt: number;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/** Runs one batch; returns one result per item, in order. */
export type BatchRunner<Item, Result> = (items: Item[]) => Promise<Result[]>;

export interface BatcherStats {
  batches: number;
  items: number;
  /** Items waiting for the device now. */
  queued: number;
  /** Largest batch run so far. */
  largestBatch: number;
}

/**
 * Requests wait in a queue. A batch starts when the device is free and either batchSize requests
 * are waiting or the oldest has waited maxWaitMs. While a batch runs, new requests gather (their
 * images are decoded meanwhile), so under load batches fill up and the device never idles.
 */
export class Batcher<Item, Result> {
  private readonly queue: Pending<Item, Result>[] = [];
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closedWith: unknown;
  private counts = { batches: 0, items: 0, largestBatch: 0 };

  constructor(
    readonly batchSize: number,
    readonly maxWaitMs: number,
    private readonly run: BatchRunner<Item, Result>,
  ) {}

  /** Queues one item; resolves with its own result. */
  submit(item: Item): Promise<Result> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, arrivedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  stats(): BatcherStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Rejects every queued request with `error` and resolves once the running batch has finished. */
  async close(error: unknown): Promise<void> {
    this.closedWith = error;
    clearTimeout(this.timer);
    for (const pending of this.queue.splice(0)) pending.reject(error);
    await this.running;
  }

  private schedule(): void {
    if (this.running !== undefined || this.queue.length === 0 || this.closedWith !== undefined) return;
    const waited = performance.now() - this.queue[0]!.arrivedAt;
    if (this.queue.length >= this.batchSize || waited >= this.maxWaitMs) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.running = this.runBatch(this.queue.splice(0, this.batchSize));
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, this.maxWaitMs - waited);
    }
  }

  private async runBatch(batch: Pending<Item, Result>[]): Promise<void> {
    this.counts.batches++;
    this.counts.items += batch.length;
    this.counts.largestBatch = Math.max(this.counts.largestBatch, batch.length);
    try {
      const results = await this.run(batch.map((pending) => pending.item));
      batch.forEach((pending, i) => pending.resolve(results[i]!));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.running = undefined;
      this.schedule();
    }
  }
}
