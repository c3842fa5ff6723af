// The dataset record: key `%08d_<label>` and a Caffe Datum value (raw CHW uint8 BGR, or a PNG/JPEG file), as DIGITS writes it.
import sharp, { type Sharp } from 'sharp';
import { encodeDatum } from '../caffe/datum.js';
import type { Encoding } from './options.js';
import type { RawImage } from './resize.js';

/*
 * Record layout (one LMDB database per split: train_db, val_db, test_db):
 *   key   = ASCII "%08d_%d": the record's position in the split (0-based, no gaps), '_', its label.
 *           Caffe's Data layer reads in key order, so the zero padding keeps numeric order.
 *   value = caffe.Datum {channels, height, width, label, data[, encoded]}
 *     encoding 'none': data = C x H x W uint8, colour channels in BGR order (Caffe's convention);
 *     encoding 'png' / 'jpg' (quality 90): data = the image file (RGB or grey), encoded = true.
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

/**
 * zlib level of PNG records. DIGITS (PIL) uses 6; level 1 with the same per-row adaptive filter
 * choice is still lossless, about 1.7x faster to write here, and the files about 1.5x larger on
 * noisy photos (see README.md).
 */
export const PNG_COMPRESSION_LEVEL = 1;

/**
 * Encodes a PNG (adaptive filtering, as PIL chooses a filter per row, at PNG_COMPRESSION_LEVEL)
 * or a JPEG of quality 90 (DIGITS' setting), keeping grey images single-channel.
 */
export async function encodeImageFile(image: RawImage, format: 'png' | 'jpg'): Promise<Buffer> {
  const raw = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 } });
  // Without this sharp would store a one-band image as RGB.
  return encoderOf(format)(image.channels === 1 ? raw.toColourspace('b-w') : raw).toBuffer();
}

/** Sets a sharp pipeline's output to the record file format. */
export function encoderOf(format: 'png' | 'jpg'): (pipeline: Sharp) => Sharp {
  return format === 'png'
    ? (pipeline) => pipeline.png({ compressionLevel: PNG_COMPRESSION_LEVEL, adaptiveFiltering: true })
    : (pipeline) => pipeline.jpeg({ quality: 90 });
}

/** Builds the Datum bytes for one resized image (already encoded when `image.encoded` is set). */
export async function encodeRecord(image: RawImage & { encoded?: Uint8Array }, label: number, encoding: Encoding): Promise<Uint8Array> {
  const shape = { channels: image.channels, height: image.height, width: image.width, label };
  if (encoding === 'none') return encodeDatum({ ...shape, data: toPlanarBgr(image) });
  return encodeDatum({ ...shape, data: image.encoded ?? (await encodeImageFile(image, encoding)), encoded: true });
}
