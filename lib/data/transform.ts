// Caffe's DataTransformer for one image (src/caffe/data_transformer.cpp): crop, mirror, mean subtraction, scale.
import type { TransformationParameter } from '../caffe/index.js';
import { createRandom, mixSeed } from './random.js';

/** transform_param of a Data layer (Caffe names in comments). */
export interface TransformParam {
  /** scale: multiplies every value after the mean is subtracted. */
  scale?: number;
  /** mirror: flip horizontally at random (TRAIN only here). */
  mirror?: boolean;
  /** crop_size: square crop, random in TRAIN, centred in TEST. */
  cropSize?: number;
  /** mean_file: a .binaryproto mean image of the records' C x H x W. */
  meanFile?: string;
  /** mean_value: one value, or one per channel. */
  meanValue?: number[];
}

export type Phase = 'TRAIN' | 'TEST';

/**
 * A Data layer's Caffe transform_param as the batch source takes it. `meanFile`, when given,
 * replaces the layer's own mean_file path (DIGITS points every net at its dataset's mean).
 */
export function transformFromCaffe(param: TransformationParameter | undefined, meanFile?: string): TransformParam {
  return {
    scale: param?.scale ?? 1,
    mirror: param?.mirror ?? false,
    cropSize: param?.crop_size || undefined,
    meanFile: param?.mean_file !== undefined ? (meanFile ?? param.mean_file) : undefined,
    meanValue: param?.mean_value.length ? [...param.mean_value] : undefined,
  };
}

/** The random choices for one image: mirrored or not, and where the crop window starts. */
export interface ItemChoice {
  mirror: boolean;
  top: number;
  left: number;
}

/** Record geometry and the resolved mean the transform works with. */
export interface TransformSpec {
  channels: number;
  height: number;
  width: number;
  cropSize: number;
  scale: number;
  /** C x H x W mean image (mean_file), or null. */
  meanImage: Float32Array | null;
  /** One mean per channel (mean_value), or null. */
  meanValues: Float32Array | null;
  mirror: boolean;
  phase: Phase;
}

/**
 * Draws the choices of every image of batch `batchIndex` in Caffe's order (mirror, then
 * crop row, then crop column). Seeded by (seed, batch), so a batch is the same whichever
 * worker builds it.
 */
export function chooseItems(spec: TransformSpec, seed: number, batchIndex: number, count: number): ItemChoice[] {
  const random = createRandom(mixSeed(seed, 0xba7c, batchIndex));
  const choices: ItemChoice[] = [];
  for (let i = 0; i < count; i++) {
    const mirror = spec.mirror && spec.phase === 'TRAIN' && random.int(2) === 1;
    let top = 0;
    let left = 0;
    if (spec.cropSize > 0) {
      if (spec.phase === 'TRAIN') {
        top = random.int(spec.height - spec.cropSize + 1);
        left = random.int(spec.width - spec.cropSize + 1);
      } else {
        top = Math.floor((spec.height - spec.cropSize) / 2);
        left = Math.floor((spec.width - spec.cropSize) / 2);
      }
    }
    choices.push({ mirror, top, left });
  }
  return choices;
}

/** Choices as [mirror 0/1, top, left] per image, the form they travel to a worker in. */
export function packChoices(choices: readonly ItemChoice[]): Int32Array {
  const packed = new Int32Array(choices.length * 3);
  choices.forEach((choice, i) => packed.set([choice.mirror ? 1 : 0, choice.top, choice.left], i * 3));
  return packed;
}

/** Image `index`'s choice from packChoices' form. */
export function unpackChoice(packed: Int32Array, index: number): ItemChoice {
  return { mirror: packed[index * 3] === 1, top: packed[index * 3 + 1]!, left: packed[index * 3 + 2]! };
}

/**
 * Writes one transformed image at `out[offset ...]` (C x outH x outW):
 *   out[c][h][w'] = (source[c][top + h][left + w] - mean) * scale,  w' = mirror ? outW - 1 - w : w
 * where mean is meanImage[c][top + h][left + w] (the mean is cropped with the image) or meanValues[c].
 * One pass per output row fuses crop, mirror, mean and scale; the loops are split by case so the
 * inner loop has no branches (scale 1, the common case, skips the multiply: x * 1 === x). This
 * runs for every value of every batch: 155k values per 227 x 227 colour crop.
 */
export function transformImage(spec: TransformSpec, source: Uint8Array, choice: ItemChoice, out: Float32Array, offset: number): void {
  const { channels, height, width, scale } = spec;
  const outHeight = spec.cropSize > 0 ? spec.cropSize : height;
  const outWidth = spec.cropSize > 0 ? spec.cropSize : width;
  const mean = spec.meanImage;
  for (let c = 0; c < channels; c++) {
    const constant = spec.meanValues !== null ? spec.meanValues[c]! : 0;
    for (let h = 0; h < outHeight; h++) {
      const from = (c * height + choice.top + h) * width + choice.left;
      const to = offset + (c * outHeight + h) * outWidth;
      if (mean !== null) meanImageRow(source, mean, from, out, to, outWidth, choice.mirror, scale);
      else constantRow(source, constant, from, out, to, outWidth, choice.mirror, scale);
    }
  }
}

/** One row minus the mean image's row: out[to + w'] = (source[from + w] - mean[from + w]) * scale. */
function meanImageRow(source: Uint8Array, mean: Float32Array, from: number, out: Float32Array, to: number, length: number, mirror: boolean, scale: number): void {
  const end = from + length;
  if (mirror) {
    let t = to + length - 1;
    if (scale === 1) for (let f = from; f < end; f++, t--) out[t] = source[f]! - mean[f]!;
    else for (let f = from; f < end; f++, t--) out[t] = (source[f]! - mean[f]!) * scale;
  } else {
    let t = to;
    if (scale === 1) for (let f = from; f < end; f++, t++) out[t] = source[f]! - mean[f]!;
    else for (let f = from; f < end; f++, t++) out[t] = (source[f]! - mean[f]!) * scale;
  }
}

/** One row minus a constant (mean_value, or 0): out[to + w'] = (source[from + w] - constant) * scale. */
function constantRow(source: Uint8Array, constant: number, from: number, out: Float32Array, to: number, length: number, mirror: boolean, scale: number): void {
  const end = from + length;
  if (mirror) {
    let t = to + length - 1;
    for (let f = from; f < end; f++, t--) out[t] = (source[f]! - constant) * scale;
  } else {
    let t = to;
    for (let f = from; f < end; f++, t++) out[t] = (source[f]! - constant) * scale;
  }
}
