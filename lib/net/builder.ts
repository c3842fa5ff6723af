// builder.ts — NetBuilder: writes networks in TypeScript, producing the same NetParameter the prototxt parser does.
import {
  LayerParameterSchema, NetParameterSchema,
  type LayerParameter, type LayerParameterInput, type NetParameter, type NetStateRule,
} from '../caffe/index.js';
import type { Phase } from './contract.js';

/** A filler in camelCase (Caffe's FillerParameter); absent fields keep caffe.proto's defaults. */
export interface FillerOptions {
  type: 'constant' | 'uniform' | 'gaussian' | 'xavier' | 'msra' | 'bilinear' | 'positive_unitball';
  value?: number;
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  sparse?: number;
  varianceNorm?: 'FAN_IN' | 'FAN_OUT' | 'AVERAGE';
}

/** A parameter blob's ParamSpec: learning-rate and decay multipliers, and a name to share it by. */
export interface ParamOptions {
  lrMult?: number;
  decayMult?: number;
  name?: string;
  shareMode?: 'STRICT' | 'PERMISSIVE';
}

/** An include/exclude rule (Caffe's NetStateRule). */
export interface RuleOptions {
  phase?: Phase;
  minLevel?: number;
  maxLevel?: number;
  stage?: string[];
  notStage?: string[];
}

/** Options every layer takes. `top` defaults to the layer's name (to the bottom for in-place layers). */
export interface CommonOptions {
  top?: string | string[];
  params?: ParamOptions[];
  lossWeight?: number | number[];
  include?: RuleOptions | RuleOptions[];
  exclude?: RuleOptions | RuleOptions[];
  propagateDown?: boolean[];
  phase?: Phase;
}

export interface ConvolutionOptions extends CommonOptions {
  numOutput: number;
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  pad?: number | [number, number];
  dilation?: number;
  group?: number;
  biasTerm?: boolean;
  weightFiller?: FillerOptions;
  biasFiller?: FillerOptions;
}

export interface InnerProductOptions extends CommonOptions {
  numOutput: number;
  axis?: number;
  transpose?: boolean;
  biasTerm?: boolean;
  weightFiller?: FillerOptions;
  biasFiller?: FillerOptions;
}

export interface PoolingOptions extends CommonOptions {
  pool?: 'MAX' | 'AVE';
  kernelSize?: number | [number, number];
  stride?: number | [number, number];
  pad?: number | [number, number];
  globalPooling?: boolean;
}

export interface LrnOptions extends CommonOptions {
  localSize?: number;
  alpha?: number;
  beta?: number;
  k?: number;
  normRegion?: 'ACROSS_CHANNELS' | 'WITHIN_CHANNEL';
}

export interface LossOptions extends CommonOptions {
  ignoreLabel?: number;
  normalization?: 'FULL' | 'VALID' | 'BATCH_SIZE' | 'NONE';
  axis?: number;
}

export interface ScaleOptions extends CommonOptions {
  axis?: number;
  numAxes?: number;
  filler?: FillerOptions;
  biasTerm?: boolean;
  biasFiller?: FillerOptions;
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Drops the undefined fields, so the printed prototxt holds only what was given. */
function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function filler(options: FillerOptions | undefined): Record<string, unknown> | undefined {
  if (!options) return undefined;
  const { varianceNorm, ...rest } = options;
  return defined({ ...rest, variance_norm: varianceNorm });
}

function rule(options: RuleOptions): Partial<NetStateRule> {
  return defined({
    phase: options.phase, min_level: options.minLevel, max_level: options.maxLevel,
    stage: options.stage, not_stage: options.notStage,
  }) as Partial<NetStateRule>;
}

/** A square size as a repeated field ([k]) or a pair as the _h/_w fields. */
function sizeFields(name: string, value: number | [number, number] | undefined, repeated: boolean): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value === 'number') return { [name]: repeated ? [value] : value };
  const base = name.replace(/_size$/, '');
  return { [`${base}_h`]: value[0], [`${base}_w`]: value[1] };
}

/**
 * Builds a NetParameter layer by layer, e.g.
 *   new NetBuilder('LeNet').input('data', [64, 1, 28, 28])
 *     .convolution('conv1', 'data', { numOutput: 20, kernelSize: 5, weightFiller: { type: 'xavier' } })
 *     .pooling('pool1', 'conv1', { kernelSize: 2, stride: 2 }).innerProduct('ip1', 'pool1', { numOutput: 10 })
 *     .toParameter()
 * Each method adds one layer; its top is the layer's name unless `top` says otherwise.
 */
export class NetBuilder {
  private readonly layers: LayerParameter[] = [];
  private forceBackward = false;

  constructor(readonly name = '') {}

  /** Any layer, as a LayerParameter (snake_case, as in prototxt). */
  layer(parameter: LayerParameterInput): this {
    this.layers.push(LayerParameterSchema.parse(parameter));
    return this;
  }

  /** Sets the net's force_backward (every layer computes its bottom diffs). */
  setForceBackward(value = true): this {
    this.forceBackward = value;
    return this;
  }

  private add(type: string, name: string, bottoms: string | string[], options: CommonOptions,
    typed: Record<string, unknown> = {}, inPlace = false): this {
    const bottom = list(bottoms);
    const top = options.top !== undefined ? list(options.top) : inPlace ? [bottom[0]] : [name];
    return this.layer({
      name, type, bottom, top,
      ...defined({
        loss_weight: options.lossWeight === undefined ? undefined : list(options.lossWeight),
        param: options.params?.map((param) => defined({
          name: param.name, lr_mult: param.lrMult, decay_mult: param.decayMult, share_mode: param.shareMode,
        })),
        include: options.include === undefined ? undefined : list(options.include).map(rule),
        exclude: options.exclude === undefined ? undefined : list(options.exclude).map(rule),
        propagate_down: options.propagateDown,
        phase: options.phase,
      }),
      ...typed,
    } as LayerParameterInput);
  }

  /** An Input layer with one top of `shape` (or several tops with a shape each). */
  input(name: string, shape: number[] | number[][], options: CommonOptions = {}): this {
    const shapes = Array.isArray(shape[0]) ? (shape as number[][]) : [shape as number[]];
    return this.add('Input', name, [], options, { input_param: { shape: shapes.map((dim) => ({ dim })) } });
  }

  /** A Data layer (tops data and label by default); its BatchSource comes from NetOptions.sources. */
  data(name: string, options: CommonOptions & { batchSize?: number; source?: string } = {}): this {
    return this.add('Data', name, [], { top: ['data', 'label'], ...options },
      { data_param: defined({ batch_size: options.batchSize, source: options.source }) });
  }

  /** A DummyData layer: one top per shape, each with its filler (constant 0 when absent). */
  dummyData(name: string, shapes: number[][], options: CommonOptions & { fillers?: FillerOptions[] } = {}): this {
    return this.add('DummyData', name, [], options, {
      dummy_data_param: { shape: shapes.map((dim) => ({ dim })), data_filler: (options.fillers ?? []).map(filler) },
    });
  }

  convolution(name: string, bottom: string, options: ConvolutionOptions): this {
    return this.add('Convolution', name, bottom, options, {
      convolution_param: defined({
        num_output: options.numOutput, bias_term: options.biasTerm, group: options.group,
        ...sizeFields('kernel_size', options.kernelSize, true), ...sizeFields('stride', options.stride, true),
        ...sizeFields('pad', options.pad, true), dilation: options.dilation === undefined ? undefined : [options.dilation],
        weight_filler: filler(options.weightFiller), bias_filler: filler(options.biasFiller),
      }),
    });
  }

  innerProduct(name: string, bottom: string, options: InnerProductOptions): this {
    return this.add('InnerProduct', name, bottom, options, {
      inner_product_param: defined({
        num_output: options.numOutput, bias_term: options.biasTerm, axis: options.axis, transpose: options.transpose,
        weight_filler: filler(options.weightFiller), bias_filler: filler(options.biasFiller),
      }),
    });
  }

  pooling(name: string, bottom: string, options: PoolingOptions): this {
    return this.add('Pooling', name, bottom, options, {
      pooling_param: defined({
        pool: options.pool, global_pooling: options.globalPooling,
        ...sizeFields('kernel_size', options.kernelSize, false), ...sizeFields('stride', options.stride, false),
        ...sizeFields('pad', options.pad, false),
      }),
    });
  }

  /** ReLU, in place on its bottom unless `top` is given. */
  relu(name: string, bottom: string, options: CommonOptions & { negativeSlope?: number } = {}): this {
    const relu = defined({ negative_slope: options.negativeSlope });
    return this.add('ReLU', name, bottom, options, Object.keys(relu).length ? { relu_param: relu } : {}, true);
  }

  /** Dropout, in place on its bottom unless `top` is given. */
  dropout(name: string, bottom: string, options: CommonOptions & { ratio?: number } = {}): this {
    return this.add('Dropout', name, bottom, options,
      options.ratio === undefined ? {} : { dropout_param: { dropout_ratio: options.ratio } }, true);
  }

  lrn(name: string, bottom: string, options: LrnOptions = {}): this {
    return this.add('LRN', name, bottom, options, {
      lrn_param: defined({
        local_size: options.localSize, alpha: options.alpha, beta: options.beta, k: options.k, norm_region: options.normRegion,
      }),
    });
  }

  softmax(name: string, bottom: string, options: CommonOptions & { axis?: number } = {}): this {
    return this.add('Softmax', name, bottom, options, options.axis === undefined ? {} : { softmax_param: { axis: options.axis } });
  }

  /** SoftmaxWithLoss over [scores, labels]. */
  softmaxWithLoss(name: string, bottoms: [string, string], options: LossOptions = {}): this {
    const loss = defined({ ignore_label: options.ignoreLabel, normalization: options.normalization });
    return this.add('SoftmaxWithLoss', name, bottoms, options, defined({
      loss_param: Object.keys(loss).length ? loss : undefined,
      softmax_param: options.axis === undefined ? undefined : { axis: options.axis },
    }));
  }

  /** Accuracy over [scores, labels]. */
  accuracy(name: string, bottoms: [string, string], options: CommonOptions & { topK?: number; ignoreLabel?: number } = {}): this {
    const accuracy = defined({ top_k: options.topK, ignore_label: options.ignoreLabel });
    return this.add('Accuracy', name, bottoms, options, Object.keys(accuracy).length ? { accuracy_param: accuracy } : {});
  }

  concat(name: string, bottoms: string[], options: CommonOptions & { axis?: number } = {}): this {
    return this.add('Concat', name, bottoms, options, options.axis === undefined ? {} : { concat_param: { axis: options.axis } });
  }

  flatten(name: string, bottom: string, options: CommonOptions & { axis?: number; endAxis?: number } = {}): this {
    const flatten = defined({ axis: options.axis, end_axis: options.endAxis });
    return this.add('Flatten', name, bottom, options, Object.keys(flatten).length ? { flatten_param: flatten } : {});
  }

  eltwise(name: string, bottoms: string[], options: CommonOptions & { operation?: 'SUM' | 'PROD' | 'MAX'; coeff?: number[] } = {}): this {
    const eltwise = defined({ operation: options.operation, coeff: options.coeff });
    return this.add('Eltwise', name, bottoms, options, Object.keys(eltwise).length ? { eltwise_param: eltwise } : {});
  }

  power(name: string, bottom: string, options: CommonOptions & { power?: number; scale?: number; shift?: number } = {}): this {
    return this.add('Power', name, bottom, options, {
      power_param: defined({ power: options.power, scale: options.scale, shift: options.shift }),
    });
  }

  /** Scale by a learned per-channel factor (one bottom) or by a second bottom. */
  scale(name: string, bottoms: string | string[], options: ScaleOptions = {}): this {
    const scale = defined({
      axis: options.axis, num_axes: options.numAxes, filler: filler(options.filler),
      bias_term: options.biasTerm, bias_filler: filler(options.biasFiller),
    });
    return this.add('Scale', name, bottoms, options, Object.keys(scale).length ? { scale_param: scale } : {});
  }

  silence(name: string, bottoms: string[], options: CommonOptions = {}): this {
    return this.add('Silence', name, bottoms, { top: [], ...options });
  }

  /** The NetParameter with every default filled in, as parseNetPrototxt returns it. */
  toParameter(): NetParameter {
    return NetParameterSchema.parse({
      name: this.name, layer: this.layers, ...(this.forceBackward ? { force_backward: true } : {}),
    });
  }
}
