// small-png.ts — small plain PNGs (a 28x28 digit) decoded on the calling thread.
//
// sharp's fixed cost per image (about 0.1 ms of the event loop to hand its options to libvips, then
// about 0.2 ms of a libuv thread) dwarfs decoding a few hundred bytes: for a service classifying
// thousands of small images a second it was half the machine. Here such an image is inflated by
// Node's zlib into a buffer of exactly the image's size and unfiltered in place, in microseconds.
// (fast-png decodes the same files, but its streaming inflater allocates hundreds of kilobytes per
// image, which made V8 collect garbage every hundred images; this allocates the image and no more.)
// Only images whose pixels sharp would pass through unchanged take this path: 8-bit grey, RGB or
// palette colour, not interlaced, no transparency, no colour profile, gamma or EXIF chunk, at most
// SMALL_PNG_MAX_PIXELS, every chunk's CRC right, the file complete. Anything else, and anything
// malformed, returns null for sharp to decode (and to word any error).
import zlib from 'node:zlib';
import { convertChannels } from '../data/decode.js';
import type { RawImage } from '../data/resize.js';

/** Decoding stays well under 0.1 ms of the event loop up to this size. */
export const SMALL_PNG_MAX_PIXELS = 64 * 64;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Chunks after which sharp would not return the stored pixels as they are. */
const PIXEL_CHANGING_CHUNKS = new Set(['tRNS', 'iCCP', 'gAMA', 'cHRM', 'sRGB', 'sBIT', 'eXIf', 'acTL']);
const GREY = 0, RGB = 2, PALETTE = 3;
const crc32: ((data: Uint8Array) => number) | undefined = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** The image as `channels` (1 grey, 3 RGB) 8-bit pixels, or null when sharp should decode it. */
export function decodeSmallPng(bytes: Uint8Array, channels: 1 | 3): RawImage | null {
  if (!crc32 || bytes.length < 45 || SIGNATURE.some((value, i) => bytes[i] !== value)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || view.getUint32(12) !== 0x49484452) return null; // IHDR, 13 bytes, first
  const width = view.getUint32(16), height = view.getUint32(20);
  const [depth, colourType, compression, filter, interlace] = bytes.subarray(24, 29);
  if (depth !== 8 || compression !== 0 || filter !== 0 || interlace !== 0) return null;
  if (colourType !== GREY && colourType !== RGB && colourType !== PALETTE) return null;
  if (width === 0 || height === 0 || width * height > SMALL_PNG_MAX_PIXELS) return null;
  const stored = colourType === RGB ? 3 : 1;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let offset = 8, ended = false;
  while (!ended) {
    if (offset + 12 > bytes.length) return null;
    const length = view.getUint32(offset);
    if (offset + 12 + length > bytes.length) return null;
    const type = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!, bytes[offset + 6]!, bytes[offset + 7]!);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)) return null;
    if (PIXEL_CHANGING_CHUNKS.has(type)) return null;
    if (type === 'PLTE') palette = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    offset += 12 + length;
  }
  if (colourType === PALETTE && (!palette || palette.length % 3 !== 0)) return null;
  const stride = width * stored, expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), { chunkSize: Math.max(64, expected), maxOutputLength: expected });
  } catch {
    return null;
  }
  if (raw.length !== expected) return null;
  const pixels = new Uint8Array(height * stride);
  if (!unfilter(raw, pixels, height, stride, stored)) return null;
  let image: RawImage = { pixels, width, height, channels: stored };
  if (colourType === PALETTE) {
    const count = width * height, entries = palette!.length / 3, rgb = new Uint8Array(count * 3);
    for (let i = 0; i < count; i++) {
      const index = pixels[i]!;
      if (index >= entries) return null;
      rgb[3 * i] = palette![3 * index]!;
      rgb[3 * i + 1] = palette![3 * index + 1]!;
      rgb[3 * i + 2] = palette![3 * index + 2]!;
    }
    image = { pixels: rgb, width, height, channels: 3 };
  }
  return convertChannels(image, channels);
}

/** PNG's five row filters undone (bpp bytes per pixel); false on an unknown filter type. */
function unfilter(raw: Uint8Array, out: Uint8Array, height: number, stride: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)]!, from = y * (stride + 1) + 1, row = y * stride, up = row - stride;
    for (let x = 0; x < stride; x++) {
      const value = raw[from + x]!;
      const a = x >= bpp ? out[row + x - bpp]! : 0, b = y > 0 ? out[up + x]! : 0;
      let predicted: number;
      if (type === 0) predicted = 0;
      else if (type === 1) predicted = a;
      else if (type === 2) predicted = b;
      else if (type === 3) predicted = (a + b) >>> 1;
      else if (type === 4) {
        const c = x >= bpp && y > 0 ? out[up + x - bpp]! : 0;
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else return false;
      out[row + x] = (value + predicted) & 0xff;
    }
  }
  return true;
}
