// What training did to an image before the net saw it (resize, crop, channels, mean, scale), read from the model's files, and its application.
import { readBinaryproto, type CaffeBlob, type NetParameter } from '../caffe/index.js';
import { decodeImageBytes, ImageError } from '../data/decode.js';
import { createRandom } from '../data/random.js';
import { resizeImage, RESIZE_MODES, type RawImage, type ResizeMode } from '../data/resize.js';
import { inferenceError, messageOf } from './errors.js';
import { checkImageSize, checkPixelCount, configureSharpForInference, decodeGate } from './decode-limits.js';
import { decodeSmallPng } from './small-png.js';
import type { ModelFiles } from './model-files.js';

/** How the mean is subtracted: DIGITS' 'image' (mean.binaryproto), 'pixel' (one value per channel) or 'none'. */
export type MeanMode = 'image' | 'pixel' | 'none';

/** Preprocessing given by hand, for models without an info.json (explicit sources). */
export interface PreprocessingOptions {
  /** Size images were resized to before any crop (default: the deploy input's size). */
  resizeWidth?: number;
  resizeHeight?: number;
  resizeMode?: ResizeMode;
  mean?: MeanMode;
  /** Per-channel mean in the net's channel order (BGR), instead of a mean file. */
  meanValues?: number[];
  scale?: number;
}

/** The resolved preprocessing, in the order it is applied. */
export interface Preprocessing {
  /** 1 = grey, 3 = colour handed to the net as BGR (Caffe's and DIGITS' order). */
  channels: 1 | 3;
  resizeWidth: number;
  resizeHeight: number;
  resizeMode: ResizeMode;
  /** Centre crop window (Caffe's TEST-phase crop): the net's input size at this offset. */
  cropLeft: number;
  cropTop: number;
  inputWidth: number;
  inputHeight: number;
  mean: MeanMode;
  /** The mean over the input window, C x inputHeight x inputWidth ('image'). */
  meanImage?: Float32Array;
  /** One value per channel ('pixel'). */
  meanValues?: number[];
  /** Multiplies (pixel - mean), as transform_param.scale. */
  scale: number;
  /** Where each fact came from, for the model's description. */
  sources: string[];
}

/** The deploy net's input: the first Input layer's top and its N x C x H x W shape. */
export interface DeployInput {
  name: string;
  layerIndex: number;
  shape: [number, number, number, number];
}

export function deployInput(net: NetParameter, file: string): DeployInput {
  const layerIndex = net.layer.findIndex((layer) => layer.type === 'Input');
  const layer = net.layer[layerIndex];
  if (layer === undefined)
    throw inferenceError('MODEL_INVALID', `${file} has no Input layer (or input/input_shape): a deploy net starts with one`);
  const dims = layer.input_param?.shape[0]?.dim ?? [];
  if (dims.length !== 4 || layer.top.length === 0)
    throw inferenceError('MODEL_INVALID', `${file}: input "${layer.top[0] ?? layer.name}" must be N x C x H x W, but its shape is [${dims.join(', ')}]`);
  const channels = dims[1]!;
  if (channels !== 1 && channels !== 3)
    throw inferenceError('MODEL_INVALID', `${file}: input "${layer.top[0]}" has ${channels} channels; image models take 1 (grey) or 3 (colour)`);
  return { name: layer.top[0]!, layerIndex, shape: dims as [number, number, number, number] };
}

/** Resolves the preprocessing: explicit options, then info.json, then train_val.prototxt, then the deploy input. */
export function resolvePreprocessing(files: ModelFiles, deploy: NetParameter, input: DeployInput): Preprocessing {
  const [, channels, inputHeight, inputWidth] = input.shape;
  const sources: string[] = [`input ${channels}x${inputHeight}x${inputWidth} from ${files.deploy.name}`];
  const explicit = files.preprocessing ?? {};
  const info = files.info?.values ?? {};
  const transform = files.transform?.param;
  const meanBlob = files.mean === undefined ? undefined : readMean(files);
  const resize = resizeSize(files, explicit, info, transform?.crop_size ?? 0, meanBlob, input, sources);
  const resizeMode = resizeModeOf(explicit.resizeMode ?? info['image resize mode'] ?? files.dataset?.resizeMode, files);
  const preprocessing: Preprocessing = {
    channels: channels as 1 | 3, resizeWidth: resize.width, resizeHeight: resize.height, resizeMode,
    cropLeft: Math.floor((resize.width - inputWidth) / 2), cropTop: Math.floor((resize.height - inputHeight) / 2),
    inputWidth, inputHeight, mean: 'none', scale: 1, sources,
  };
  applyMean(preprocessing, files, meanBlob, explicit, info, transform?.mean_value ?? []);
  preprocessing.scale = scaleOf(explicit, transform?.scale, deploy, input, sources);
  return preprocessing;
}

/**
 * The size images were resized to: explicit options, DIGITS' info.json "image dimensions" [H, W, C],
 * the dataset.json beside the mean, else (when train_val crops) the mean image's size, since the mean
 * is computed at the resize size; without a crop, the input size.
 */
function resizeSize(
  files: ModelFiles, explicit: PreprocessingOptions, info: Record<string, unknown>, cropSize: number,
  meanBlob: CaffeBlob | undefined, input: DeployInput, sources: string[],
): { width: number; height: number } {
  const [, channels, inputHeight, inputWidth] = input.shape;
  if (explicit.resizeWidth !== undefined || explicit.resizeHeight !== undefined) {
    return checkResize(files, { width: explicit.resizeWidth ?? inputWidth, height: explicit.resizeHeight ?? inputHeight }, input, 'preprocessing options');
  }
  const dimensions = info['image dimensions'];
  if (Array.isArray(dimensions) && dimensions.length === 3 && dimensions.every((value) => Number.isInteger(value))) {
    const [height, width, imageChannels] = dimensions as number[];
    if (imageChannels !== channels)
      throw inferenceError('MODEL_MISMATCH', `${files.info!.name} says images have ${imageChannels} channel(s) but ${files.deploy.name} input "${input.name}" takes ${channels}`);
    sources.push(`resize ${width}x${height} from ${files.info!.name}`);
    return checkResize(files, { width: width!, height: height! }, input, files.info!.name);
  }
  if (cropSize > 0 && (cropSize !== inputHeight || cropSize !== inputWidth))
    throw inferenceError('MODEL_MISMATCH', `${files.transform!.name} crops to ${cropSize}x${cropSize} but ${files.deploy.name} input "${input.name}" is ${inputWidth}x${inputHeight}`);
  if (files.dataset !== undefined) {
    if (files.dataset.channels !== channels)
      throw inferenceError('MODEL_MISMATCH', `${files.dataset.name} says images have ${files.dataset.channels} channel(s) but ${files.deploy.name} input "${input.name}" takes ${channels}`);
    sources.push(`resize ${files.dataset.width}x${files.dataset.height} from ${files.dataset.name}`);
    return checkResize(files, { width: files.dataset.width, height: files.dataset.height }, input, files.dataset.name);
  }
  if (cropSize > 0 && meanBlob !== undefined) {
    const [height, width] = meanBlob.shape.slice(-2) as [number, number];
    sources.push(`resize ${width}x${height}: the size of ${files.mean!.name}, cropped to ${cropSize} by ${files.transform!.name}`);
    return checkResize(files, { width, height }, input, files.mean!.name);
  }
  return { width: inputWidth, height: inputHeight };
}

function checkResize(files: ModelFiles, size: { width: number; height: number }, input: DeployInput, source: string) {
  const [, , inputHeight, inputWidth] = input.shape;
  if (size.width < inputWidth || size.height < inputHeight)
    throw inferenceError('MODEL_MISMATCH', `${source} resizes images to ${size.width}x${size.height}, smaller than ${files.deploy.name} input "${input.name}" (${inputWidth}x${inputHeight})`);
  return size;
}

function resizeModeOf(value: unknown, files: ModelFiles): ResizeMode {
  if (value === undefined) return 'squash';
  if (typeof value === 'string' && (RESIZE_MODES as readonly string[]).includes(value)) return value as ResizeMode;
  throw inferenceError('MODEL_INVALID', `${files.info?.name ?? 'preprocessing'}: unknown image resize mode ${JSON.stringify(value)} (expected ${RESIZE_MODES.join(', ')})`);
}

/** Mean: explicit values or mode, else info.json "mean subtraction", else train_val mean_value, else the mean file if any. */
function applyMean(
  preprocessing: Preprocessing, files: ModelFiles, meanBlob: CaffeBlob | undefined, explicit: PreprocessingOptions,
  info: Record<string, unknown>, transformValues: number[],
): void {
  const values = explicit.meanValues ?? (explicit.mean === undefined && info['mean subtraction'] === undefined ? transformValues : []);
  if (values.length > 0) {
    setMeanValues(preprocessing, values, 'mean values');
    return;
  }
  const mode = explicit.mean ?? (info['mean subtraction'] as MeanMode | undefined) ?? (files.mean ? 'image' : 'none');
  if (mode === 'none') return;
  if (meanBlob === undefined)
    throw inferenceError('MODEL_FILE_MISSING', `mean subtraction '${mode}' needs a mean file (mean.binaryproto) but none was given`);
  const meanImage = croppedMean(preprocessing, files, meanBlob);
  if (mode === 'pixel') setMeanValues(preprocessing, channelMeans(meanImage, preprocessing), `pixel mean of ${files.mean!.name}`);
  else {
    preprocessing.mean = 'image';
    preprocessing.meanImage = meanImage;
    preprocessing.sources.push(`mean image from ${files.mean!.name}`);
  }
}

function setMeanValues(preprocessing: Preprocessing, values: number[], source: string): void {
  if (values.length !== 1 && values.length !== preprocessing.channels)
    throw inferenceError('MODEL_MISMATCH', `${source} give ${values.length} values for ${preprocessing.channels} channel(s)`);
  preprocessing.mean = 'pixel';
  preprocessing.meanValues = Array.from({ length: preprocessing.channels }, (_, c) => Math.fround(values[values.length === 1 ? 0 : c]!));
  preprocessing.sources.push(`per-channel mean ${preprocessing.meanValues.join(', ')} (${source})`);
}

/**
 * The mean over the net's input window. A mean of the resize size is cropped at the image's crop
 * offsets (as Caffe's DataTransformer does); a mean of the input size is used as it is.
 */
function croppedMean(preprocessing: Preprocessing, files: ModelFiles, blob: CaffeBlob): Float32Array {
  const mean = files.mean!;
  const shape = blob.shape.slice(-3);
  while (shape.length < 3) shape.unshift(1);
  const [channels, height, width] = shape as [number, number, number];
  const { inputWidth, inputHeight, resizeWidth, resizeHeight } = preprocessing;
  const what = `${mean.name} is ${channels}x${height}x${width} (C x H x W)`;
  if (channels !== preprocessing.channels)
    throw inferenceError('MODEL_MISMATCH', `${what} but ${files.deploy.name} takes ${preprocessing.channels} channel(s): the channel counts differ`);
  if (width === inputWidth && height === inputHeight) return blob.data;
  if (width === resizeWidth && height === resizeHeight) return cropPlanes(blob.data, channels, width, height, preprocessing);
  const sizes = resizeWidth === inputWidth && resizeHeight === inputHeight
    ? `${inputWidth}x${inputHeight}` : `${inputWidth}x${inputHeight} (or the resize size ${resizeWidth}x${resizeHeight})`;
  throw inferenceError('MODEL_MISMATCH', `${what} but ${files.deploy.name} takes ${sizes} images: the mean size differs from the input size`);
}

function cropPlanes(data: Float32Array, channels: number, width: number, height: number, p: Preprocessing): Float32Array {
  const out = new Float32Array(channels * p.inputHeight * p.inputWidth);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < p.inputHeight; y++) {
      const start = (c * height + y + p.cropTop) * width + p.cropLeft;
      out.set(data.subarray(start, start + p.inputWidth), (c * p.inputHeight + y) * p.inputWidth);
    }
  }
  return out;
}

function readMean(files: ModelFiles): CaffeBlob {
  try {
    return readBinaryproto(files.mean!.bytes, { file: files.mean!.name });
  } catch (error) {
    throw inferenceError('MODEL_INVALID', messageOf(error), error);
  }
}

/** DIGITS' pixel mean: the spatial average of each channel of the mean image. */
function channelMeans(meanImage: Float32Array, p: Preprocessing): number[] {
  const plane = p.inputWidth * p.inputHeight;
  return Array.from({ length: p.channels }, (_, c) => {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += meanImage[c * plane + i]!;
    return sum / plane;
  });
}

/**
 * transform_param.scale, unless the deploy net applies it itself: DIGITS' LeNet scales in the
 * train_val data layer and again with a Power layer right after the deploy input.
 */
function scaleOf(explicit: PreprocessingOptions, transformScale: number | undefined, deploy: NetParameter, input: DeployInput, sources: string[]): number {
  if (explicit.scale !== undefined) return explicit.scale;
  if (transformScale === undefined || transformScale === 1) return 1;
  const next = deploy.layer[input.layerIndex + 1];
  if (next?.type === 'Power' && next.bottom[0] === input.name) {
    sources.push(`scale ${transformScale} applied by the deploy net's Power layer "${next.name}"`);
    return 1;
  }
  sources.push(`scale ${transformScale} from train_val transform_param`);
  return transformScale;
}

/**
 * Decodes and resizes image bytes (sharp, on libuv's pool; a small plain PNG on this thread, see
 * small-png.ts). An image declaring more than `maxPixels` is refused from its header with
 * IMAGE_TOO_LARGE, before any pixel is decoded; sharp's decodes wait for room in the memory budget
 * they share (decode-limits.ts). A bad image rejects with BAD_IMAGE.
 */
export async function decodeForModel(bytes: Uint8Array, p: Preprocessing, maxPixels: number): Promise<RawImage> {
  // A small PNG (at most SMALL_PNG_MAX_PIXELS) costs less to decode than to measure.
  const small = decodeSmallPng(bytes, p.channels);
  if (small !== null) checkPixelCount(small, maxPixels);
  const release = small === null ? await decodeGate.acquire(await checkImageSize(bytes, maxPixels)) : undefined;
  try {
    if (small === null) configureSharpForInference();
    const image = small ?? (await decodeImageBytes(bytes, p.channels, maxPixels));
    // fill and half_crop pad with noise: a fixed seed makes the same image give the same result.
    return await resizeImage(image, p.resizeWidth, p.resizeHeight, p.resizeMode, createRandom(0));
  } catch (error) {
    const reason = error instanceof ImageError ? `${error.reason}: ${error.message}` : messageOf(error);
    throw inferenceError('BAD_IMAGE', `image cannot be decoded (${reason})`, error);
  } finally {
    release?.();
  }
}

/**
 * The net's input for one resized image: the centre crop, H x W x C -> C x H x W with colour
 * reversed to BGR, then (pixel - mean) * scale in float32 as Caffe's DataTransformer computes it.
 */
export function imageToInput(image: RawImage, p: Preprocessing): Float32Array {
  const { channels, inputWidth, inputHeight, cropLeft, cropTop } = p;
  const scale = Math.fround(p.scale);
  const out = new Float32Array(channels * inputHeight * inputWidth);
  const rowBytes = image.width * channels;
  for (let c = 0; c < channels; c++) {
    const sourceChannel = channels === 3 ? 2 - c : 0;
    const pixelMean = p.meanValues?.[c] ?? 0;
    for (let y = 0; y < inputHeight; y++) {
      const sourceRow = (y + cropTop) * rowBytes + cropLeft * channels + sourceChannel;
      const target = (c * inputHeight + y) * inputWidth;
      for (let x = 0; x < inputWidth; x++) {
        const mean = p.meanImage === undefined ? pixelMean : p.meanImage[target + x]!;
        out[target + x] = Math.fround(image.pixels[sourceRow + x * channels]! - mean) * scale;
      }
    }
  }
  return out;
}

/** A short public description (no mean data). */
export function describePreprocessing(p: Preprocessing): Omit<Preprocessing, 'meanImage'> {
  const { meanImage: _meanImage, ...rest } = p;
  return rest;
}
