// The mean image of the training split, summed exactly (int32, then float64) and saved as mean.binaryproto (CHW, BGR) and mean.png.
import { readFile, writeFile } from 'node:fs/promises';
import { sharp as loadSharp } from '../optional-deps.js';
import { readBinaryproto, writeBinaryproto } from '../caffe/binary.js';
import type { RawImage } from './resize.js';

/** numpy's around(): round half to even, as DIGITS rounds the mean before storing it. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Images summed in 32-bit integers before they are moved into the float64 total: 8,421,504 x 255
 * is the largest sum below 2^31, so the integer sums stay small integers (V8's fastest case) and
 * never overflow. Adding into Int32Array costs about half of adding into Float64Array.
 */
const IMAGES_PER_INTEGER_SUM = Math.floor(0x7fffffff / 255);

/** Sums resized images (H x W x C, the channel order they were decoded in), exactly. */
export class MeanAccumulator {
  private readonly sum: Float64Array;
  private readonly recent: Int32Array;
  private recentCount = 0;
  count = 0;

  constructor(readonly width: number, readonly height: number, readonly channels: number) {
    this.sum = new Float64Array(width * height * channels);
    this.recent = new Int32Array(width * height * channels);
  }

  add(image: RawImage): void {
    const pixels = image.pixels;
    const recent = this.recent;
    if (pixels.length !== recent.length) throw new Error(`mean of ${this.width}x${this.height}x${this.channels} images given ${pixels.length} bytes`);
    for (let i = 0; i < recent.length; i++) recent[i] = recent[i]! + pixels[i]!;
    this.count++;
    if (++this.recentCount === IMAGES_PER_INTEGER_SUM) this.flush();
  }

  private flush(): void {
    for (let i = 0; i < this.sum.length; i++) this.sum[i]! += this.recent[i]!;
    this.recent.fill(0);
    this.recentCount = 0;
  }

  /** The mean as 8-bit H x W x C pixels (sum / count rounded half to even). */
  meanImage(): RawImage {
    this.flush();
    const pixels = new Uint8Array(this.sum.length);
    for (let i = 0; i < pixels.length; i++) pixels[i] = roundHalfEven(this.sum[i]! / this.count);
    return { pixels, width: this.width, height: this.height, channels: this.channels };
  }
}

/** A C x H x W float image (the mean of a dataset, in the records' channel order). */
export interface MeanBlob {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** Writes a mean as DIGITS does: a .binaryproto BlobProto with legacy num = 1, channels, height, width and float data. */
export async function writeMeanBinaryproto(file: string, mean: MeanBlob): Promise<void> {
  await writeFile(file, writeBinaryproto({ shape: [1, mean.channels, mean.height, mean.width], data: mean.data }));
}

/**
 * Reads a .binaryproto holding one image: shape (1, C, H, W) or (C, H, W), given as the legacy
 * num/channels/height/width or as `shape`, float or double data. Throws CaffeBinaryError for
 * bytes that are no BlobProto, and Error for a blob that is not one image.
 */
export async function readMeanBinaryproto(file: string): Promise<MeanBlob> {
  const blob = readBinaryproto(await readFile(file), { file });
  const dims = blob.shape.length === 4 && blob.shape[0] === 1 ? blob.shape.slice(1) : blob.shape;
  if (dims.length !== 3 || blob.data.length === 0) throw new Error(`expected one C x H x W image but the blob's shape is [${blob.shape.join(', ')}]`);
  const [channels, height, width] = dims as [number, number, number];
  return { channels, height, width, data: blob.data };
}

/** The rounded mean as a C x H x W float blob in the records' order (colour reversed to BGR). */
export function meanBlobOf(mean: RawImage): MeanBlob {
  const { pixels, width, height, channels } = mean;
  const planeSize = width * height;
  const data = new Float32Array(planeSize * channels);
  for (let c = 0; c < channels; c++) {
    const plane = (channels - 1 - c) * planeSize;
    for (let i = 0; i < planeSize; i++) data[plane + i] = pixels[i * channels + c]!;
  }
  return { channels, height, width, data };
}

/** Writes `mean.binaryproto` and `mean.png` for an accumulated mean. */
export async function saveMean(accumulator: MeanAccumulator, binaryprotoFile: string, pngFile: string): Promise<void> {
  const mean = accumulator.meanImage();
  await writeMeanBinaryproto(binaryprotoFile, meanBlobOf(mean));
  const image = loadSharp()(mean.pixels, { raw: { width: mean.width, height: mean.height, channels: mean.channels as 1 | 3 } });
  await (mean.channels === 1 ? image.toColourspace('b-w') : image).png().toFile(pngFile);
}
