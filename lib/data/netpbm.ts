// A small Netpbm reader (sharp cannot read PPM/PGM): P5 (grey) and P6 (colour) binary, P2/P3 ASCII, 8 or 16 bits.
import type { RawImage } from './resize.js';

export function isNetpbm(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x50 && [0x32, 0x33, 0x35, 0x36].includes(bytes[1]!); // P2 P3 P5 P6
}

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x0b || byte === 0x0c;

/** Reads whitespace-separated header tokens, skipping `#` comments; returns the tokens and where the raster starts. */
function readHeaderTokens(bytes: Uint8Array, count: number): { tokens: number[]; end: number } {
  const tokens: number[] = [];
  let position = 2;
  while (tokens.length < count) {
    while (position < bytes.length && isSpace(bytes[position]!)) position++;
    if (position < bytes.length && bytes[position] === 0x23) {
      while (position < bytes.length && bytes[position] !== 0x0a) position++;
      continue;
    }
    const start = position;
    while (position < bytes.length && bytes[position]! >= 0x30 && bytes[position]! <= 0x39) position++;
    if (start === position) throw new Error('Netpbm header is truncated or malformed');
    tokens.push(Number(Buffer.from(bytes.subarray(start, position)).toString('ascii')));
  }
  // Exactly one whitespace byte separates the header from a binary raster.
  return { tokens, end: position + 1 };
}

/** Decodes PGM/PPM to interleaved grey or RGB bytes, scaling any maxval to 0..255. `maxPixels` guards memory. */
export function decodeNetpbm(bytes: Uint8Array, maxPixels: number): RawImage {
  const kind = bytes[1]!;
  const channels = kind === 0x33 || kind === 0x36 ? 3 : 1;
  const binary = kind === 0x35 || kind === 0x36;
  const { tokens, end } = readHeaderTokens(bytes, 3);
  const [width, height, maxValue] = tokens as [number, number, number];
  if (width <= 0 || height <= 0 || maxValue <= 0 || maxValue > 65535) throw new Error(`Invalid Netpbm header ${width}x${height} maxval ${maxValue}`);
  if (maxPixels > 0 && width * height > maxPixels) throw new Error(`Input image exceeds pixel limit (${width}x${height})`);
  const count = width * height * channels;
  const samples = binary ? readBinarySamples(bytes, end, count, maxValue) : readAsciiSamples(bytes, end - 1, count);
  const pixels = new Uint8Array(count);
  for (let i = 0; i < count; i++) pixels[i] = Math.round((Math.min(samples(i), maxValue) * 255) / maxValue);
  return { pixels, width, height, channels };
}

function readBinarySamples(bytes: Uint8Array, start: number, count: number, maxValue: number): (index: number) => number {
  const wide = maxValue > 255;
  if (start + count * (wide ? 2 : 1) > bytes.length) throw new Error('Netpbm raster is truncated');
  return wide ? (i) => (bytes[start + 2 * i]! << 8) | bytes[start + 2 * i + 1]! : (i) => bytes[start + i]!;
}

function readAsciiSamples(bytes: Uint8Array, start: number, count: number): (index: number) => number {
  const values = Buffer.from(bytes.subarray(start)).toString('ascii').replace(/#[^\n]*/g, ' ').trim().split(/\s+/).map(Number);
  if (values.length < count || values.slice(0, count).some((value) => !Number.isFinite(value))) throw new Error('Netpbm raster is truncated');
  return (i) => values[i]!;
}
