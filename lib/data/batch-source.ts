// batch-source.ts — what a Data layer reads batches from: an LMDB split, an in-memory array, ...
export interface BatchSource {
  /** [N, C, H, W] of every batch's data (after cropping). */
  readonly batchShape: [number, number, number, number];
  /** The next batch: data N*C*H*W values (transformed), labels N values. */
  next(): Promise<{ data: Float32Array; labels: Float32Array }>;
  close(): Promise<void>;
}
