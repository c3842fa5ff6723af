// The dataset record: key `%08d_<label>` and a Caffe Datum value (raw CHW uint8 BGR, or a PNG/JPEG file), as DIGITS writes it.
import type { Sharp } from 'sharp';
import { sharp as loadSharp } from '../optional-deps.js';
import { encodeDatum } from '../caffe/datum.js';
import type { Encoding, PngCompression } from './options.js';
import { encodePng } from './png.js';
import type { RawImage } from './resize.js';

/*
 * Record layout (one LMDB database per split: train_db, val_db, test_db):
 *   key   = ASCII "%08d_%d": the record's position in the split (0-based, no gaps), '_', its label.
 *           Caffe's Data layer reads in key order, so the zero padding keeps numeric order.
 *   value = caffe.Datum {channels, height, width, label, data[, encoded]}
 *     encoding 'none': data = C x H x W uint8, colour channels in BGR order (Caffe's convention);
 *     encoding 'png' / 'jpg' (quality 90): data = the image file (RGB or grey), encoded = true;
 *     PNG compression 'fast' (png.ts) or 'small' (DIGITS' zlib level 6), see PngCompression.
 */

/** The LMDB key of the record at `index` with `label`. */
export function recordKey(index: number, label: number): Buffer {
  return Buffer.from(`${String(index).padStart(8, '0')}_${label}`, 'ascii');
}

/** Interleaved H x W x C (RGB) to planar C x H x W with the channel order reversed (RGB becomes BGR). */
export function toPlanarBgr(image: RawImage): Uint8Array {
  const { pixels, width, height, channels } = image;
  const planeSize = width * height;
  const planar = new Uint8Array(planeSize * channels);
  for (let c = 0; c < channels; c++) {
    const plane = (channels - 1 - c) * planeSize;
    for (let i = 0, j = c; i < planeSize; i++, j += channels) planar[plane + i] = pixels[j]!;
  }
  return planar;
}

/** PNG settings of the 'small' records: DIGITS' (PIL's) zlib level 6 with a filter chosen per row. */
const SMALL_PNG = { compressionLevel: 6, adaptiveFiltering: true } as const;

/**
 * How a record's file is written inside the resizing pipeline (sharp), or undefined when it is
 * written from the pixels instead ('fast' PNG: our writer, png.ts).
 */
export function pipelineEncoder(format: 'png' | 'jpg', pngCompression: PngCompression): ((pipeline: Sharp) => Sharp) | undefined {
  if (format === 'jpg') return (pipeline) => pipeline.jpeg({ quality: 90 });
  return pngCompression === 'small' ? (pipeline) => pipeline.png(SMALL_PNG) : undefined;
}

/**
 * Encodes a PNG (see PngCompression) or a JPEG of quality 90 (DIGITS' setting) from pixels,
 * keeping grey images single-channel.
 */
export async function encodeImageFile(image: RawImage, format: 'png' | 'jpg', pngCompression: PngCompression = 'fast'): Promise<Buffer> {
  const channels = image.channels as 1 | 3;
  const encode = pipelineEncoder(format, pngCompression);
  if (encode === undefined) return encodePng(image.pixels, image.width, image.height, channels);
  const raw = loadSharp()(image.pixels, { raw: { width: image.width, height: image.height, channels } });
  // Without this sharp would store a one-band image as RGB.
  return encode(channels === 1 ? raw.toColourspace('b-w') : raw).toBuffer();
}

/** Builds the Datum bytes for one resized image (already encoded when `image.encoded` is set). */
export async function encodeRecord(
  image: RawImage & { encoded?: Uint8Array }, label: number, encoding: Encoding, pngCompression: PngCompression = 'fast',
): Promise<Uint8Array> {
  const shape = { channels: image.channels, height: image.height, width: image.width, label };
  if (encoding === 'none') return encodeDatum({ ...shape, data: toPlanarBgr(image) });
  return encodeDatum({ ...shape, data: image.encoded ?? (await encodeImageFile(image, encoding, pngCompression)), encoded: true });
}
