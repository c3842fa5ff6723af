// index.ts — cudnet's public API: tensors, devices and ops; Caffe formats; the engine and solvers;
// builtin models; datasets; inference. The CLI and the training app use only what is exported here.
export { CudnetError } from './errors.js';
export { packageRoot } from './native.js';
export { Device, device, devices, memory, cudaUnavailableReason, type DeviceName } from './device.js';
export { Tensor, shapeSize, formatShape, MAX_READ_ELEMENTS, type Shape } from './tensor.js';
export * as ops from './ops/index.js';
export * as caffe from './caffe/index.js';
export {
  Net, NetBuilder, Blob, Layer, layerTypes, registerLayer,
  type BlobView, type LearnableParam, type NetLike, type NetOptions, type Phase,
} from './net/index.js';
export {
  Solver, learningRate, LR_POLICIES, SOLVER_TYPES, completeSnapshots, removeSnapshotLeftovers,
  type SolverOptions, type IterationEvent, type TestEvent, type SnapshotEvent,
} from './solver/index.js';
export { models, lenet, alexnet, dataLayerOf, deployFromTrainVal, type ModelOptions, type ModelVariant, type ModelName } from './models/index.js';
export * as data from './data/index.js';
export {
  createDataset, createMnistDataset, loadMnistDigits, mnistSplit, readDatasetManifest,
  LmdbBatchSource, ArrayBatchSource, DatasetError, type BatchSource, type CreateDatasetOptions, type DatasetReport,
} from './data/index.js';
export {
  loadModel, Model, type LoadModelOptions, type Prediction, type ModelInput, type BlobOutput,
} from './inference/index.js';
