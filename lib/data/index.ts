// lib/data's public surface: dataset import, MNIST, the batch sources for the Data layer, and the Caffe mean/record formats.
export { createDataset, type CreateDatasetHooks, type DatasetReport } from './create.js';
export type { CreateDatasetOptions, ResolvedOptions, Encoding } from './options.js';
export { DatasetError, type DatasetErrorCode } from './errors.js';
export type { ImportProgress, ImportPhase, ProgressListener } from './progress.js';
export type { SkippedFile, SplitName } from './plan.js';
export { readDatasetManifest, MANIFEST_FILE, MANIFEST_VERSION, type DatasetManifest, type SplitSummary } from './manifest.js';
export { planResize, RESIZE_MODES, type ResizeMode, type ResizePlan } from './resize.js';
export { runDatasetCreateCli, DATASET_CREATE_USAGE, runDatasetExportCaffeCli, DATASET_EXPORT_CAFFE_USAGE, runDatasetImportCaffeCli, DATASET_IMPORT_CAFFE_USAGE } from './cli.js';
export { exportCaffeLmdb, copyToLmdb09, copyFromLmdb09, type CaffeExport, type CaffeExportOptions } from './caffe-lmdb.js';
export { createMnistDataset, loadMnistDigits, mnistSplit, type MnistDigits } from './mnist.js';
export type { BatchSource } from './batch-source.js';
export { LmdbBatchSource, type LmdbBatchSourceOptions } from './source.js';
export { ArrayBatchSource, type ArrayBatchSourceOptions } from './array-source.js';
export { transformFromCaffe, type TransformParam, type Phase } from './transform.js';
export { readMeanBinaryproto, writeMeanBinaryproto, type MeanBlob } from './mean.js';
export { openRecords } from './store.js';
export { recordKey } from './records.js';
export { previewResize, previewFolder, firstImageIn, type PreviewOptions } from './preview.js';
