// Caffe's DataTransformer for one image (src/caffe/data_transformer.cpp): crop, mirror, mean subtraction, scale.
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

/**
 * Writes one transformed image at `out[offset ...]` (C x outH x outW):
 *   out[c][h][w'] = (source[c][top + h][left + w] - mean) * scale,  w' = mirror ? outW - 1 - w : w
 * where mean is meanImage[c][top + h][left + w] (the mean is cropped with the image) or meanValues[c].
 * Loops are split by case so the inner loop has no branches: this runs for every pixel of every batch.
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
      if (mean !== null) {
        if (choice.mirror) for (let w = 0, t = to + outWidth - 1; w < outWidth; w++, t--) out[t] = (source[from + w]! - mean[from + w]!) * scale;
        else for (let w = 0; w < outWidth; w++) out[to + w] = (source[from + w]! - mean[from + w]!) * scale;
      } else if (choice.mirror) {
        for (let w = 0, t = to + outWidth - 1; w < outWidth; w++, t--) out[t] = (source[from + w]! - constant) * scale;
      } else {
        for (let w = 0; w < outWidth; w++) out[to + w] = (source[from + w]! - constant) * scale;
      }
    }
  }
}
