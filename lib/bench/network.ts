// network.ts — what `cudnet bench` runs: a builtin network, a prototxt file or one layer, as a NetParameter
// whose Data layers are replaced by Input layers at the batch size, so no dataset is needed.
import { existsSync, readFileSync } from 'node:fs';
import {
  NetParameterSchema, builtinModelPath, parseNetPrototxt, type BuiltinModelName, type LayerParameter,
  type NetParameter,
} from '../caffe/index.js';
import { CudnetError } from '../errors.js';
import type { Phase } from '../net/index.js';
import { parseLayerFragment } from './fragment.js';

/** A network ready to be built at any batch size. */
export interface BenchNetwork {
  /** How reports name it: "alexnet", "lenet", the prototxt path, or the layer fragment. */
  label: string;
  phase: Phase;
  /** The file named in prototxt errors. */
  file: string;
  /** The batch size used when --batch-sizes is not given. */
  defaultBatchSize: number;
  /** The input shapes of a --layer fragment, for its error messages ("16x96x27x27"). */
  inputDescription?: string;
  /** The NetParameter with every input at `batchSize`. */
  build(batchSize: number): NetParameter;
}

/** Layer types that read a dataset; the benchmark replaces them by Input layers. */
const DATA_TYPES = new Set(['Data', 'ImageData', 'HDF5Data', 'WindowData', 'MemoryData']);

const BUILTIN: Record<string, { train: BuiltinModelName; deploy: BuiltinModelName }> = {
  lenet: { train: 'lenet_train_val.prototxt', deploy: 'lenet_deploy.prototxt' },
  alexnet: { train: 'alexnet_train_val.prototxt', deploy: 'alexnet_deploy.prototxt' },
};

export const DEFAULT_BATCH_SIZE = 16;

/** The `file` of a network made from a --layer fragment. */
export const FRAGMENT_SOURCE = '--layer';

/**
 * A builtin network ("lenet", "alexnet") or a prototxt path. TRAIN uses train_val, TEST the deploy
 * prototxt (builtin). `imageShape` ([C, H, W]) gives the images' shape for Data layers; builtin
 * networks take it from their deploy prototxt's Input layer.
 */
export function networkFromName(name: string, phase: Phase, imageShape?: readonly number[]): BenchNetwork {
  const builtin = BUILTIN[name];
  const file = builtin ? builtinModelPath(phase === 'TRAIN' ? builtin.train : builtin.deploy) : name;
  if (!builtin && !existsSync(file))
    throw new CudnetError('USAGE', `--network "${name}" is neither a builtin network (${Object.keys(BUILTIN).join(', ')}) nor a prototxt file`);
  const parameter = parseNetPrototxt(readFileSync(file, 'utf8'), { file });
  const shape = imageShape ?? (builtin ? deployImageShape(builtin.deploy) : undefined);
  return {
    label: builtin ? name : file, phase, file, defaultBatchSize: DEFAULT_BATCH_SIZE,
    build: (batchSize) => withInputsAt(parameter, batchSize, shape, file),
  };
}

/** [C, H, W] of the first Input layer's first top in a builtin deploy prototxt. */
function deployImageShape(name: BuiltinModelName): number[] {
  const deploy = parseNetPrototxt(readFileSync(builtinModelPath(name), 'utf8'), { file: name });
  const input = deploy.layer.find((layer) => layer.type === 'Input');
  const dims = input?.input_param?.shape[0]?.dim;
  if (!dims || dims.length < 2) throw new Error(`${name} has no Input layer with an image shape`);
  return dims.slice(1);
}

/** Input and DummyData layers get `batchSize` as their first axis; Data layers become Input layers. */
function withInputsAt(parameter: NetParameter, batchSize: number, imageShape: readonly number[] | undefined,
  file: string): NetParameter {
  const layer = parameter.layer.map((layer) => {
    if (DATA_TYPES.has(layer.type)) return inputInsteadOfData(layer, batchSize, imageShape, file);
    if (layer.type === 'Input' && layer.input_param)
      return { ...layer, input_param: { shape: layer.input_param.shape.map((shape) => ({ dim: [batchSize, ...shape.dim.slice(1)] })) } };
    if (layer.type === 'DummyData' && layer.dummy_data_param?.shape.length)
      return { ...layer, dummy_data_param: { ...layer.dummy_data_param,
        shape: layer.dummy_data_param.shape.map((shape) => ({ dim: [batchSize, ...shape.dim.slice(1)] })) } };
    return layer;
  });
  return NetParameterSchema.parse({ ...parameter, layer });
}

/** An Input layer with the Data layer's name, tops and include rules: images [N, C, H, W], labels [N]. */
function inputInsteadOfData(layer: LayerParameter, batchSize: number, imageShape: readonly number[] | undefined,
  file: string): LayerParameter {
  if (!imageShape)
    throw new CudnetError('USAGE', `layer '${layer.name}' in ${file} reads a dataset (${layer.type}); give the image shape ` +
      'with --input CxHxW (e.g. --input 3x227x227) so the benchmark can feed it without one');
  const shapes = layer.top.map((_, i) => ({ dim: i === 0 ? [batchSize, ...imageShape] : [batchSize] }));
  return { ...layer, type: 'Input', input_param: { shape: shapes }, data_param: undefined, transform_param: undefined,
    image_data_param: undefined };
}

/**
 * One layer from a --layer fragment over Input layers of the given shapes (each [N, ...]; the batch
 * size replaces N). force_backward makes backward compute every gradient, bottoms included.
 */
export function networkFromFragment(fragment: string, inputShapes: readonly (readonly number[])[]): BenchNetwork {
  const layer = parseLayerFragment(fragment, inputShapes.length);
  return {
    label: fragment, phase: 'TRAIN', file: FRAGMENT_SOURCE, defaultBatchSize: inputShapes[0][0],
    inputDescription: inputShapes.map((shape) => shape.join('x')).join(', '),
    build: (batchSize) => NetParameterSchema.parse({
      name: `${layer.type} layer`, force_backward: true,
      layer: [
        { name: 'input', type: 'Input', top: layer.bottom,
          input_param: { shape: inputShapes.map((shape) => ({ dim: [batchSize, ...shape.slice(1)] })) } },
        layer,
      ],
    }),
  };
}
