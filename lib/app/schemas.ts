// schemas.ts — the request bodies of the JSON API (zod), with DIGITS' form defaults.
import { z } from 'zod';
import { LR_POLICIES, SOLVER_TYPES } from '../index.js';
import { LIST_MAX_BYTES } from './image-list.js';
import { isJobId } from './job-files.js';

const name = z.string().trim().min(1, 'a name is required').max(200);
const positiveInteger = z.number().int().positive();
const percent = z.number().min(0).max(100);
const jobId = z.string().refine(isJobId, 'a job id (YYYYMMDD-HHMMSS-xxxx)');

/** New image-classification dataset from a server folder (one sub-folder per class). */
export const DatasetForm = z.strictObject({
  name,
  /** Either a folder with one sub-folder per class, or list files (`path label` per line) with a labels file. */
  folder: z.string().min(1).optional(),
  labelsFile: z.string().min(1).optional(),
  trainList: z.string().min(1).optional(),
  valList: z.string().min(1).optional(),
  testList: z.string().min(1).optional(),
  /** Folder that relative paths in the list files are taken from. */
  prefix: z.string().min(1).optional(),
  valFolder: z.string().min(1).optional(),
  testFolder: z.string().min(1).optional(),
  valPercent: percent.default(25),
  testPercent: percent.default(0),
  channels: z.union([z.literal(1), z.literal(3)]).default(3),
  width: positiveInteger.max(4096).default(256),
  height: positiveInteger.max(4096).default(256),
  resizeMode: z.enum(['squash', 'crop', 'fill', 'half_crop']).default('squash'),
  encoding: z.enum(['none', 'png', 'jpg']).default('png'),
  minPerClass: positiveInteger.default(2),
  maxPerClass: positiveInteger.optional(),
}).refine((form) => form.valPercent + form.testPercent <= 100, { message: 'validation + test percent must be at most 100', path: ['testPercent'] })
  .refine((form) => (form.folder === undefined) !== (form.trainList === undefined), { message: 'give a folder or a training list file (not both)', path: ['folder'] })
  .refine((form) => form.trainList === undefined || form.labelsFile !== undefined, { message: 'a training list needs its labels file', path: ['labelsFile'] })
  .refine((form) => form.maxPerClass === undefined || form.maxPerClass >= form.minPerClass, { message: 'max per class must be at least min per class', path: ['maxPerClass'] });
export type DatasetForm = z.infer<typeof DatasetForm>;
/** The fields of DatasetForm that name server paths: each must lie inside a data root. */
export const DATASET_PATH_FIELDS = ['folder', 'valFolder', 'testFolder', 'labelsFile', 'trainList', 'valList', 'testList', 'prefix'] as const;

export const MnistForm = z.strictObject({ name: name.default('MNIST') });

/** New classification model, in DIGITS' terms: intervals in epochs, lr policy steps in % of training. */
export const ModelForm = z.strictObject({
  name,
  datasetId: z.string().min(1, 'choose a dataset'),
  /** 'previous': the network an earlier model trained with (its train_val prototxt), refilled from this dataset. */
  network: z.enum(['lenet', 'alexnet', 'custom', 'previous']).default('lenet'),
  /** For 'previous' the server fills it with the previous model's network (whatever was sent). */
  customNetwork: z.string().max(1 << 20).optional(),
  /** The earlier model job: the one 'previous' reuses, or the one a customized network came from (for its weights). */
  previousNetwork: jobId.optional(),
  /** Start from this snapshot (iteration) of the previous model, as DIGITS offers a previous model's snapshots. */
  previousSnapshot: z.number().int().min(0).optional(),
  epochs: positiveInteger.max(10000).default(30),
  snapshotInterval: z.number().min(0).default(1),
  valInterval: z.number().min(0).default(1),
  batchSize: positiveInteger.max(4096).optional(),
  baseLr: z.number().positive().default(0.01),
  lrPolicy: z.enum(LR_POLICIES as unknown as [string, ...string[]]).default('step'),
  /** step and sigmoid: where the rate changes, in % of training. */
  lrStep: z.number().positive().max(100).default(33),
  lrGamma: z.number().positive().optional(),
  lrPower: z.number().positive().optional(),
  /** multistep: comma-separated % of training. */
  lrStepValues: z.string().regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, 'comma-separated percentages').default('50,85'),
  solverType: z.enum(SOLVER_TYPES as unknown as [string, ...string[]]).default('SGD'),
  crop: positiveInteger.optional(),
  mean: z.enum(['none', 'image', 'pixel']).default('image'),
  seed: z.number().int().min(0).optional(),
  device: z.string().regex(/^(auto|cpu|cuda(:\d+)?)$/, 'auto, cpu, cuda or cuda:N').default('auto'),
  /** Stops after this many iterations (quick trials and tests). */
  maxIterations: positiveInteger.optional(),
  /** A .caffemodel under a data root whose weights start the training, matched by layer name (fine-tuning). */
  pretrainedModel: z.string().min(1).optional(),
  /** The id POST /api/uploads/caffemodel gave for an uploaded .caffemodel: its weights start the training as pretrainedModel's do. */
  pretrainedUpload: z.string().regex(/^[0-9a-f]{16}$/, 'an upload id (16 hex digits) from POST /api/uploads/caffemodel').optional(),
}).refine((form) => form.network !== 'custom' || (form.customNetwork ?? '').trim() !== '', { message: 'paste a network prototxt', path: ['customNetwork'] })
  .refine((form) => form.network !== 'previous' || form.previousNetwork !== undefined, { message: 'choose a previous network', path: ['previousNetwork'] })
  .refine((form) => form.previousNetwork === undefined || form.network === 'previous' || form.network === 'custom',
    { message: 'a previous network is used with network "previous" (or "custom" for a customized one)', path: ['previousNetwork'] })
  .refine((form) => form.previousSnapshot === undefined || form.previousNetwork !== undefined, { message: 'weights of a previous network need that network (previousNetwork)', path: ['previousSnapshot'] })
  .refine((form) => form.previousSnapshot === undefined || form.pretrainedModel === undefined,
    { message: 'start from a previous network\'s snapshot or from a pretrained model, not both', path: ['pretrainedModel'] })
  .refine((form) => form.pretrainedUpload === undefined || form.pretrainedModel === undefined,
    { message: 'give a pretrained model path or an uploaded one, not both', path: ['pretrainedUpload'] })
  .refine((form) => form.pretrainedUpload === undefined || form.previousSnapshot === undefined,
    { message: 'start from a previous network\'s snapshot or from uploaded weights, not both', path: ['pretrainedUpload'] });
export type ModelForm = z.infer<typeof ModelForm>;

/** Classify many: the val (or test) split of the model's dataset, optionally the first N images. */
export const EvaluateForm = z.strictObject({
  snapshot: z.number().int().min(0).optional(),
  split: z.enum(['val', 'test', 'train']).default('val'),
  limit: positiveInteger.optional(),
});

/** Classify one image from a split of the dataset (instead of an upload). */
export const ClassifyPickForm = z.strictObject({
  split: z.enum(['val', 'test', 'train']).default('val'),
  index: z.number().int().min(0),
});

/** Classify one image file on the server: a path inside a data root (a relative one is taken from the first data root). */
export const ClassifyPathForm = z.strictObject({
  path: z.string().min(1, 'a path is required').max(4096),
});

/**
 * Classify many from an uploaded list: `path [label]` per line (labels index the model's labels),
 * relative paths taken from `prefix` or the first data root. At most LIST_MAX_LINES lines, 1 MiB.
 */
export const EvaluateListForm = z.strictObject({
  snapshot: z.number().int().min(0).optional(),
  list: z.string().max(LIST_MAX_BYTES, `the list is larger than ${LIST_MAX_BYTES >> 20} MiB`),
  /** The uploaded file's name, shown with the results. */
  listName: z.string().trim().max(200).optional(),
  prefix: z.string().min(1).optional(),
});
export type EvaluateListForm = z.infer<typeof EvaluateListForm>;

/** What an evaluation job of a list keeps as its options (the list itself is list.txt in its folder). */
export const EvaluateListJob = z.strictObject({
  source: z.literal('list'),
  snapshot: z.number().int().min(0).optional(),
  listName: z.string().optional(),
  /** The resolved folder relative paths are taken from. */
  prefix: z.string(),
  /** The data roots the listed paths must lie in (the server's, when the job was made). */
  dataRoots: z.array(z.string()),
  lines: z.number().int().positive(),
});
export type EvaluateListJob = z.infer<typeof EvaluateListJob>;
