// BatchSource: what the engine's Data layer pulls batches from (N x C x H x W floats and N labels).

export interface BatchSource { readonly batchShape: [number, number, number, number]; next(): Promise<{ data: Float32Array; labels: Float32Array }>; close(): Promise<void>; }
