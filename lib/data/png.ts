// PNG writer for dataset records: 8-bit grey or RGB pixels, the Average filter on every row, deflated by Huffman coding (plus runs on flat images).
import { native } from '../native.js';

/*
 * Why our own writer: a record's PNG was the largest cost of an import (libvips/libspng tries
 * all five filters on every row, then runs a full deflate). For photographs the Average filter
 * alone leaves residuals about as small as the best per-row choice, and what compresses those
 * residuals is the Huffman coding (tables fitted to each block of 32 K bytes), not the search
 * for repeated strings, which finds little in photographic noise. So every byte is coded as a
 * literal (as zlib's Z_HUFFMAN_ONLY does), or, when at least a quarter of the residuals are 0,
 * runs of a repeated byte are coded too (as Z_RLE does) — flat areas (a plain background) where
 * runs pay off and Huffman alone could not code a byte in under one bit. No search for matches.
 *
 * The whole file is written by our C++ (native/cpu/png/png_encode.cpp) on libuv's thread pool:
 * filter, Huffman tables, deflate blocks, Adler-32 and chunk CRCs. It does only what these two
 * strategies need, so it is several times faster than filtering here and deflating with
 * node:zlib, which did the same work in about 1.1 ms of CPU per 256x256 RGB image; the records
 * are as small. The result is an ordinary PNG (colour type 0 or 2, bit depth 8, not
 * interlaced, one IDAT) that any decoder reads.
 */

/** The native entry point this file calls (native/binding/ops/png.cpp). */
interface PngEntries {
  encodePng(pixels: Uint8Array, width: number, height: number, channels: number): Promise<Buffer>;
}
const entries = native as unknown as PngEntries;

/**
 * Encodes 8-bit grey (channels 1) or RGB (channels 3) pixels (height rows of width x channels
 * bytes) as a PNG, off the event loop, beside the decoding of other images. `pixels` must stay
 * unchanged until the promise settles. Bad arguments reject with a TypeError or RangeError
 * (code INVALID_ARGUMENT).
 */
export async function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  return entries.encodePng(pixels, width, height, channels);
}
