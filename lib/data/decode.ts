// Image decoding for import: any supported file to 8-bit grey or RGB pixels, EXIF-rotated, alpha composited on white.
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Sharp } from 'sharp';
import { sharp as loadSharp } from '../optional-deps.js';
import { CudnetError } from '../errors.js';
import { decodeBmp, isBmp } from './bmp.js';
import { describeWarningFailure, FAIL_ON_WARNING } from './damage.js';
import { headerSize } from './header.js';
import { decodeNetpbm, isNetpbm } from './netpbm.js';
import type { Random } from './random.js';
import { cropAndPad, planResize, resizeImage, type RawImage, type ResizeMode } from './resize.js';

/** Extensions a folder scan picks up (case-insensitive): DIGITS' five plus the other formats sharp reads. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.jpe', '.bmp', '.ppm', '.pgm', '.webp', '.gif', '.tif', '.tiff'];

/** sharp's own default limit (0x3FFF x 0x3FFF): larger images are refused before decoding. */
export const DEFAULT_MAX_INPUT_PIXELS = 268402689;

/**
 * Why an image (or a folder) was skipped; stable names for the report and the manifest. missing: not
 * found (removed during the import, or a symbolic link to nothing); symlink-loop: a link that leads
 * back to itself or to a folder above it; not-a-file: a named pipe, socket, device or folder where
 * an image was expected; permission-denied: a file or folder that cannot be read; bad-filename: a
 * name that is not valid UTF-8.
 */
export type SkipReason =
  | 'missing' | 'empty' | 'too-large' | 'unreadable' | 'bad-line' | 'unknown-label'
  | 'symlink-loop' | 'not-a-file' | 'permission-denied' | 'bad-filename';

/** A decoding failure with the reason the import reports. */
export class ImageError extends Error {
  readonly reason: SkipReason;
  constructor(reason: SkipReason, message: string) {
    super(message);
    this.name = 'ImageError';
    this.reason = reason;
  }
}

/** A file that is not there; also a file the import may not read (CreateDatasetHooks.allowPath), in the same words. */
export function missingFileError(): ImageError {
  return new ImageError('missing', 'file not found (removed during import?)');
}

/** Turns fs and sharp failures into an ImageError with a reason. */
export function toImageError(error: unknown): ImageError {
  if (error instanceof ImageError) return error;
  // A missing package is not a fault of this image: it stops the import with its own message.
  if (error instanceof CudnetError && error.code === 'DEPENDENCY_MISSING') throw error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // sharp reading a path itself reports a vanished file as "Input file is missing".
  if (code === 'ENOENT' || /^Input file is missing/.test(message)) return missingFileError();
  if (code === 'ELOOP') return new ImageError('symlink-loop', 'a symbolic link that leads back to itself');
  if (code === 'EACCES' || code === 'EPERM') return new ImageError('permission-denied', 'permission denied: the file cannot be read');
  if (code === 'EISDIR') return new ImageError('not-a-file', 'a folder, not an image file');
  if (/pixel limit/i.test(message)) return new ImageError('too-large', message);
  // libvips may repeat a line (an error and the same text as a warning): each once, on one line.
  const lines = [...new Set(message.split('\n').map((line) => line.trim()).filter((line) => line !== ''))];
  return new ImageError('unreadable', lines.join('; ') || message);
}

/** A failed decode of `bytes` as an ImageError, with libvips' bare "warning treated as error" explained. */
async function decodeFailure(error: unknown, bytes: Uint8Array, maxPixels: number): Promise<ImageError> {
  const message = error instanceof Error ? error.message : '';
  if (!(error instanceof ImageError) && message.startsWith(FAIL_ON_WARNING))
    return new ImageError('unreadable', await describeWarningFailure(message, bytes, maxPixels));
  return toImageError(error);
}

/** What a path is when it is not a regular file, for the skip message. */
export function describeNonFile(info: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): string {
  if (info.isDirectory()) return 'a folder, not an image file';
  if (info.isFIFO()) return 'a named pipe (FIFO), not a regular file';
  if (info.isSocket()) return 'a socket, not a regular file';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device, not a regular file';
  return 'not a regular file';
}

/**
 * Opens a file for reading only if it is a regular file. The open does not block (O_NONBLOCK: a
 * named pipe with no writer would otherwise hold a libuv thread forever) and the check is made on
 * the open file (fstat), so a file swapped for a pipe between a scan and the read is refused too.
 */
async function openRegularFile(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw toImageError(error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ImageError('not-a-file', describeNonFile(info));
    return handle;
  } catch (error) {
    await handle.close();
    throw toImageError(error);
  }
}

/** A regular file's bytes (never blocking on a pipe or device); throws ImageError. */
export async function readImageFile(file: string): Promise<Buffer> {
  const handle = await openRegularFile(file);
  try {
    return await handle.readFile();
  } catch (error) {
    throw toImageError(error);
  } finally {
    await handle.close();
  }
}

/**
 * Greyscale as PIL's convert('L') computes it (the conversion DIGITS uses):
 * L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16, i.e. 0.299 R + 0.587 G + 0.114 B rounded.
 */
export function rgbToGrey(rgb: Uint8Array, pixelCount: number): Uint8Array {
  const grey = new Uint8Array(pixelCount);
  for (let i = 0, j = 0; i < pixelCount; i++, j += 3) {
    grey[i] = (rgb[j]! * 19595 + rgb[j + 1]! * 38470 + rgb[j + 2]! * 7471 + 0x8000) >>> 16;
  }
  return grey;
}

function greyToRgb(grey: Uint8Array, pixelCount: number): Uint8Array {
  const rgb = new Uint8Array(pixelCount * 3);
  for (let i = 0, j = 0; i < pixelCount; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = grey[i]!;
  return rgb;
}

/** Converts 1- or 3-channel pixels to the requested channel count. */
export function convertChannels(image: RawImage, channels: 1 | 3): RawImage {
  if (image.channels === channels) return image;
  const count = image.width * image.height;
  const pixels = channels === 1 ? rgbToGrey(image.pixels, count) : greyToRgb(image.pixels, count);
  return { ...image, pixels, channels };
}

/** Formats sharp cannot read, decoded by our own readers; null when sharp should take the file. */
function decodeOwnFormat(bytes: Uint8Array, maxPixels: number): RawImage | null {
  if (isBmp(bytes)) return decodeBmp(bytes, maxPixels);
  if (isNetpbm(bytes)) return decodeNetpbm(bytes, maxPixels);
  return null;
}

/** sharp path: apply EXIF orientation, composite any alpha on white, and emit 8-bit sRGB. */
async function decodeWithSharp(bytes: Uint8Array, maxPixels: number): Promise<RawImage> {
  const { data, info } = await loadSharp()(bytes, { limitInputPixels: maxPixels, failOn: 'warning' })
    .rotate()
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height, channels: info.channels };
}

/** Decodes image bytes to `channels` (1 = grey, 3 = RGB); throws ImageError. */
export async function decodeImageBytes(bytes: Uint8Array, channels: 1 | 3, maxPixels = DEFAULT_MAX_INPUT_PIXELS): Promise<RawImage> {
  if (bytes.length === 0) throw new ImageError('empty', 'file is empty (0 bytes)');
  try {
    const image = decodeOwnFormat(bytes, maxPixels) ?? (await decodeWithSharp(bytes, maxPixels));
    return convertChannels(image, channels);
  } catch (error) {
    throw await decodeFailure(error, bytes, maxPixels);
  }
}

/** Reads and decodes one file; throws ImageError (a file that vanished reports 'missing'). */
export async function decodeImageFile(path: string, channels: 1 | 3, maxPixels = DEFAULT_MAX_INPUT_PIXELS): Promise<RawImage> {
  return decodeImageBytes(await readImageFile(path), channels, maxPixels);
}

/** Bytes a probe reads from the start of a file; a smaller file is read whole. */
const PROBE_HEAD_BYTES = 64 * 1024;

/**
 * Cheap validity check before splitting: reads only the header (PNG's and JPEG's in JavaScript,
 * header.ts; other formats through sharp's metadata, or our readers' headers) so empty, missing, non-image and oversized files never count toward
 * a class. Damage deeper in a file (a truncated JPEG) is found when it is decoded.
 * sharp reads the header from the bytes already read (a file given by path is opened again
 * by each format's sniffer); a header that lies beyond them (a TIFF's directory at the end
 * of a large file) is read from the file.
 */
export async function probeImageFile(path: string, maxPixels = DEFAULT_MAX_INPUT_PIXELS): Promise<void> {
  let head: Buffer;
  let whole: boolean;
  const handle = await openRegularFile(path);
  try {
    // One read says both: fewer bytes than asked for means the whole file was read.
    const buffer = Buffer.allocUnsafe(PROBE_HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead === 0) throw new ImageError('empty', 'file is empty (0 bytes)');
    whole = bytesRead < PROBE_HEAD_BYTES;
    head = buffer.subarray(0, bytesRead);
  } catch (error) {
    throw toImageError(error);
  } finally {
    await handle.close();
  }
  if (isBmp(head) || isNetpbm(head)) return probeOwnFormat(path, maxPixels);
  const size = headerSize(head);
  if (size !== undefined) {
    if (maxPixels > 0 && size.width * size.height > maxPixels) throw new ImageError('too-large', `Input image exceeds pixel limit (${size.width}x${size.height})`);
    return;
  }
  try {
    const metadata = await loadSharp()(head, { limitInputPixels: maxPixels }).metadata().catch((error: unknown) => {
      if (whole) throw error;
      return loadSharp()(path, { limitInputPixels: maxPixels }).metadata();
    });
    const pixels = (metadata.width ?? 0) * (metadata.height ?? 0);
    if (pixels === 0) throw new ImageError('unreadable', 'image has no dimensions');
    if (maxPixels > 0 && pixels > maxPixels) throw new ImageError('too-large', `Input image exceeds pixel limit (${metadata.width}x${metadata.height})`);
  } catch (error) {
    throw toImageError(error);
  }
}

/** Our own formats are small to decode, so their probe is a full decode. */
async function probeOwnFormat(path: string, maxPixels: number): Promise<void> {
  await decodeImageFile(path, 3, maxPixels);
}

/** Extensions our own readers take (sharp reads neither BMP nor, through the same call, every Netpbm variant). */
const OWN_FORMAT_EXTENSIONS = new Set(['.bmp', '.ppm', '.pgm']);

/**
 * The import's hot path for colour datasets: the file is read, one sharp pipeline decodes it, applies EXIF
 * orientation, composites alpha on white, converts to sRGB and scales with the bilinear filter,
 * returning width x height x 3 bytes (fill/half_crop noise bands and crops are then applied to
 * the scaled pixels as resizeImage does). Same pixels as decodeImageFile + resizeImage, without
 * the full-size intermediate; for reductions of 2x or more libvips decodes JPEGs at a reduced
 * size first (shrink-on-load). Grey datasets and our own formats take that two-step path,
 * since grey is converted (PIL's formula) before scaling. With `encode` (the record's PNG or
 * JPEG settings), an image that needs no crop or padding comes back encoded by the same call,
 * for splits whose pixels are not summed into the mean. Throws ImageError.
 */
export async function decodeResizedFile(
  file: string, channels: 1 | 3, width: number, height: number, mode: ResizeMode, random: Random,
  maxPixels = DEFAULT_MAX_INPUT_PIXELS, encode?: (pipeline: Sharp) => Sharp,
): Promise<ResizedImage> {
  const bytes = await readImageFile(file);
  const twoStep = async (): Promise<RawImage> => resizeImage(await decodeImageBytes(bytes, channels, maxPixels), width, height, mode, random);
  if (channels === 1 || OWN_FORMAT_EXTENSIONS.has(path.extname(file).toLowerCase())) return twoStep();
  if (bytes.length === 0) throw new ImageError('empty', 'file is empty (0 bytes)');
  try {
    // From the bytes, not the path: given a path, libvips opens the file once per format it sniffs.
    const open = (): Sharp => loadSharp()(bytes, { limitInputPixels: maxPixels, failOn: 'warning', autoOrient: true });
    let plan = planResize(width, height, width, height, mode);
    if (mode !== 'squash') {
      const oriented = (await open().metadata()).autoOrient;
      plan = planResize(oriented.width, oriented.height, width, height, mode);
    }
    const scaling = open()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .resize(plan.resizeWidth, plan.resizeHeight, { fit: 'fill', kernel: 'linear' });
    const final = plan.resizeWidth === width && plan.resizeHeight === height;
    if (encode !== undefined && final) {
      // Nothing left to do on the pixels: the same call writes the record's file.
      return { pixels: new Uint8Array(0), width, height, channels: 3, encoded: await encode(scaling).toBuffer() };
    }
    const { data, info } = await scaling.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const scaled = { pixels: data, width: info.width, height: info.height, channels: info.channels };
    if (scaled.channels !== 3) throw new ImageError('unreadable', `decoded to ${scaled.channels} channels`);
    return final ? scaled : cropAndPad(scaled, plan, width, height, random);
  } catch (error) {
    // A BMP or Netpbm file under another extension: sharp does not know the format, our readers may.
    if (/unsupported image format/i.test((error as Error)?.message ?? '')) return twoStep();
    throw await decodeFailure(error, bytes, maxPixels);
  }
}

/** A resized image: its pixels, or, when decodeResizedFile was asked to encode and could, the encoded file (pixels empty). */
export interface ResizedImage extends RawImage {
  encoded?: Buffer;
}
