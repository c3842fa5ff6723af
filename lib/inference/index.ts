// lib/inference's public surface: loading a trained model and classifying images inside a Node service.
export { loadModel, Model, topPredictions, type LoadModelOptions, type Prediction, type ModelInput, type BlobOutput } from './model.js';
export { readModelFiles, parseLabels, type ModelSource, type ExplicitModelSource, type FileSource, type ModelFiles } from './model-files.js';
export { type Preprocessing, type PreprocessingOptions, type MeanMode } from './preprocessing.js';
export { Batcher, type BatcherStats, type BatchRunner } from './batcher.js';
export { type InferenceErrorCode } from './errors.js';
