// PNG writer for dataset records: 8-bit grey or RGB pixels, the Average filter on every row, deflated by Huffman coding (plus runs on flat images).
import zlib from 'node:zlib';
import { promisify } from 'node:util';

/*
 * Why our own writer: a record's PNG was the largest cost of an import (libvips/libspng tries
 * all five filters on every row, then runs a full deflate). For photographs the Average filter
 * alone leaves residuals about as small as the best per-row choice, and what compresses those
 * residuals is the Huffman coding (tables fitted to each block of 32 K symbols), not the search
 * for repeated strings, which finds little in photographic noise. So the filtered rows go
 * through zlib with Z_HUFFMAN_ONLY, or with Z_RLE (Huffman plus runs of a repeated byte) when
 * at least a quarter of the residuals are 0 — flat areas (a plain background) where runs pay
 * off and Huffman alone could not code a byte in under one bit. Neither strategy searches for
 * matches, which is most of a normal deflate's time. The result is an ordinary PNG (colour
 * type 0 or 2, bit depth 8, not interlaced) that any decoder reads.
 */

const deflate = promisify(zlib.deflate);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG filter type 3: each byte minus the floor of the mean of the byte to its left (one pixel back) and the byte above. */
const FILTER_AVERAGE = 3;
/**
 * The level only switches compression on (neither strategy looks at it); memLevel 9 makes
 * blocks of 32 K symbols (fewer Huffman tables to send, measured slightly smaller and faster);
 * windowBits stays at zlib's 15: with a smaller window zlib slides it far more often, which
 * measured slower even though neither strategy looks further back than one byte.
 */
const HUFFMAN_ONLY: zlib.ZlibOptions = { level: 6, memLevel: 9, strategy: zlib.constants.Z_HUFFMAN_ONLY };
const RUN_LENGTH: zlib.ZlibOptions = { level: 6, memLevel: 9, strategy: zlib.constants.Z_RLE };

const crcTable = ((): Int32Array => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 as PNG chunks use it; node:zlib's when this Node has one (20.15+), else a table. */
function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native !== undefined) return native(bytes);
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** The filtered rows of an image and how many of their residual bytes are 0. */
export interface FilteredRows {
  rows: Uint8Array<ArrayBuffer>;
  zeros: number;
}

/** Aligned scratch rows of averageFiltered for one row length, kept for the next image. */
interface ScratchRows {
  stride: number;
  channels: number;
  current: Uint8Array;
  left: Uint8Array;
  above: Uint8Array;
  result: Uint8Array;
  currentWords: Uint32Array;
  leftWords: Uint32Array;
  aboveWords: Uint32Array;
  resultWords: Uint32Array;
}
let scratch: ScratchRows | undefined;

/** Scratch rows rounded up to whole words; past the row's end they hold 0 and are never written. */
function scratchRows(stride: number, channels: number): ScratchRows {
  if (scratch?.stride !== stride || scratch.channels !== channels) {
    const bytes = ((stride + 3) >>> 2) * 4;
    const [current, left, above, result] = [0, 1, 2, 3].map(() => new Uint8Array(bytes)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    scratch = {
      stride, channels, current, left, above, result,
      currentWords: new Uint32Array(current.buffer), leftWords: new Uint32Array(left.buffer),
      aboveWords: new Uint32Array(above.buffer), resultWords: new Uint32Array(result.buffer),
    };
  }
  return scratch;
}

/**
 * Rows of `pixels` (height x width x channels, interleaved) Average-filtered, each preceded by
 * its filter-type byte, as the IDAT stream wants them before compression, written to `out`.
 * Four bytes are handled at once in 32-bit words (floor of the mean and the subtraction are
 * bytewise with no carry between bytes); rows are staged in aligned scratch rows so any width
 * works.
 */
export function averageFiltered(
  pixels: Uint8Array, width: number, height: number, channels: number, out: Uint8Array<ArrayBuffer> = new Uint8Array(height * (width * channels + 1)),
): FilteredRows {
  const stride = width * channels;
  const words = (stride + 3) >>> 2;
  const { current, left, above, result, currentWords, leftWords, aboveWords, resultWords } = scratchRows(stride, channels);
  above.fill(0); // no row above the first
  let zeroWords = 0;
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    current.set(row);
    left.set(row.subarray(0, stride - channels), channels); // left[0 .. channels) stays 0: no pixel to the left
    for (let i = 0; i < words; i++) {
      const a = leftWords[i]!;
      const b = aboveWords[i]!; // all zero for the first row: no row above
      const mean = (a & b) + (((a ^ b) & 0xfefefefe) >>> 1);
      const x = currentWords[i]!;
      const residual = ((x | 0x80808080) - (mean & 0x7f7f7f7f)) ^ ((x ^ ~mean) & 0x80808080);
      resultWords[i] = residual;
      // High bit of each byte that is 0, then the count of those (0..4) by a multiply.
      const zeroBytes = ~(((residual & 0x7f7f7f7f) + 0x7f7f7f7f) | residual | 0x7f7f7f7f);
      zeroWords += Math.imul(zeroBytes >>> 7, 0x01010101) >>> 24;
    }
    const at = y * (stride + 1);
    out[at] = FILTER_AVERAGE;
    out.set(result.subarray(0, stride), at + 1);
    above.set(row);
  }
  // The scratch rows' padding past the end of a row (when the row is not a whole number of
  // words) is always 0 - 0 = 0, and was counted in every row.
  return { rows: out, zeros: zeroWords - (words * 4 - stride) * height };
}

/**
 * Filtered rows are large (197 KB for 256 x 256 RGB) and live only until deflated; reusing
 * them keeps that memory from adding to what wakes the garbage collector.
 */
const spareBuffers: Uint8Array<ArrayBuffer>[] = [];
const MAX_SPARE_BUFFERS = 16;

function takeBuffer(length: number): Uint8Array<ArrayBuffer> {
  for (let spare = spareBuffers.pop(); spare !== undefined; spare = spareBuffers.pop()) {
    if (spare.length === length) return spare;
  }
  return new Uint8Array(length);
}

/** Writes one chunk (length, type, data, CRC of type and data) at `at`; returns where the next one starts. */
function writeChunk(png: Buffer, at: number, type: string, data: Uint8Array): number {
  png.writeUInt32BE(data.length, at);
  png.write(type, at + 4, 'ascii');
  png.set(data, at + 8);
  png.writeUInt32BE(crc32(png.subarray(at + 4, at + 8 + data.length)), at + 8 + data.length);
  return at + 12 + data.length;
}

/**
 * Encodes 8-bit grey (channels 1) or RGB (channels 3) pixels as a PNG. The deflate runs on
 * libuv's thread pool, beside the decoding of other images.
 */
export async function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  if (pixels.length !== width * height * channels) throw new Error(`expected ${width * height * channels} bytes for ${width}x${height}x${channels} but received ${pixels.length}`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 1 ? 0 : 2; // colour type: grey or RGB
  // bytes 10..12: deflate compression, adaptive filtering method, no interlace (all 0)
  const filtered = averageFiltered(pixels, width, height, channels, takeBuffer(height * (width * channels + 1)));
  let compressed: Buffer;
  try {
    compressed = await deflate(filtered.rows, filtered.zeros * 4 >= filtered.rows.length ? RUN_LENGTH : HUFFMAN_ONLY);
  } finally {
    if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(filtered.rows);
  }
  const png = Buffer.allocUnsafe(SIGNATURE.length + 3 * 12 + header.length + compressed.length);
  png.set(SIGNATURE, 0);
  let at = writeChunk(png, SIGNATURE.length, 'IHDR', header);
  at = writeChunk(png, at, 'IDAT', compressed);
  writeChunk(png, at, 'IEND', new Uint8Array(0));
  return png;
}
