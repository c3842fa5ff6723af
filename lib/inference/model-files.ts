// Finding and reading a model's files: a model folder (cudnet train output, DIGITS job or archive) or explicit paths/bytes.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseNetPrototxt, type LayerParameter, type NetParameter, type TransformationParameter } from '../caffe/index.js';
import { inferenceError, messageOf } from './errors.js';
import type { PreprocessingOptions } from './preprocessing.js';

/** A file's name (for messages) and contents. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/** Everything a model is built from, read into memory. */
export interface ModelFiles {
  /** The folder the files came from, when loaded from one. */
  folder?: string;
  deploy: NamedBytes;
  weights: NamedBytes;
  labels?: { name: string; labels: string[] };
  mean?: NamedBytes;
  /** DIGITS' info.json (or cudnet's, with the same keys). */
  info?: { name: string; values: Record<string, unknown> };
  /** transform_param of train_val.prototxt's TEST-phase data layer (what validation measured). */
  transform?: { name: string; param: TransformationParameter };
  /** The image size and resize mode of the dataset the mean came from (cudnet's dataset.json beside it). */
  dataset?: { name: string; width: number; height: number; channels: number; resizeMode: string };
  preprocessing?: PreprocessingOptions;
}

/** A path, or the file's bytes. */
export type FileSource = string | Uint8Array;

/** Files given one by one; labels may also be the label names. */
export interface ExplicitModelSource {
  deploy: FileSource;
  weights: FileSource;
  labels?: FileSource | readonly string[];
  mean?: FileSource;
  /** What training did to images (only needed when no info.json says it). */
  preprocessing?: PreprocessingOptions;
}

export type ModelSource = string | ExplicitModelSource;

const DEPLOY_FILE = 'deploy.prototxt';
const LABELS_FILE = 'labels.txt';
const MEAN_FILE = 'mean.binaryproto';
const INFO_FILE = 'info.json';
const TRAIN_VAL_FILE = 'train_val.prototxt';

/** Reads a model's files from a folder or from explicit sources. */
export async function readModelFiles(source: ModelSource): Promise<ModelFiles> {
  if (typeof source === 'string') return readModelFolder(source);
  if (source === null || typeof source !== 'object' || source.deploy === undefined || source.weights === undefined)
    throw inferenceError('MODEL_FILE_MISSING', 'loadModel needs a model folder or { deploy, weights, labels?, mean? }');
  return readExplicitFiles(source);
}

async function readExplicitFiles(source: ExplicitModelSource): Promise<ModelFiles> {
  const files: ModelFiles = {
    deploy: await readSource(source.deploy, 'deploy'),
    weights: await readSource(source.weights, 'weights'),
    preprocessing: source.preprocessing,
  };
  if (source.labels !== undefined) {
    if (Array.isArray(source.labels)) files.labels = { name: 'labels', labels: [...(source.labels as string[])] };
    else {
      const labels = await readSource(source.labels as FileSource, 'labels');
      files.labels = { name: labels.name, labels: parseLabels(labels.bytes) };
    }
  }
  if (source.mean !== undefined) files.mean = await readSource(source.mean, 'mean');
  return files;
}

async function readSource(source: FileSource, what: string): Promise<NamedBytes> {
  if (source instanceof Uint8Array) return { name: `${what} (bytes)`, bytes: source };
  return { name: source, bytes: await readRequired(source, `the ${what} file`) };
}

async function readRequired(file: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw inferenceError('MODEL_FILE_MISSING', `${what} ${file} does not exist`, error);
    throw inferenceError('MODEL_INVALID', `${what} ${file} cannot be read: ${messageOf(error)}`, error);
  }
}

/**
 * A model folder: deploy.prototxt, the .caffemodel (the one info.json names, else the newest
 * snapshot), labels.txt, mean.binaryproto when present (required when info.json or train_val.prototxt
 * says training subtracted it), info.json and train_val.prototxt when present.
 */
async function readModelFolder(folder: string): Promise<ModelFiles> {
  const names = await listFolder(folder);
  const info = names.includes(INFO_FILE) ? await readInfo(folder) : undefined;
  const pick = (key: string, fallback: string) => basenameOf(info?.values[key]) ?? fallback;
  const deployName = pick('deploy file', DEPLOY_FILE);
  const files: ModelFiles = {
    folder,
    info,
    deploy: await readInFolder(folder, names, deployName, 'the network definition'),
    weights: await readInFolder(folder, names, await weightsName(folder, names, info), 'the weights'),
  };
  const labelsName = pick('labels file', LABELS_FILE);
  const labels = await readInFolder(folder, names, labelsName, 'the label names');
  files.labels = { name: path.join(folder, labelsName), labels: parseLabels(labels.bytes) };
  if (names.includes(TRAIN_VAL_FILE)) files.transform = testTransform(await readInFolder(folder, names, TRAIN_VAL_FILE, 'train_val'));
  const meanName = pick('mean file', MEAN_FILE);
  const meanRequired = info?.values['mean file'] !== undefined && info.values['mean subtraction'] !== 'none';
  if (names.includes(meanName) || meanRequired) files.mean = await readInFolder(folder, names, meanName, 'the mean image');
  else if (files.transform?.param.mean_file !== undefined) await readTrainingMean(folder, files);
  return files;
}

/** transform_param of the TEST-phase data layer (else the first data layer with one). */
function testTransform(trainVal: NamedBytes): ModelFiles['transform'] {
  let net: NetParameter;
  try {
    net = parseNetPrototxt(Buffer.from(trainVal.bytes).toString('utf8'), { file: trainVal.name });
  } catch (error) {
    throw inferenceError('MODEL_INVALID', messageOf(error), error);
  }
  const isTest = (layer: LayerParameter) =>
    layer.include.some((rule) => rule.phase === 'TEST') || (layer.include.length === 0 && layer.phase === 'TEST');
  const dataLayers = net.layer.filter((layer) => layer.transform_param !== undefined);
  const param = (dataLayers.find(isTest) ?? dataLayers[0])?.transform_param;
  return param === undefined ? undefined : { name: trainVal.name, param };
}

/**
 * cudnet train leaves the mean in the dataset folder and names it in train_val.prototxt's
 * mean_file; the dataset.json beside it gives the size and resize mode images were imported with.
 */
async function readTrainingMean(folder: string, files: ModelFiles): Promise<void> {
  const meanFile = path.resolve(folder, files.transform!.param.mean_file!);
  files.mean = { name: meanFile, bytes: await readRequired(meanFile, `the mean image named by ${files.transform!.name}:`) };
  const manifestFile = path.join(path.dirname(meanFile), 'dataset.json');
  const manifest = await readFile(manifestFile, 'utf8').then((text) => JSON.parse(text) as { image?: Record<string, unknown> }, () => undefined);
  const image = manifest?.image;
  if (image && typeof image.width === 'number' && typeof image.height === 'number' && typeof image.channels === 'number')
    files.dataset = { name: manifestFile, width: image.width, height: image.height, channels: image.channels, resizeMode: String(image.resizeMode ?? 'squash') };
}

async function listFolder(folder: string): Promise<string[]> {
  try {
    if (!(await stat(folder)).isDirectory())
      throw inferenceError('MODEL_FILE_MISSING', `model folder ${folder} is not a folder`);
    return await readdir(folder);
  } catch (error) {
    if ((error as { code?: string }).code === 'MODEL_FILE_MISSING') throw error;
    throw inferenceError('MODEL_FILE_MISSING', `model folder ${folder} does not exist`, error);
  }
}

async function readInfo(folder: string): Promise<{ name: string; values: Record<string, unknown> }> {
  const file = path.join(folder, INFO_FILE);
  const text = Buffer.from(await readRequired(file, 'info.json')).toString('utf8');
  try {
    const values = JSON.parse(text) as unknown;
    if (values === null || typeof values !== 'object' || Array.isArray(values)) throw new Error('not a JSON object');
    return { name: file, values: values as Record<string, unknown> };
  } catch (error) {
    throw inferenceError('MODEL_INVALID', `${file} is not valid JSON: ${messageOf(error)}`, error);
  }
}

async function readInFolder(folder: string, names: string[], name: string, what: string): Promise<NamedBytes> {
  const file = path.join(folder, name);
  if (!names.includes(name))
    throw inferenceError('MODEL_FILE_MISSING', `model folder ${folder} has no ${name} (${what})`);
  return { name: file, bytes: await readRequired(file, what) };
}

/** info.json stores file names, sometimes as paths from the training machine: only the base name counts. */
function basenameOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? path.basename(value) : undefined;
}

/**
 * The snapshot info.json names, else the newest: highest `_iter_N`, then latest modification time.
 * In a training folder (one with .solverstate files) only complete snapshots count: a .caffemodel
 * whose .solverstate is missing was being written when its run was killed, or is being written now.
 */
async function weightsName(folder: string, names: string[], info: ModelFiles['info']): Promise<string> {
  const named = basenameOf(info?.values['snapshot file']);
  if (named !== undefined) return named;
  const all = names.filter((name) => name.endsWith('.caffemodel'));
  const complete = all.filter((name) => names.includes(name.replace(/\.caffemodel$/, '.solverstate')));
  const snapshots = names.some((name) => name.endsWith('.solverstate')) && complete.length > 0 ? complete : all;
  if (snapshots.length === 0)
    throw inferenceError('MODEL_FILE_MISSING', `model folder ${folder} has no .caffemodel (the weights)`);
  const ranked = await Promise.all(snapshots.map(async (name) => ({
    name, iteration: iterationOf(name), modified: (await stat(path.join(folder, name))).mtimeMs,
  })));
  ranked.sort((a, b) => b.iteration - a.iteration || b.modified - a.modified);
  return ranked[0]!.name;
}

function iterationOf(name: string): number {
  const match = /_iter_(\d+)\.caffemodel$/.exec(name);
  return match === null ? -1 : Number(match[1]);
}

/** labels.txt: one name per line, line i = class i; blank trailing lines are ignored. */
export function parseLabels(bytes: Uint8Array): string[] {
  const lines = Buffer.from(bytes).toString('utf8').split(/\r?\n/).map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
