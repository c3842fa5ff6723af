// train-setup.ts — the network (builtin or prototxt), its deploy form, and the solver settings of a `cudnet train` run.
import { loadNetPrototxt, loadSolverPrototxt, SolverParameterSchema, type LayerParameter, type NetParameter, type SolverParameter } from '../caffe/index.js';
import { CudnetError } from '../errors.js';
import { alexnet, dataLayerOf, deployFromTrainVal, lenet } from '../models/index.js';
import type { ParsedFlags } from './args.js';
import type { TrainingData } from './train-data.js';

export interface NetworkChoice {
  name: string;
  trainVal: NetParameter;
  deploy: NetParameter;
}

export interface BatchPlan {
  batchSize: number;
  valBatchSize: number;
}

/** The builtin networks sized for the data, or a train_val prototxt file. */
export async function chooseNetwork(network: string, data: TrainingData, batches: BatchPlan): Promise<NetworkChoice> {
  const numClasses = data.labels.length;
  const [channels, height, width] = data.imageShape;
  const sized = { numClasses, batchSize: batches.batchSize, testBatchSize: batches.valBatchSize };
  if (network === 'lenet') {
    const inputShape = [channels, height, width] as const;
    return {
      name: 'lenet', trainVal: lenet({ ...sized, inputShape }),
      deploy: lenet({ variant: 'deploy', numClasses, inputShape, batchSize: 1 }),
    };
  }
  if (network === 'alexnet') {
    if (height < 227 || width < 227)
      throw new CudnetError('INVALID_ARGUMENT',
        `AlexNet crops 227x227 images but the data is ${width}x${height}; use --dataset with a dataset of 256x256 images (cudnet dataset create --size 256x256)`);
    const inputShape = [channels, 227, 227] as const;
    return {
      name: 'alexnet', trainVal: alexnet({ ...sized, inputShape, ...(data.meanFile ? { meanFile: data.meanFile } : {}) }),
      deploy: alexnet({ variant: 'deploy', numClasses, inputShape, batchSize: 1 }),
    };
  }
  const trainVal = withBatchSizes(await loadNetPrototxt(network), batches);
  return { name: network, trainVal, deploy: deployFromTrainVal(trainVal, data.imageShape) };
}

/** Sets the Data layers' batch_size so that the written train_val says what was run. */
function withBatchSizes(network: NetParameter, batches: BatchPlan): NetParameter {
  const train = dataLayerOf(network, 'TRAIN');
  const test = dataLayerOf(network, 'TEST');
  const layer = network.layer.map((entry) => {
    if (entry !== train && entry !== test) return entry;
    const size = entry === train ? batches.batchSize : batches.valBatchSize;
    return { ...entry, data_param: { ...entry.data_param!, batch_size: size } };
  });
  return { ...network, layer };
}

/** The recipe of Caffe's LeNet solver (examples/mnist/lenet_solver.prototxt). */
export const LENET_RECIPE = { type: 'SGD', base_lr: 0.01, momentum: 0.9, weight_decay: 0.0005, lr_policy: 'inv', gamma: 0.0001, power: 0.75 };
/** AlexNet's (models/bvlc_alexnet/solver.prototxt), with the step every third of the run as DIGITS does. */
export const ALEXNET_RECIPE = { type: 'SGD', base_lr: 0.01, momentum: 0.9, weight_decay: 0.0005, lr_policy: 'step', gamma: 0.1 };

export interface RunPlan {
  epochs: number;
  itersPerEpoch: number;
  valIterations: number;
  snapshotEpochs: number;
  snapshotPrefix: string;
  seed: number;
}

const FLAG_FIELDS = {
  'base-lr': 'base_lr', 'lr-policy': 'lr_policy', momentum: 'momentum', 'weight-decay': 'weight_decay',
  gamma: 'gamma', power: 'power', type: 'type',
} as const;

/**
 * The solver: a --solver file or the network's recipe, then the flags given, then the run's
 * schedule (epochs → max_iter, a validation every epoch, snapshots, display).
 */
export async function solverParameter(flags: ParsedFlags, network: NetworkChoice, plan: RunPlan): Promise<SolverParameter> {
  const base: Record<string, unknown> = flags.solver
    ? { ...(await loadSolverPrototxt(String(flags.solver))) }
    : { ...(network.name === 'alexnet' ? ALEXNET_RECIPE : LENET_RECIPE) };
  for (const [flag, field] of Object.entries(FLAG_FIELDS)) if (flags[flag] !== undefined) base[field] = flags[flag];
  const maxIter = plan.epochs * plan.itersPerEpoch;
  if (base.lr_policy === 'step' && !(Number(base.stepsize) > 0)) base.stepsize = flags['step-size'] ?? Math.max(1, Math.ceil(maxIter / 3));
  else if (flags['step-size'] !== undefined) base.stepsize = flags['step-size'];
  const display = Math.max(1, Math.floor(plan.itersPerEpoch / 5));
  const schedule = {
    net: 'train_val.prototxt', max_iter: maxIter, test_interval: plan.itersPerEpoch, test_iter: [plan.valIterations],
    test_initialization: false, display, average_loss: display, snapshot: plan.snapshotEpochs * plan.itersPerEpoch,
    snapshot_prefix: plan.snapshotPrefix, random_seed: plan.seed, snapshot_after_train: true,
  };
  const { net_param: _netParam, train_net: _trainNet, train_net_param: _trainNetParam, test_net: _testNet, test_net_param: _testNetParam, ...rest } = base;
  return SolverParameterSchema.parse({ ...rest, ...schedule });
}
