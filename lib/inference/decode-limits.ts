// decode-limits.ts — what one request's image may cost: a pixel budget checked from the header before decoding, and a memory budget shared by the decodes in flight.
//
// A few hundred kilobytes of PNG can declare 16000 x 16000 pixels: decoded, 768 MB of RGB for one
// request (and more for libvips' working copies). So the size is read first, from the header (PNG and
// JPEG in JavaScript, other formats through sharp's metadata, which reads no pixels), and an image
// over the model's maxInputPixels is refused before any pixel is decoded. Images within the limit
// still cost memory in proportion to their pixels; a process-wide gate lets decodes run together only
// while their estimated memory fits one budget, so a burst of large images waits instead of
// multiplying the peak.
import os from 'node:os';
import { headerSize } from '../data/header.js';
import { isBmp } from '../data/bmp.js';
import { isNetpbm } from '../data/netpbm.js';
import { sharp as loadSharp } from '../optional-deps.js';
import { inferenceError } from './errors.js';

/** loadModel's default maxInputPixels: 40 megapixels (a 7300 x 5500 photo), far beyond any net's input. */
export const DEFAULT_MODEL_MAX_INPUT_PIXELS = 40_000_000;

/**
 * Bytes a decode is counted for, per pixel: the decoded image as libvips works on it (up to 4 bytes
 * a pixel with alpha), the 3-byte RGB copy handed to JavaScript, and a margin for converted copies.
 */
const BYTES_PER_PIXEL = 8;

/**
 * Limits the memory of decodes in flight: each takes its estimate from the budget and gives it back
 * when done; one that does not fit waits its turn (first come, first served, so a large image is not
 * overtaken for ever by small ones). An image larger than the whole budget runs alone.
 */
export class MemoryGate {
  private inUse = 0;
  private readonly waiting: { bytes: number; start: () => void }[] = [];

  constructor(readonly budget: number) {}

  /** Bytes taken by the decodes running now. */
  get used(): number {
    return this.inUse;
  }

  /** Waits until `bytes` fit, takes them, and resolves with the function that gives them back (once). */
  async acquire(bytes: number): Promise<() => void> {
    const amount = Math.min(Math.max(0, bytes), this.budget);
    if (this.waiting.length > 0 || this.inUse + amount > this.budget) await new Promise<void>((start) => this.waiting.push({ bytes: amount, start }));
    else this.inUse += amount;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= amount;
      this.startWaiting();
    };
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.inUse + this.waiting[0]!.bytes <= this.budget) {
      const next = this.waiting.shift()!;
      this.inUse += next.bytes;
      next.start();
    }
  }
}

/** A quarter of the memory this process may use (the cgroup's limit when lower than the machine's), between 256 MiB and 2 GiB. */
function defaultDecodeBudget(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const available = constrained !== undefined && constrained > 0 ? Math.min(constrained, os.totalmem()) : os.totalmem();
  return Math.min(2 * 2 ** 30, Math.max(256 * 2 ** 20, Math.floor(available / 4)));
}

/** The one gate every model's decodes share: memory is the process's. */
export const decodeGate = new MemoryGate(defaultDecodeBudget());

/** Width and height from the header (no pixels decoded), or undefined for our own formats, whose readers check their size themselves. */
async function headerDimensions(bytes: Uint8Array): Promise<{ width: number; height: number } | undefined> {
  const size = headerSize(bytes);
  if (size !== undefined) return size;
  if (isBmp(bytes) || isNetpbm(bytes)) return undefined;
  // sharp reads the header only; bytes it cannot make sense of (it throws at once for an empty
  // buffer) are left to the decode to word.
  const sharp = loadSharp();
  try {
    const metadata = await sharp(bytes).metadata();
    if (metadata.width === undefined || metadata.height === undefined) return undefined;
    return { width: metadata.width, height: metadata.height };
  } catch {
    return undefined;
  }
}

/**
 * Checks the image's declared size against `maxPixels` before decoding (CudnetError IMAGE_TOO_LARGE)
 * and returns the memory its decode is counted for.
 */
export async function checkImageSize(bytes: Uint8Array, maxPixels: number): Promise<number> {
  const size = await headerDimensions(bytes);
  // BMP and Netpbm store pixels uncompressed: their decoded size is about their file's.
  if (size === undefined) return bytes.length * 2;
  return checkPixelCount(size, maxPixels) * BYTES_PER_PIXEL;
}

/** Refuses an image of more than `maxPixels` pixels with IMAGE_TOO_LARGE; returns its pixel count. */
export function checkPixelCount(size: { width: number; height: number }, maxPixels: number): number {
  const pixels = size.width * size.height;
  if (pixels > maxPixels) {
    const megapixels = (count: number) => `${Number((count / 1e6).toPrecision(3))} Mpx`;
    throw inferenceError('IMAGE_TOO_LARGE',
      `image is ${size.width}x${size.height} (${megapixels(pixels)}), more than the ${megapixels(maxPixels)} this model decodes (loadModel's maxInputPixels); it was not decoded`);
  }
  return pixels;
}

let sharpConfigured = false;

/**
 * Turns off libvips' operation cache, once, before the first decode: every image classified is new,
 * so the cache would only keep recent images' memory alive. (The setting is sharp's, process-wide;
 * a dataset import switches it off too while it runs.)
 */
export function configureSharpForInference(): void {
  if (sharpConfigured) return;
  loadSharp().cache(false);
  sharpConfigured = true;
}
