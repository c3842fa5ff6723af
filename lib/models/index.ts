// models — builders for the builtin networks (Caffe's MNIST LeNet and bvlc_alexnet) as NetParameters, and the shipped prototxt files.
import { readFileSync } from 'node:fs';
import {
  NetParameterSchema, builtinModelPath, type BuiltinModelName, type LayerParameterInput, type NetParameter,
} from '../caffe/index.js';
import { CudnetError, closestName } from '../errors.js';

/** 'train_val': Data (or Input) layers, loss and accuracy; 'deploy': an Input layer and a Softmax "prob" output. */
export type ModelVariant = 'train_val' | 'deploy';

export interface ModelOptions {
  numClasses?: number;
  /** [C, H, W] of one image as the network sees it (after cropping). */
  inputShape?: readonly [number, number, number];
  /** Training batch (train_val) or the Input batch (deploy). */
  batchSize?: number;
  /** The TEST-phase Data layer's batch. */
  testBatchSize?: number;
  variant?: ModelVariant;
  /**
   * How train_val receives its images: 'data' = Data layers (one per phase, fed from LMDB or from
   * the sources given to the Net), 'input' = one Input layer with tops data [N, C, H, W] and label [N].
   */
  input?: 'data' | 'input';
  /** The Data layers' LMDB sources (Caffe's example paths by default). */
  trainSource?: string;
  testSource?: string;
}

export interface LenetOptions extends ModelOptions {
  /** transform_param scale: 1/256 turns 0..255 bytes into [0, 1). */
  scale?: number;
}

export interface AlexnetOptions extends ModelOptions {
  /** The mean image subtracted by the Data layers. */
  meanFile?: string;
}

type Layer = LayerParameterInput;
type Filler = { type: string; std?: number; value?: number };

const LENET_DEFAULTS = {
  numClasses: 10, inputShape: [1, 28, 28] as const, batchSize: 64, testBatchSize: 100, scale: 1 / 256,
  trainSource: 'examples/mnist/mnist_train_lmdb', testSource: 'examples/mnist/mnist_test_lmdb',
};

const ALEXNET_DEFAULTS = {
  numClasses: 1000, inputShape: [3, 227, 227] as const, batchSize: 256, deployBatchSize: 10, testBatchSize: 50,
  trainSource: 'examples/imagenet/ilsvrc12_train_lmdb', testSource: 'examples/imagenet/ilsvrc12_val_lmdb',
  meanFile: 'data/ilsvrc12/imagenet_mean.binaryproto',
};

/** Caffe's LeNet (examples/mnist/lenet_train_test.prototxt, or lenet.prototxt for deploy). */
export function lenet(options: LenetOptions = {}): NetParameter {
  checkOptions('lenet', options, ['scale']);
  const settings = { ...LENET_DEFAULTS, variant: 'train_val' as ModelVariant, input: 'data' as 'data' | 'input', ...options };
  const xavier = { type: 'xavier' };
  const constant = { type: 'constant' };
  const learnable = [{ lr_mult: 1 }, { lr_mult: 2 }];
  const body: Layer[] = [
    convolution('conv1', 'data', { num_output: 20, kernel_size: [5], stride: [1] }, learnable, xavier, constant),
    maxPool('pool1', 'conv1', 2, 2),
    convolution('conv2', 'pool1', { num_output: 50, kernel_size: [5], stride: [1] }, learnable, xavier, constant),
    maxPool('pool2', 'conv2', 2, 2),
    innerProduct('ip1', 'pool2', 500, learnable, xavier, constant),
    relu('relu1', 'ip1'),
    innerProduct('ip2', 'ip1', settings.numClasses, learnable, xavier, constant),
  ];
  const transform = { scale: settings.scale };
  return assemble('LeNet', settings, transform, body, 'ip2', true);
}

/** Caffe's bvlc_alexnet (models/bvlc_alexnet/train_val.prototxt, or deploy.prototxt). */
export function alexnet(options: AlexnetOptions = {}): NetParameter {
  checkOptions('alexnet', options, ['meanFile']);
  const deploy = options.variant === 'deploy';
  const settings = {
    ...ALEXNET_DEFAULTS, variant: 'train_val' as ModelVariant, input: 'data' as 'data' | 'input',
    ...(deploy ? { batchSize: ALEXNET_DEFAULTS.deployBatchSize } : {}), ...options,
  };
  const learnable = [{ lr_mult: 1, decay_mult: 1 }, { lr_mult: 2, decay_mult: 0 }];
  // Caffe's deploy.prototxt carries no fillers: its weights always come from a .caffemodel.
  const filler = (std: number): Filler | undefined => (deploy ? undefined : { type: 'gaussian', std });
  const bias = (value: number): Filler | undefined => (deploy ? undefined : { type: 'constant', value });
  const conv = (name: string, bottom: string, shape: Record<string, unknown>, biasValue: number) =>
    convolution(name, bottom, shape, learnable, filler(0.01), bias(biasValue));
  const fc = (name: string, bottom: string, outputs: number, std: number, biasValue: number) =>
    innerProduct(name, bottom, outputs, learnable, filler(std), bias(biasValue));
  const body: Layer[] = [
    conv('conv1', 'data', { num_output: 96, kernel_size: [11], stride: [4] }, 0),
    relu('relu1', 'conv1'), lrn('norm1', 'conv1'), maxPool('pool1', 'norm1', 3, 2),
    conv('conv2', 'pool1', { num_output: 256, pad: [2], kernel_size: [5], group: 2 }, 0.1),
    relu('relu2', 'conv2'), lrn('norm2', 'conv2'), maxPool('pool2', 'norm2', 3, 2),
    conv('conv3', 'pool2', { num_output: 384, pad: [1], kernel_size: [3] }, 0), relu('relu3', 'conv3'),
    conv('conv4', 'conv3', { num_output: 384, pad: [1], kernel_size: [3], group: 2 }, 0.1), relu('relu4', 'conv4'),
    conv('conv5', 'conv4', { num_output: 256, pad: [1], kernel_size: [3], group: 2 }, 0.1), relu('relu5', 'conv5'),
    maxPool('pool5', 'conv5', 3, 2),
    fc('fc6', 'pool5', 4096, 0.005, 0.1), relu('relu6', 'fc6'), dropout('drop6', 'fc6'),
    fc('fc7', 'fc6', 4096, 0.005, 0.1), relu('relu7', 'fc7'), dropout('drop7', 'fc7'),
    fc('fc8', 'fc7', settings.numClasses, 0.01, 0),
  ];
  const transform = (mirror: boolean) => ({ mirror, crop_size: settings.inputShape[1], mean_file: settings.meanFile });
  return assemble('AlexNet', settings, transform, body, 'fc8', false);
}

type Settings = Required<Omit<ModelOptions, 'inputShape'>> & { inputShape: readonly [number, number, number] };

/**
 * Puts the inputs in front of the body and the outputs behind it. `transform` is the Data layers'
 * transform_param (a function of the phase's mirror flag for AlexNet, a fixed one for LeNet).
 */
function assemble(
  name: string, settings: Settings, transform: object | ((mirror: boolean) => object), body: Layer[],
  scores: string, dataNamedAfterDataset: boolean,
): NetParameter {
  const transformFor = (mirror: boolean) => (typeof transform === 'function' ? transform(mirror) : transform);
  let layers: Layer[];
  if (settings.variant === 'deploy') {
    layers = [inputLayer([[settings.batchSize, ...settings.inputShape]], ['data']), ...body,
      { name: 'prob', type: 'Softmax', bottom: [scores], top: ['prob'] }];
  } else {
    const dataName = dataNamedAfterDataset ? 'mnist' : 'data';
    const inputs = settings.input === 'input'
      ? [inputLayer([[settings.batchSize, ...settings.inputShape], [settings.batchSize]], ['data', 'label'])]
      : [
        dataLayer(dataName, 'TRAIN', transformFor(true), settings.trainSource, settings.batchSize),
        dataLayer(dataName, 'TEST', transformFor(false), settings.testSource, settings.testBatchSize),
      ];
    layers = [...inputs, ...body,
      { name: 'accuracy', type: 'Accuracy', bottom: [scores, 'label'], top: ['accuracy'], include: [{ phase: 'TEST' }] },
      { name: 'loss', type: 'SoftmaxWithLoss', bottom: [scores, 'label'], top: ['loss'] }];
  }
  return NetParameterSchema.parse({ name, layer: layers });
}

function dataLayer(name: string, phase: 'TRAIN' | 'TEST', transform: object, source: string, batchSize: number): Layer {
  return {
    name, type: 'Data', top: ['data', 'label'], include: [{ phase }], transform_param: transform,
    data_param: { source, batch_size: batchSize, backend: 'LMDB' },
  };
}

function inputLayer(shapes: number[][], tops: string[]): Layer {
  return { name: 'data', type: 'Input', top: tops, input_param: { shape: shapes.map((dim) => ({ dim })) } };
}

function convolution(
  name: string, bottom: string, shape: Record<string, unknown>, param: object[], weight?: Filler, bias?: Filler,
): Layer {
  const fillers = { ...(weight ? { weight_filler: weight } : {}), ...(bias ? { bias_filler: bias } : {}) };
  return { name, type: 'Convolution', bottom: [bottom], top: [name], param, convolution_param: { ...shape, ...fillers } };
}

function innerProduct(name: string, bottom: string, outputs: number, param: object[], weight?: Filler, bias?: Filler): Layer {
  const fillers = { ...(weight ? { weight_filler: weight } : {}), ...(bias ? { bias_filler: bias } : {}) };
  return { name, type: 'InnerProduct', bottom: [bottom], top: [name], param, inner_product_param: { num_output: outputs, ...fillers } };
}

function maxPool(name: string, bottom: string, kernel: number, stride: number): Layer {
  return { name, type: 'Pooling', bottom: [bottom], top: [name], pooling_param: { pool: 'MAX', kernel_size: kernel, stride } };
}

/** In place, as Caffe's nets write it (top == bottom). */
function relu(name: string, blob: string): Layer {
  return { name, type: 'ReLU', bottom: [blob], top: [blob] };
}

function lrn(name: string, bottom: string): Layer {
  return { name, type: 'LRN', bottom: [bottom], top: [name], lrn_param: { local_size: 5, alpha: 0.0001, beta: 0.75 } };
}

function dropout(name: string, blob: string): Layer {
  return { name, type: 'Dropout', bottom: [blob], top: [blob], dropout_param: { dropout_ratio: 0.5 } };
}

const COMMON_OPTIONS = [
  'numClasses', 'inputShape', 'batchSize', 'testBatchSize', 'variant', 'input', 'trainSource', 'testSource',
];

/** Rejects misspelled options ("did you mean") and values that cannot make a network. */
function checkOptions(model: string, options: object, extra: string[]): void {
  const known = [...COMMON_OPTIONS, ...extra];
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = closestName(key, known);
    throw new CudnetError('INVALID_ARGUMENT', `${model}: unknown option '${key}'${suggestion ? `; did you mean '${suggestion}'?` : ''}`);
  }
  const values = options as ModelOptions;
  for (const key of ['numClasses', 'batchSize', 'testBatchSize'] as const) {
    const value = values[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0))
      throw new CudnetError('INVALID_ARGUMENT', `${model}: Expected a positive integer for ${key} but received ${String(value)}`);
  }
  const shape = values.inputShape;
  if (shape !== undefined && !(shape.length === 3 && shape.every((dim) => Number.isInteger(dim) && dim > 0)))
    throw new CudnetError('INVALID_ARGUMENT', `${model}: Expected [C, H, W] positive integers for inputShape but received [${String(shape)}]`);
  if (values.variant !== undefined && values.variant !== 'train_val' && values.variant !== 'deploy')
    throw new CudnetError('INVALID_ARGUMENT', `${model}: Expected 'train_val' or 'deploy' for variant but received ${String(values.variant)}`);
}

export const MODEL_NAMES = ['lenet', 'alexnet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The shipped prototxt text of a builtin model: models/<name>_<variant>.prototxt. */
export function prototxt(name: ModelName, variant: ModelVariant | 'solver' = 'train_val'): string {
  if (!(MODEL_NAMES as readonly string[]).includes(name)) {
    const suggestion = closestName(String(name), MODEL_NAMES);
    throw new CudnetError('INVALID_ARGUMENT',
      `Unknown builtin model '${String(name)}'${suggestion ? `; did you mean '${suggestion}'?` : ''} (known: ${MODEL_NAMES.join(', ')})`);
  }
  return readFileSync(builtinModelPath(`${name}_${variant}.prototxt` as BuiltinModelName), 'utf8');
}

/** Builds a builtin model by name. */
export function model(name: ModelName, options: ModelOptions = {}): NetParameter {
  return name === 'alexnet' ? alexnet(options) : lenet(options);
}

export const models = { lenet, alexnet, prototxt, model, names: MODEL_NAMES };
export { dataLayerOf, deployFromTrainVal } from './derive.js';
