// index.ts — the engine's public surface: Net, NetBuilder, Blob, Layer and its registry, fillers, Random, the contract types.
export { Net, DEFAULT_SEED } from './net.js';
export {
  NetBuilder, type CommonOptions, type ConvolutionOptions, type FillerOptions, type InnerProductOptions, type LossOptions,
  type LrnOptions, type ParamOptions, type PoolingOptions, type RuleOptions, type ScaleOptions,
} from './builder.js';
export { Blob } from './blob.js';
export { Layer, canonicalAxis, countOf, type BlobCounts, type LayerClass, type LayerContext } from './layer.js';
export { createLayer, layerTypes, registerLayer } from './registry.js';
export { FILLER_TYPES, fanSize, fillTensor, fillValues, resolveFiller, type FillerSpec } from './fillers.js';
export { Random } from './random.js';
export { stateMeetsRule, layerIncluded, type NetStateOf } from './filter.js';
export { insertSplits, splitBlobName, splitLayerName } from './splits.js';
export type { BlobView, LearnableParam, NetLike, NetOptions, Phase } from './contract.js';
