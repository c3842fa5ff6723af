// png.ts — benchmark of the dataset records' PNG writer (lib/data/png.ts, native/cpu/png): 256x256 RGB photo-like
// images, our C++ writer against the path it replaced (the Average filter in JS, then node:zlib's deflate with
// Z_HUFFMAN_ONLY or Z_RLE on libuv's thread pool), in milliseconds per image (clock and CPU) and bytes per record.
// Run: `npm run bench -- png [--images 32] [--rounds 9]`, or after `npm run build`: node dist/bench/png.js
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { encodePng } from '../lib/data/png.js';
import { photoJpeg } from './dataset.js';

/** The photos of bench/dataset.ts (gradients plus per-pixel noise, JPEG quality 85), squashed to 256x256 as an import does. */
async function photo(index: number): Promise<Buffer> {
  const jpeg = await photoJpeg(index);
  return sharp(jpeg).resize(256, 256, { fit: 'fill' }).raw().toBuffer();
}

// ---- the replaced path, as lib/data/png.ts had it -------------------------------------------------

const deflate = promisify(zlib.deflate);
const HUFFMAN_ONLY: zlib.ZlibOptions = { level: 6, memLevel: 9, strategy: zlib.constants.Z_HUFFMAN_ONLY };
const RUN_LENGTH: zlib.ZlibOptions = { level: 6, memLevel: 9, strategy: zlib.constants.Z_RLE };

/** Average-filtered rows (four bytes at a time in 32-bit words) and how many residuals are 0. */
function averageFiltered(pixels: Uint8Array, width: number, height: number, channels: number): { rows: Uint8Array; zeros: number } {
  const stride = width * channels;
  const words = (stride + 3) >>> 2;
  const [current, left, above, result] = [0, 1, 2, 3].map(() => new Uint8Array(words * 4)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const [currentWords, leftWords, aboveWords, resultWords] = [current, left, above, result].map((row) => new Uint32Array(row.buffer)) as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  const out = new Uint8Array(height * (stride + 1));
  let zeroBytes = 0;
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    current.set(row);
    left.set(row.subarray(0, stride - channels), channels);
    for (let i = 0; i < words; i++) {
      const a = leftWords[i]!;
      const b = aboveWords[i]!;
      const mean = (a & b) + (((a ^ b) & 0xfefefefe) >>> 1);
      const x = currentWords[i]!;
      const residual = ((x | 0x80808080) - (mean & 0x7f7f7f7f)) ^ ((x ^ ~mean) & 0x80808080);
      resultWords[i] = residual;
      const zero = ~(((residual & 0x7f7f7f7f) + 0x7f7f7f7f) | residual | 0x7f7f7f7f);
      zeroBytes += Math.imul(zero >>> 7, 0x01010101) >>> 24;
    }
    out[y * (stride + 1)] = 3;
    out.set(result.subarray(0, stride), y * (stride + 1) + 1);
    above.set(row);
  }
  return { rows: out, zeros: zeroBytes - (words * 4 - stride) * height };
}

function chunk(type: string, data: Uint8Array): Buffer {
  const bytes = Buffer.alloc(12 + data.length);
  bytes.writeUInt32BE(data.length, 0);
  bytes.write(type, 4, 'ascii');
  bytes.set(data, 8);
  bytes.writeUInt32BE(zlib.crc32(bytes.subarray(4, 8 + data.length)), 8 + data.length);
  return bytes;
}

async function encodePngZlib(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  const { rows, zeros } = averageFiltered(pixels, width, height, channels);
  const compressed = await deflate(rows, zeros * 4 >= rows.length ? RUN_LENGTH : HUFFMAN_ONLY);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', compressed), chunk('IEND', new Uint8Array(0))]);
}

// ---- timing ---------------------------------------------------------------------------------------

type Encoder = (pixels: Uint8Array, width: number, height: number, channels: 1 | 3) => Promise<Buffer>;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Per image, over `rounds` rounds of every image: clock milliseconds one at a time, CPU milliseconds (all threads), and bytes. */
async function measure(encode: Encoder, images: Buffer[], rounds: number): Promise<{ clock: number; cpu: number; bytes: number }> {
  for (const image of images) await encode(image, 256, 256, 3); // warm-up
  const clock: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let round = 0; round < rounds; round++) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    bytes = 0;
    for (const image of images) bytes += (await encode(image, 256, 256, 3)).length;
    clock.push((performance.now() - started) / images.length);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1000 / images.length);
  }
  return { clock: median(clock), cpu: median(cpu), bytes: bytes / images.length };
}

function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && index + 1 < args.length ? Number(args[index + 1]) : fallback;
}

/** Entry point for `npm run bench -- png [--images N] [--rounds R]`. */
export async function run(args: string[]): Promise<void> {
  const count = option(args, 'images', 32);
  const rounds = option(args, 'rounds', 9);
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, node ${process.version}, zlib ${process.versions.zlib}`);
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++) images.push(await photo(i));
  console.log(`${count} photo-like 256x256 RGB images, ${rounds} rounds, one image at a time; medians per image:`);
  for (const [name, encode] of [['JS filter + node:zlib', encodePngZlib], ['cudnet C++ writer', encodePng]] as const) {
    const result = await measure(encode, images, rounds);
    console.log(`  ${name.padEnd(22)} ${result.clock.toFixed(3)} ms clock, ${result.cpu.toFixed(3)} ms CPU, ${Math.round(result.bytes)} bytes`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
