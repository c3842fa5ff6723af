// Image sizes read from PNG and JPEG headers in JavaScript, for the import's probe: no libvips call for the two common formats.
import zlib from 'node:zlib';

/*
 * The probe before splitting (decode.ts, probeImageFile) only needs to know that a file is an
 * image and how many pixels it has. sharp's metadata() answers that for every format, but each
 * call is a trip through libvips on the thread pool: about 0.3 ms of an import's time per image,
 * 9% of a 256x256 import. For PNG and JPEG the size sits in the first bytes, so it is read here;
 * anything this reader does not recognise with certainty (another format, a header it cannot
 * follow, a size of 0) returns undefined and goes to sharp, which also words every error.
 */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Bit depths each PNG colour type allows. */
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** A PNG's size from a well-formed IHDR (length 13, valid depth and colour type, CRC checked). */
function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 33 || !PNG_SIGNATURE.equals(bytes.subarray(0, 8))) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, 33);
  if (view.readUInt32BE(8) !== 13 || view.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const [width, height] = [view.readUInt32BE(16), view.readUInt32BE(20)];
  const [depth, colour, compression, filter, interlace] = [view[24]!, view[25]!, view[26]!, view[27]!, view[28]!];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return undefined;
  if (!PNG_DEPTHS[colour]?.includes(depth) || compression !== 0 || filter !== 0 || interlace > 1) return undefined;
  if (crc32 === undefined || crc32(view.subarray(12, 29)) !== view.readUInt32BE(29)) return undefined;
  return { width, height };
}

/** Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic), which carry the size. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** A JPEG's size from its first start-of-frame segment, following the segments from the SOI marker. */
function jpegSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) { // fill byte before a marker
      at++;
      continue;
    }
    if (marker === 0xd8 || marker === 0xd9 || marker === 0xda || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) return undefined;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      if (length < 8 || at + 2 + 8 > bytes.length) return undefined;
      const height = (bytes[at + 5]! << 8) | bytes[at + 6]!;
      const width = (bytes[at + 7]! << 8) | bytes[at + 8]!;
      const components = bytes[at + 9]!;
      // A height of 0 is given later by a DNL segment: leave that rare case to libjpeg.
      if (width === 0 || height === 0 || ![1, 3, 4].includes(components) || length !== 8 + 3 * components) return undefined;
      return { width, height };
    }
    at += 2 + length;
  }
  return undefined;
}

/** Width and height of a PNG or JPEG read from `bytes` (the start of the file), or undefined to ask sharp. */
export function headerSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  return pngSize(bytes) ?? jpegSize(bytes);
}
