// The wire schema of Caffe's binary files: field numbers of the caffe.proto messages that .caffemodel, .solverstate and .binaryproto use.
//
// Every number below is from BVLC/caffe src/caffe/proto/caffe.proto (1.0), checked against the
// file's text: `message BlobShape`, `message BlobProto`, `message NetParameter`,
// `message LayerParameter`, `message V1LayerParameter`, `message V0LayerParameter`,
// `message SolverState`. Only the fields cudnet reads or writes are listed; a reader skips the
// others by wire type, so full LayerParameters written by Caffe (convolution_param, ...) load.

/** Protobuf wire types (encoding.md in the protobuf docs). */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LENGTH_DELIMITED: 2,
  FIXED32: 5,
} as const;

/** message BlobShape { repeated int64 dim = 1 [packed = true]; } */
export const BlobShapeField = {
  dim: 1,
} as const;

/**
 * message BlobProto: `shape` = 7; `data` = 5 and `diff` = 6 (repeated float, packed);
 * `double_data` = 8 and `double_diff` = 9 (repeated double, packed); legacy 4-D dims
 * `num` = 1, `channels` = 2, `height` = 3, `width` = 4 (int32 in old files, int64 since 1.0:
 * both are varints on the wire).
 */
export const BlobProtoField = {
  num: 1,
  channels: 2,
  height: 3,
  width: 4,
  data: 5,
  diff: 6,
  shape: 7,
  doubleData: 8,
  doubleDiff: 9,
} as const;

/**
 * message NetParameter: `name` = 1, V1 `layers` = 2, `input` = 3, `input_dim` = 4,
 * `force_backward` = 5, `state` = 6, `debug_info` = 7, `input_shape` = 8, `layer` = 100
 * ("ID 100 so layers are printed last").
 */
export const NetParameterField = {
  name: 1,
  layers: 2,
  input: 3,
  inputDim: 4,
  forceBackward: 5,
  state: 6,
  debugInfo: 7,
  inputShape: 8,
  layer: 100,
} as const;

/**
 * message LayerParameter: `name` = 1, `type` = 2, `bottom` = 3, `top` = 4, `loss_weight` = 5,
 * `param` = 6, `blobs` = 7, `include` = 8, `exclude` = 9, `phase` = 10, `propagate_down` = 11.
 */
export const LayerParameterField = {
  name: 1,
  type: 2,
  bottom: 3,
  top: 4,
  lossWeight: 5,
  param: 6,
  blobs: 7,
  include: 8,
  exclude: 9,
  phase: 10,
  propagateDown: 11,
} as const;

/**
 * message V1LayerParameter (the `layers` of old files such as bvlc_alexnet.caffemodel):
 * `layer` = 1 (a nested V0LayerParameter), `bottom` = 2, `top` = 3, `name` = 4,
 * `type` = 5 (enum LayerType), `blobs` = 6.
 */
export const V1LayerParameterField = {
  v0Layer: 1,
  bottom: 2,
  top: 3,
  name: 4,
  type: 5,
  blobs: 6,
} as const;

/** message V0LayerParameter: `name` = 1, `type` = 2 (a lowercase string), `blobs` = 50. */
export const V0LayerParameterField = {
  name: 1,
  type: 2,
  blobs: 50,
} as const;

/**
 * message SolverState: `iter` = 1, `learned_net` = 2 (the .caffemodel file name),
 * `history` = 3 (BlobProto, one per learnable parameter), `current_step` = 4.
 */
export const SolverStateField = {
  iter: 1,
  learnedNet: 2,
  history: 3,
  currentStep: 4,
} as const;

/**
 * V1LayerParameter.LayerType numbers → the layer type strings of the current format, as
 * Caffe's UpgradeV1LayerType (src/caffe/util/upgrade_proto.cpp) maps them.
 */
export const V1_LAYER_TYPES: Readonly<Record<number, string>> = {
  0: '', // NONE
  1: 'Accuracy',
  2: 'BNLL',
  3: 'Concat',
  4: 'Convolution',
  5: 'Data',
  6: 'Dropout',
  7: 'EuclideanLoss',
  8: 'Flatten',
  9: 'HDF5Data',
  10: 'HDF5Output',
  11: 'Im2col',
  12: 'ImageData',
  13: 'InfogainLoss',
  14: 'InnerProduct',
  15: 'LRN',
  16: 'MultinomialLogisticLoss',
  17: 'Pooling',
  18: 'ReLU',
  19: 'Sigmoid',
  20: 'Softmax',
  21: 'SoftmaxWithLoss',
  22: 'Split',
  23: 'TanH',
  24: 'WindowData',
  25: 'Eltwise',
  26: 'Power',
  27: 'SigmoidCrossEntropyLoss',
  28: 'HingeLoss',
  29: 'MemoryData',
  30: 'ArgMax',
  31: 'Threshold',
  32: 'DummyData',
  33: 'Slice',
  34: 'MVN',
  35: 'AbsVal',
  36: 'Silence',
  37: 'ContrastiveLoss',
  38: 'Exp',
  39: 'Deconvolution',
};

/** V0 layer type strings → current type strings (UpgradeV0LayerType, then UpgradeV1LayerType). */
export const V0_LAYER_TYPES: Readonly<Record<string, string>> = {
  accuracy: 'Accuracy',
  bnll: 'BNLL',
  concat: 'Concat',
  conv: 'Convolution',
  data: 'Data',
  dropout: 'Dropout',
  euclidean_loss: 'EuclideanLoss',
  flatten: 'Flatten',
  hdf5_data: 'HDF5Data',
  hdf5_output: 'HDF5Output',
  im2col: 'Im2col',
  images: 'ImageData',
  infogain_loss: 'InfogainLoss',
  innerproduct: 'InnerProduct',
  lrn: 'LRN',
  multinomial_logistic_loss: 'MultinomialLogisticLoss',
  pool: 'Pooling',
  relu: 'ReLU',
  sigmoid: 'Sigmoid',
  softmax: 'Softmax',
  softmax_loss: 'SoftmaxWithLoss',
  split: 'Split',
  tanh: 'TanH',
  window_data: 'WindowData',
};
