// Zod schemas for Caffe's NetParameter, LayerParameter, SolverParameter and the messages inside them, with caffe.proto's names and defaults.
//
// Field names, order and defaults follow BVLC/caffe src/caffe/proto/caffe.proto (1.0). Keys are
// listed in field-number order (the number is in the comment) because that is the order in which
// Caffe prints a message. How presence is modelled:
//   - a field with a default in caffe.proto, whose presence Caffe never tests, gets `.default(x)`;
//     proto2 fields without an explicit default default to 0, false or '' as in protobuf;
//   - a field whose presence Caffe tests (`has_kernel_h()`, `has_normalization()`, a layer's
//     `phase`, a rule's `min_level`, ...) is `.optional()` and stays undefined when absent;
//   - message fields are optional: an absent `weight_filler` is not the same as an empty one
//     everywhere (ScaleParameter.filler, for one), so callers apply the defaults they need;
//   - repeated fields default to [].

import { z } from 'zod';
import { floatSchema } from './schema-fields.js';

const float = floatSchema;
const int = () => z.number().int();
const uint = () => z.number().int().min(0);
const repeated = <T extends z.ZodType>(element: T) => z.array(element).default([]);

/** Enums are written bare in prototxt; the values are listed in caffe.proto's numeric order (0, 1, ...). */
export const Phase = z.enum(['TRAIN', 'TEST']);
export const Engine = z.enum(['DEFAULT', 'CAFFE', 'CUDNN']);
export const VarianceNorm = z.enum(['FAN_IN', 'FAN_OUT', 'AVERAGE']);
export const ShareMode = z.enum(['STRICT', 'PERMISSIVE']);
export const DatabaseBackend = z.enum(['LEVELDB', 'LMDB']);
export const PoolMethod = z.enum(['MAX', 'AVE', 'STOCHASTIC']);
export const RoundMode = z.enum(['CEIL', 'FLOOR']);
export const NormRegion = z.enum(['ACROSS_CHANNELS', 'WITHIN_CHANNEL']);
export const NormalizationMode = z.enum(['FULL', 'VALID', 'BATCH_SIZE', 'NONE']);
export const EltwiseOperation = z.enum(['PROD', 'SUM', 'MAX']);
export const SnapshotFormat = z.enum(['HDF5', 'BINARYPROTO']);
export const SolverMode = z.enum(['CPU', 'GPU']);
export const SolverType = z.enum(['SGD', 'NESTEROV', 'ADAGRAD', 'RMSPROP', 'ADADELTA', 'ADAM']);

export const BlobShapeSchema = z.strictObject({
  dim: repeated(int()), // 1, packed int64
});

export const FillerParameterSchema = z.strictObject({
  type: z.string().default('constant'), // 1
  value: float().default(0), // 2
  min: float().default(0), // 3
  max: float().default(1), // 4
  mean: float().default(0), // 5
  std: float().default(1), // 6
  sparse: int().default(-1), // 7: -1 means no sparsification
  variance_norm: VarianceNorm.default('FAN_IN'), // 8
});

export const NetStateSchema = z.strictObject({
  phase: Phase.default('TEST'), // 1
  level: int().default(0), // 2
  stage: repeated(z.string()), // 3
});

/** include/exclude rules: every field is tested for presence by Net::StateMeetsRule. */
export const NetStateRuleSchema = z.strictObject({
  phase: Phase.optional(), // 1
  min_level: int().optional(), // 2
  max_level: int().optional(), // 3
  stage: repeated(z.string()), // 4
  not_stage: repeated(z.string()), // 5
});

export const ParamSpecSchema = z.strictObject({
  name: z.string().default(''), // 1
  share_mode: ShareMode.optional(), // 2
  lr_mult: float().default(1), // 3
  decay_mult: float().default(1), // 4
});

export const TransformationParameterSchema = z.strictObject({
  scale: float().default(1), // 1
  mirror: z.boolean().default(false), // 2
  crop_size: uint().default(0), // 3
  mean_file: z.string().optional(), // 4
  mean_value: repeated(float()), // 5
  force_color: z.boolean().default(false), // 6
  force_gray: z.boolean().default(false), // 7
});

export const LossParameterSchema = z.strictObject({
  ignore_label: int().optional(), // 1
  normalize: z.boolean().optional(), // 2: legacy, used only when normalization is absent
  normalization: NormalizationMode.optional(), // 3: VALID when absent (and normalize absent)
});

export const AccuracyParameterSchema = z.strictObject({
  top_k: uint().default(1), // 1
  axis: int().default(1), // 2
  ignore_label: int().optional(), // 3
});

export const ConcatParameterSchema = z.strictObject({
  concat_dim: uint().optional(), // 1: legacy alias of axis, wins when present
  axis: int().default(1), // 2
});

export const ConvolutionParameterSchema = z.strictObject({
  num_output: uint().optional(), // 1: required by the layer, checked when it is built
  bias_term: z.boolean().default(true), // 2
  pad: repeated(uint()), // 3: empty = 0
  kernel_size: repeated(uint()), // 4
  group: uint().default(1), // 5
  stride: repeated(uint()), // 6: empty = 1
  weight_filler: FillerParameterSchema.optional(), // 7
  bias_filler: FillerParameterSchema.optional(), // 8
  pad_h: uint().optional(), // 9
  pad_w: uint().optional(), // 10
  kernel_h: uint().optional(), // 11
  kernel_w: uint().optional(), // 12
  stride_h: uint().optional(), // 13
  stride_w: uint().optional(), // 14
  engine: Engine.default('DEFAULT'), // 15
  axis: int().default(1), // 16
  force_nd_im2col: z.boolean().default(false), // 17
  dilation: repeated(uint()), // 18: empty = 1
});

export const DataParameterSchema = z.strictObject({
  source: z.string().optional(), // 1
  scale: float().default(1), // 2: deprecated, use transform_param
  mean_file: z.string().optional(), // 3: deprecated, use transform_param
  batch_size: uint().optional(), // 4
  crop_size: uint().default(0), // 5: deprecated, use transform_param
  mirror: z.boolean().default(false), // 6: deprecated, use transform_param
  rand_skip: uint().default(0), // 7
  backend: DatabaseBackend.default('LEVELDB'), // 8
  force_encoded_color: z.boolean().default(false), // 9
  prefetch: uint().default(4), // 10
});

export const DropoutParameterSchema = z.strictObject({
  dropout_ratio: float().default(0.5), // 1
});

export const DummyDataParameterSchema = z.strictObject({
  data_filler: repeated(FillerParameterSchema), // 1
  num: repeated(uint()), // 2: legacy 4-D form
  channels: repeated(uint()), // 3
  height: repeated(uint()), // 4
  width: repeated(uint()), // 5
  shape: repeated(BlobShapeSchema), // 6
});

export const EltwiseParameterSchema = z.strictObject({
  operation: EltwiseOperation.default('SUM'), // 1
  coeff: repeated(float()), // 2
  stable_prod_grad: z.boolean().default(true), // 3
});

export const ImageDataParameterSchema = z.strictObject({
  source: z.string().optional(), // 1
  scale: float().default(1), // 2
  mean_file: z.string().optional(), // 3
  batch_size: uint().default(1), // 4
  crop_size: uint().default(0), // 5
  mirror: z.boolean().default(false), // 6
  rand_skip: uint().default(0), // 7
  shuffle: z.boolean().default(false), // 8
  new_height: uint().default(0), // 9
  new_width: uint().default(0), // 10
  is_color: z.boolean().default(true), // 11
  root_folder: z.string().default(''), // 12
});

export const InnerProductParameterSchema = z.strictObject({
  num_output: uint().optional(), // 1: required by the layer, checked when it is built
  bias_term: z.boolean().default(true), // 2
  weight_filler: FillerParameterSchema.optional(), // 3
  bias_filler: FillerParameterSchema.optional(), // 4
  axis: int().default(1), // 5
  transpose: z.boolean().default(false), // 6
});

export const InputParameterSchema = z.strictObject({
  shape: repeated(BlobShapeSchema), // 1
});

export const LRNParameterSchema = z.strictObject({
  local_size: uint().default(5), // 1
  alpha: float().default(1), // 2
  beta: float().default(0.75), // 3
  norm_region: NormRegion.default('ACROSS_CHANNELS'), // 4
  k: float().default(1), // 5
  engine: Engine.default('DEFAULT'), // 6
});

export const PoolingParameterSchema = z.strictObject({
  pool: PoolMethod.default('MAX'), // 1
  kernel_size: uint().optional(), // 2
  stride: uint().default(1), // 3
  pad: uint().default(0), // 4
  kernel_h: uint().optional(), // 5
  kernel_w: uint().optional(), // 6
  stride_h: uint().optional(), // 7
  stride_w: uint().optional(), // 8
  pad_h: uint().optional(), // 9
  pad_w: uint().optional(), // 10
  engine: Engine.default('DEFAULT'), // 11
  global_pooling: z.boolean().default(false), // 12
  round_mode: RoundMode.default('CEIL'), // 13
});

export const PowerParameterSchema = z.strictObject({
  power: float().default(1), // 1
  scale: float().default(1), // 2
  shift: float().default(0), // 3
});

export const ReLUParameterSchema = z.strictObject({
  negative_slope: float().default(0), // 1
  engine: Engine.default('DEFAULT'), // 2
});

export const SoftmaxParameterSchema = z.strictObject({
  engine: Engine.default('DEFAULT'), // 1
  axis: int().default(1), // 2
});

export const FlattenParameterSchema = z.strictObject({
  axis: int().default(1), // 1
  end_axis: int().default(-1), // 2
});

export const ScaleParameterSchema = z.strictObject({
  axis: int().default(1), // 1
  num_axes: int().default(1), // 2
  filler: FillerParameterSchema.optional(), // 3: absent = constant 1
  bias_term: z.boolean().default(false), // 4
  bias_filler: FillerParameterSchema.optional(), // 5: absent = constant 0
});

export const LayerParameterSchema = z.strictObject({
  name: z.string().default(''), // 1
  type: z.string(), // 2: required here (Caffe fails later, without a position)
  bottom: repeated(z.string()), // 3
  top: repeated(z.string()), // 4
  loss_weight: repeated(float()), // 5
  param: repeated(ParamSpecSchema), // 6
  // blobs = 7 exist only in the binary .caffemodel; see binary.ts.
  include: repeated(NetStateRuleSchema), // 8
  exclude: repeated(NetStateRuleSchema), // 9
  phase: Phase.optional(), // 10: absent = the net's phase
  propagate_down: repeated(z.boolean()), // 11
  transform_param: TransformationParameterSchema.optional(), // 100
  loss_param: LossParameterSchema.optional(), // 101
  accuracy_param: AccuracyParameterSchema.optional(), // 102
  concat_param: ConcatParameterSchema.optional(), // 104
  convolution_param: ConvolutionParameterSchema.optional(), // 106
  data_param: DataParameterSchema.optional(), // 107
  dropout_param: DropoutParameterSchema.optional(), // 108
  dummy_data_param: DummyDataParameterSchema.optional(), // 109
  eltwise_param: EltwiseParameterSchema.optional(), // 110
  image_data_param: ImageDataParameterSchema.optional(), // 115
  inner_product_param: InnerProductParameterSchema.optional(), // 117
  lrn_param: LRNParameterSchema.optional(), // 118
  pooling_param: PoolingParameterSchema.optional(), // 121
  power_param: PowerParameterSchema.optional(), // 122
  relu_param: ReLUParameterSchema.optional(), // 123
  softmax_param: SoftmaxParameterSchema.optional(), // 125
  flatten_param: FlattenParameterSchema.optional(), // 135
  scale_param: ScaleParameterSchema.optional(), // 142
  input_param: InputParameterSchema.optional(), // 143
});

/**
 * LayerParameter fields that exist in caffe.proto but that cudnet does not read yet, so that an
 * error can say "not supported" instead of "unknown".
 */
export const UNSUPPORTED_LAYER_FIELDS: readonly string[] = [
  'argmax_param', 'batch_norm_param', 'bias_param', 'contrastive_loss_param', 'crop_param', 'elu_param',
  'embed_param', 'exp_param', 'hdf5_data_param', 'hdf5_output_param', 'hinge_loss_param',
  'infogain_loss_param', 'log_param', 'memory_data_param', 'mvn_param', 'parameter_param', 'prelu_param',
  'python_param', 'recurrent_param', 'reduction_param', 'reshape_param', 'sigmoid_param', 'spp_param',
  'slice_param', 'tanh_param', 'threshold_param', 'tile_param', 'window_data_param',
];

export const NetParameterSchema = z.strictObject({
  name: z.string().default(''), // 1
  // layers = 2 is the deprecated V1 form; it is rejected by the text reader (see prototxt.ts).
  input: repeated(z.string()), // 3: legacy, upgraded to an Input layer on read
  input_dim: repeated(int()), // 4: legacy, four per input
  force_backward: z.boolean().default(false), // 5
  state: NetStateSchema.optional(), // 6
  debug_info: z.boolean().default(false), // 7
  input_shape: repeated(BlobShapeSchema), // 8: legacy, one per input
  layer: repeated(LayerParameterSchema), // 100
});

export const SolverParameterSchema = z.strictObject({
  train_net: z.string().optional(), // 1
  test_net: repeated(z.string()), // 2
  test_iter: repeated(int()), // 3
  test_interval: int().default(0), // 4
  base_lr: float().default(0), // 5
  display: int().default(0), // 6
  max_iter: int().default(0), // 7
  lr_policy: z.string().optional(), // 8
  gamma: float().default(0), // 9
  power: float().default(0), // 10
  momentum: float().default(0), // 11
  weight_decay: float().default(0), // 12
  stepsize: int().default(0), // 13
  snapshot: int().default(0), // 14
  snapshot_prefix: z.string().optional(), // 15
  snapshot_diff: z.boolean().default(false), // 16
  solver_mode: SolverMode.default('GPU'), // 17
  device_id: int().default(0), // 18
  test_compute_loss: z.boolean().default(false), // 19
  random_seed: int().default(-1), // 20: negative = seeded from the clock
  train_net_param: NetParameterSchema.optional(), // 21
  test_net_param: repeated(NetParameterSchema), // 22
  debug_info: z.boolean().default(false), // 23
  net: z.string().optional(), // 24
  net_param: NetParameterSchema.optional(), // 25
  train_state: NetStateSchema.optional(), // 26
  test_state: repeated(NetStateSchema), // 27
  snapshot_after_train: z.boolean().default(true), // 28
  regularization_type: z.string().default('L2'), // 29
  solver_type: SolverType.optional(), // 30: legacy, upgraded to `type` on read
  delta: float().default(1e-8), // 31
  test_initialization: z.boolean().default(true), // 32
  average_loss: int().default(1), // 33
  stepvalue: repeated(int()), // 34
  clip_gradients: float().default(-1), // 35: negative = no clipping
  iter_size: int().default(1), // 36
  snapshot_format: SnapshotFormat.default('BINARYPROTO'), // 37
  rms_decay: float().default(0.99), // 38
  momentum2: float().default(0.999), // 39
  type: z.string().default('SGD'), // 40
});

export type BlobShape = z.output<typeof BlobShapeSchema>;
export type FillerParameter = z.output<typeof FillerParameterSchema>;
export type NetState = z.output<typeof NetStateSchema>;
export type NetStateRule = z.output<typeof NetStateRuleSchema>;
export type ParamSpec = z.output<typeof ParamSpecSchema>;
export type TransformationParameter = z.output<typeof TransformationParameterSchema>;
export type LossParameter = z.output<typeof LossParameterSchema>;
export type AccuracyParameter = z.output<typeof AccuracyParameterSchema>;
export type ConcatParameter = z.output<typeof ConcatParameterSchema>;
export type ConvolutionParameter = z.output<typeof ConvolutionParameterSchema>;
export type DataParameter = z.output<typeof DataParameterSchema>;
export type DropoutParameter = z.output<typeof DropoutParameterSchema>;
export type DummyDataParameter = z.output<typeof DummyDataParameterSchema>;
export type EltwiseParameter = z.output<typeof EltwiseParameterSchema>;
export type ImageDataParameter = z.output<typeof ImageDataParameterSchema>;
export type InnerProductParameter = z.output<typeof InnerProductParameterSchema>;
export type InputParameter = z.output<typeof InputParameterSchema>;
export type LRNParameter = z.output<typeof LRNParameterSchema>;
export type PoolingParameter = z.output<typeof PoolingParameterSchema>;
export type PowerParameter = z.output<typeof PowerParameterSchema>;
export type ReLUParameter = z.output<typeof ReLUParameterSchema>;
export type SoftmaxParameter = z.output<typeof SoftmaxParameterSchema>;
export type FlattenParameter = z.output<typeof FlattenParameterSchema>;
export type ScaleParameter = z.output<typeof ScaleParameterSchema>;
export type LayerParameter = z.output<typeof LayerParameterSchema>;
export type NetParameter = z.output<typeof NetParameterSchema>;
export type SolverParameter = z.output<typeof SolverParameterSchema>;
/** What a caller may write when building a message in code: defaulted fields may be left out. */
export type LayerParameterInput = z.input<typeof LayerParameterSchema>;
export type NetParameterInput = z.input<typeof NetParameterSchema>;
export type SolverParameterInput = z.input<typeof SolverParameterSchema>;

/** A message with every default filled in, e.g. `defaultsOf(FillerParameterSchema)` = constant 0. */
export function defaultsOf<T extends z.ZodType>(schema: T): z.output<T> {
  return schema.parse({});
}
