// damage.ts — what is wrong with an image that libvips refused with only "Warning treated as error due to failOn setting".
//
// With failOn 'warning' (what an import uses, so a damaged file never becomes a record), sharp words
// the failure as that sentence followed by libvips' warnings. The warnings wait in one queue for the
// whole process, and any pipeline that finishes first takes them; libvips' error text is one buffer
// for the process too. With several images in flight the sentence often arrives alone. Here the
// damage is found again: first by reading the file's structure (a truncated file, a chunk whose CRC
// fails), which is exact and cheap, then by decoding the image once more, alone, and listening to
// its warnings.
import zlib from 'node:zlib';
import { sharp as loadSharp } from '../optional-deps.js';

/** The start of sharp's message when a libvips warning stopped a failOn: 'warning' pipeline. */
export const FAIL_ON_WARNING = 'Warning treated as error due to failOn setting';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** A PNG's first structural fault: a chunk cut off, a CRC that fails, no IEND; undefined when its chunks are sound. */
function pngDamage(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length)
      return `truncated: the file ends inside its ${type} chunk (${bytes.length - at - 8} of its ${length} bytes are present)`;
    if (crc32 !== undefined && crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length))
      return `damaged data: the ${type} chunk at byte ${at} fails its CRC check`;
    if (type === 'IEND') return undefined;
    at += 12 + length;
  }
  return 'truncated: the file ends before its IEND chunk';
}

/** A JPEG without its end-of-image marker (trailing zero padding allowed) was cut off. */
function jpegDamage(bytes: Uint8Array): string | undefined {
  let end = bytes.length;
  while (end > 2 && bytes[end - 1] === 0) end--;
  if (end >= 4 && bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9) return undefined;
  return 'truncated: the JPEG data ends without its end-of-image marker';
}

/** The fault a file's structure shows, for the formats whose structure says it; undefined otherwise. */
export function structuralDamage(bytes: Uint8Array): string | undefined {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((value, i) => bytes[i] === value)) return pngDamage(bytes);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegDamage(bytes);
  return undefined;
}

/** libvips' summaries that say nothing about the file ("read gave 2 warnings", "error in tile 0 x 56"). */
const UNINFORMATIVE = [/^read gave \d+ warnings?$/, /^error in tile \d+ x \d+$/];

/** The warnings libvips gives for these bytes in a decode of their own; retries run one at a time. */
let retries: Promise<unknown> = Promise.resolve();
function warningsOnRetry(bytes: Uint8Array, maxPixels: number): Promise<string | undefined> {
  const retry = retries.then(async () => {
    const warnings: string[] = [];
    await loadSharp()(bytes, { failOn: 'none', limitInputPixels: maxPixels })
      .on('warning', (warning: string) => warnings.push(warning.trim()))
      .raw()
      .toBuffer()
      .catch(() => undefined);
    const useful = warnings.filter((text) => text !== '' && !UNINFORMATIVE.some((pattern) => pattern.test(text)));
    return useful.length > 0 ? useful.join('; ') : undefined;
  });
  retries = retry.catch(() => undefined);
  return retry;
}

/**
 * Words a failure whose message starts with FAIL_ON_WARNING: the warnings sharp attached, else the
 * file's structural fault, else the warnings of a decode of its own, else a plain statement.
 */
export async function describeWarningFailure(message: string, bytes: Uint8Array, maxPixels: number): Promise<string> {
  const attached = message.slice(FAIL_ON_WARNING.length).split('\n').map((line) => line.trim())
    .filter((line) => line !== '' && !UNINFORMATIVE.some((pattern) => pattern.test(line)));
  if (attached.length > 0) return `damaged image data: ${attached.join('; ')}`;
  const structure = structuralDamage(bytes);
  if (structure !== undefined) return structure;
  const warnings = await warningsOnRetry(bytes, maxPixels);
  if (warnings !== undefined) return `damaged image data: ${warnings}`;
  return 'damaged image data: the decoder warned about it without saying more (the file may still display, but its pixels are not trusted)';
}
