// training-setup.ts — a model job's network and solver from its dataset and form, as DIGITS derives them (intervals in epochs, lr steps in % of training).
import path from 'node:path';
import { caffe, data, deployFromTrainVal, models, type BatchSource } from '../index.js';
import { LmdbBatchSource, readDatasetManifest } from '../index.js';
import type { ModelForm } from './schemas.js';

type NetParameter = caffe.NetParameter;
type LayerParameter = caffe.LayerParameter;
type DatasetManifest = Awaited<ReturnType<typeof readDatasetManifest>>;

export interface TrainingPlan {
  trainVal: NetParameter;
  deploy: NetParameter;
  solver: caffe.SolverParameter;
  batchSize: number;
  valBatchSize: number;
  itersPerEpoch: number;
  labels: string[];
  /** [C, H, W] the net sees (after the crop). */
  inputShape: [number, number, number];
  /** The per-channel mean subtracted when the form chose 'pixel'. */
  meanValues?: number[];
}

/** LeNet trains 64 images at a time, AlexNet 100 (DIGITS' standard networks); a previous network keeps the batch it trained with. */
function defaultBatchSize(form: ModelForm): number {
  const own = form.network === 'previous' ? trainDataLayer(form.customNetwork ?? '')?.data_param?.batch_size : undefined;
  return own || (form.network === 'alexnet' ? 100 : 64);
}

/** AlexNet crops to 227 by default; a previous network keeps the crop it trained with. */
function defaultCrop(form: ModelForm): number | undefined {
  if (form.network === 'alexnet') return 227;
  if (form.network === 'previous') return trainDataLayer(form.customNetwork ?? '')?.transform_param?.crop_size || undefined;
  return undefined;
}

/** A network's TRAIN Data layer, if the text parses and has one (a parse error is reported by the plan itself). */
export function trainDataLayer(text: string): LayerParameter | undefined {
  try {
    const network = caffe.parseNetPrototxt(text, { file: 'custom network' });
    return network.layer.find((layer) => layer.type === 'Data' && layer.include.some((rule) => rule.phase === 'TRAIN'));
  } catch {
    return undefined;
  }
}

/** The largest validation batch up to 100 that divides the validation set, so every image counts once. */
export function validationBatchSize(count: number): number {
  for (let size = Math.min(100, count); size >= 20; size--) if (count % size === 0) return size;
  return Math.max(1, Math.min(100, count));
}

/** Plans a training run on the dataset folder. Throws with a message for the form on impossible settings. */
export async function planTraining(form: ModelForm, datasetFolder: string): Promise<TrainingPlan> {
  const manifest = await readDatasetManifest(datasetFolder);
  const train = manifest.splits.train;
  const val = manifest.splits.val;
  if (!train || train.count === 0) throw new Error('The dataset has no training images');
  const batchSize = form.batchSize ?? defaultBatchSize(form);
  const valBatchSize = validationBatchSize(val?.count ?? 0);
  const { channels, height, width } = manifest.image;
  const crop = form.crop ?? defaultCrop(form);
  if (crop !== undefined && (crop > height || crop > width))
    throw new Error(`Crop ${crop} is larger than the dataset's ${width}x${height} images`);
  const inputShape: [number, number, number] = [channels, crop ?? height, crop ?? width];
  const networks = buildNetworks(form, manifest, inputShape, batchSize, valBatchSize);
  const meanValues = form.mean === 'pixel' ? await pixelMean(path.join(datasetFolder, manifest.mean.binaryproto)) : undefined;
  const trainVal = withDataSettings(networks.trainVal, form, datasetFolder, manifest, crop, meanValues);
  const itersPerEpoch = Math.ceil(train.count / batchSize);
  const solver = solverParameter(form, trainVal, itersPerEpoch, val?.count ? Math.ceil(val.count / valBatchSize) : 0);
  // A custom net's deploy form is derived from it as DIGITS does (Data → Input, losses → Softmax).
  const deploy = networks.deploy ?? deployFromTrainVal(trainVal, [channels, height, width]);
  return { trainVal, deploy, solver, batchSize, valBatchSize, itersPerEpoch, labels: manifest.labels, inputShape, meanValues };
}

/** DIGITS' mean pixel: the spatial average of each channel of the mean image. */
async function pixelMean(file: string): Promise<number[]> {
  const mean = await data.readMeanBinaryproto(file);
  const plane = mean.height * mean.width;
  return Array.from({ length: mean.channels }, (_, c) => mean.data.subarray(c * plane, (c + 1) * plane).reduce((sum, value) => sum + value, 0) / plane);
}

function buildNetworks(form: ModelForm, manifest: DatasetManifest, inputShape: [number, number, number], batchSize: number, valBatchSize: number) {
  const numClasses = manifest.labels.length;
  // A previous network is its train_val prototxt, filled in from this dataset like a pasted one.
  if (form.network === 'custom' || form.network === 'previous') return { trainVal: customNetwork(form.customNetwork ?? '', numClasses, batchSize, valBatchSize), deploy: undefined };
  const builder = form.network === 'alexnet' ? models.alexnet : models.lenet;
  return {
    trainVal: builder({ numClasses, inputShape, batchSize, testBatchSize: valBatchSize }),
    deploy: builder({ variant: 'deploy', numClasses, inputShape, batchSize: 1 }),
  };
}

/**
 * A pasted train_val network, filled in as DIGITS does: each Data layer gets the batch size of its
 * phase, and the last InnerProduct's num_output becomes the dataset's number of classes.
 */
function customNetwork(text: string, numClasses: number, batchSize: number, valBatchSize: number): NetParameter {
  const parsed = caffe.parseNetPrototxt(text, { file: 'custom network' });
  const lastInnerProduct = parsed.layer.map((layer) => layer.type).lastIndexOf('InnerProduct');
  if (!parsed.layer.some((layer) => layer.type === 'Data'))
    throw new Error('The custom network needs Data layers (one for TRAIN and one for TEST) for the dataset to feed');
  const layer = parsed.layer.map((entry, index): LayerParameter => {
    if (entry.type === 'Data') {
      const isTrain = entry.include.some((rule) => rule.phase === 'TRAIN');
      return { ...entry, data_param: { ...caffe.DataParameterSchema.parse({}), ...entry.data_param, batch_size: isTrain ? batchSize : valBatchSize } };
    }
    if (index === lastInnerProduct)
      return { ...entry, inner_product_param: { ...entry.inner_product_param!, num_output: numClasses } };
    return entry;
  });
  return { ...parsed, layer };
}

/**
 * DIGITS fills the Data layers: the LMDB sources, the crop, and the mean the form chose
 * ('image' = the dataset's mean.binaryproto, 'pixel' = its per-channel average), overriding any
 * mean the network carried.
 */
function withDataSettings(
  network: NetParameter, form: ModelForm, datasetFolder: string, manifest: DatasetManifest, crop: number | undefined, meanValues: number[] | undefined,
): NetParameter {
  const layer = network.layer.map((entry): LayerParameter => {
    if (entry.type !== 'Data') return entry;
    const isTrain = entry.include.some((rule) => rule.phase === 'TRAIN');
    const split = isTrain ? manifest.splits.train! : manifest.splits.val;
    const transform = caffe.TransformationParameterSchema.parse({
      scale: entry.transform_param?.scale ?? 1,
      mirror: entry.transform_param?.mirror ?? false,
      ...(crop !== undefined ? { crop_size: crop } : {}),
      ...(form.mean === 'image' ? { mean_file: path.join(datasetFolder, manifest.mean.binaryproto) } : {}),
      ...(meanValues ? { mean_value: meanValues } : {}),
    });
    return {
      ...entry, transform_param: transform,
      data_param: { ...entry.data_param!, source: path.join(datasetFolder, split?.db ?? 'val_db') },
    };
  });
  return { ...network, layer };
}

/** Caffe's solver fields from the form: momentum 0.9 and weight decay base_lr/100 as DIGITS hard-wires them. */
function solverParameter(form: ModelForm, trainVal: NetParameter, itersPerEpoch: number, testIter: number): caffe.SolverParameter {
  const planned = form.epochs * itersPerEpoch;
  const maxIter = Math.min(planned, form.maxIterations ?? planned);
  const every = (epochs: number) => {
    const iterations = Math.max(1, Math.round(epochs * itersPerEpoch));
    return iterations >= maxIter ? 0 : iterations;
  };
  const testInterval = testIter > 0 ? (form.valInterval > 0 ? every(form.valInterval) || maxIter : 0) : 0;
  const display = Math.max(1, Math.min(Math.floor(itersPerEpoch / 8), 50));
  const usesMomentum = !['AdaGrad', 'RMSProp'].includes(form.solverType);
  return caffe.SolverParameterSchema.parse({
    net_param: trainVal,
    type: form.solverType, base_lr: form.baseLr, weight_decay: form.baseLr / 100,
    ...(usesMomentum ? { momentum: 0.9 } : {}),
    ...(form.solverType === 'Adam' ? { momentum2: 0.999 } : {}),
    ...lrPolicyFields(form, planned),
    max_iter: maxIter, test_interval: testInterval || maxIter + 1, test_iter: testIter > 0 ? [testIter] : [],
    test_initialization: false, display, average_loss: display,
    snapshot: form.snapshotInterval > 0 ? every(form.snapshotInterval) : 0, snapshot_prefix: 'snapshot', snapshot_after_train: true,
    random_seed: form.seed ?? -1,
  });
}

/** The policy's parameters, converted from % of the planned training to iterations (DIGITS' scale = max_iter/100). */
export function lrPolicyFields(form: Pick<ModelForm, 'lrPolicy' | 'lrStep' | 'lrGamma' | 'lrPower' | 'lrStepValues'>, maxIter: number): Record<string, unknown> {
  const scale = maxIter / 100;
  switch (form.lrPolicy) {
    case 'step': return { lr_policy: 'step', stepsize: Math.max(1, Math.ceil(form.lrStep * scale)), gamma: form.lrGamma ?? 0.1 };
    case 'multistep': return {
      lr_policy: 'multistep', gamma: form.lrGamma ?? 0.5,
      stepvalue: form.lrStepValues.split(',').map((value) => Math.max(1, Math.ceil(Number(value) * scale))),
    };
    case 'exp': return { lr_policy: 'exp', gamma: Math.pow(form.lrGamma ?? 0.95, 1 / scale) };
    case 'inv': return { lr_policy: 'inv', gamma: (form.lrGamma ?? 0.1) / scale, power: form.lrPower ?? 0.5 };
    case 'poly': return { lr_policy: 'poly', power: form.lrPower ?? 3 };
    case 'sigmoid': return { lr_policy: 'sigmoid', gamma: -(form.lrGamma ?? 0.1) / scale, stepsize: Math.max(1, Math.ceil(form.lrStep * scale)) };
    default: return { lr_policy: 'fixed' };
  }
}

/** The LMDB batch sources of the train and val Data layers, with their transform_param. */
export async function openSources(plan: TrainingPlan, seed: number): Promise<{ train: BatchSource; val?: BatchSource }> {
  const open = (layer: LayerParameter | undefined, phase: 'TRAIN' | 'TEST', batchSize: number) => {
    return LmdbBatchSource.open({
      source: layer!.data_param!.source!, batchSize, phase, shuffle: phase === 'TRAIN', seed, reuseBuffers: true,
      transform: data.transformFromCaffe(layer!.transform_param),
    });
  };
  const dataLayer = (phase: 'TRAIN' | 'TEST') => plan.trainVal.layer.find((layer) => layer.type === 'Data' && layer.include.some((rule) => rule.phase === phase));
  const train = await open(dataLayer('TRAIN'), 'TRAIN', plan.batchSize);
  const val = plan.solver.test_iter.length > 0 ? await open(dataLayer('TEST'), 'TEST', plan.valBatchSize) : undefined;
  return { train, val };
}
