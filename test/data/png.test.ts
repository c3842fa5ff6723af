// The PNG writer of dataset records (lib/data/png.ts, native/cpu/png): lossless for grey and RGB of any size, valid chunks and checksums, both deflate strategies, sizes as small as zlib's.
import path from 'node:path';
import zlib, { deflateSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import t, { type Test } from 'tap';
import { readDatumView } from '../../lib/caffe/datum.js';
import { createDataset } from '../../lib/data/create.js';
import { encodePng } from '../../lib/data/png.js';
import { openRecords } from '../../lib/data/store.js';
import { makeClassFolder, pseudoRandomBytes, tempFolder } from './helpers.js';

const crcTable = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  return c >>> 0;
});

/** CRC-32, independent of the writer's own: node:zlib's where this Node has it, else a table. */
function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native !== undefined) return native(bytes) >>> 0;
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The chunks of a PNG file, each checked against its CRC. */
function chunksOf(t: Pick<Test, 'same' | 'equal'>, png: Buffer): { type: string; data: Buffer }[] {
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    t.equal(png.readUInt32BE(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    chunks.push({ type, data });
    at += 12 + length;
  }
  return chunks;
}

/**
 * The uncompressed IDAT stream the writer must produce: every row preceded by filter type 3
 * (Average), each byte minus the floor of the mean of its left neighbour (one pixel back) and
 * the byte above, both 0 outside the image.
 */
function averageReference(pixels: Uint8Array, width: number, height: number, channels: number): Buffer {
  const stride = width * channels;
  const rows = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    rows[y * (stride + 1)] = 3;
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const above = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      rows[y * (stride + 1) + 1 + x] = (pixels[y * stride + x]! - ((left + above) >> 1)) & 255;
    }
  }
  return rows;
}

async function decoded(png: Buffer, channels: 1 | 3): Promise<{ pixels: Buffer; width: number; height: number; channels: number }> {
  const pipeline = sharp(png);
  const { data, info } = await (channels === 1 ? pipeline.toColourspace('b-w') : pipeline).raw().toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height, channels: info.channels };
}

/** A photo-like picture: smooth gradients and waves in each channel plus a little per-pixel noise. */
function photoLike(width: number, height: number, channels: number, seed: number): Uint8Array {
  const noise = pseudoRandomBytes(width * height * channels, seed);
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const at = (y * width + x) * channels + c;
        const base = 40 + (x * 120) / width + (y * 60) / height + 25 * Math.sin((x + 3 * c) / 17) * Math.cos(y / 23);
        pixels[at] = Math.max(0, Math.min(255, Math.round(base + (noise[at]! % 9) - 4)));
      }
    }
  }
  return pixels;
}

/** Everything a reader checks: chunks and CRCs, the header, the IDAT's zlib stream (Adler-32 included) against the reference rows, and the pixels as sharp decodes them. */
async function checkPng(t: Test, name: string, pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  const png = await encodePng(pixels, width, height, channels);
  const chunks = chunksOf(t, png);
  t.same(chunks.map((chunk) => chunk.type), ['IHDR', 'IDAT', 'IEND'], `${name}: IHDR, one IDAT, IEND`);
  const header = chunks[0]!.data;
  t.same([header.readUInt32BE(0), header.readUInt32BE(4), ...header.subarray(8)], [width, height, 8, channels === 1 ? 0 : 2, 0, 0, 0], `${name}: IHDR`);
  const rows = inflateSync(chunks[1]!.data); // checks the zlib header and the Adler-32
  t.ok(rows.equals(averageReference(pixels, width, height, channels)), `${name}: IDAT inflates to the Average-filtered rows`);
  const image = await decoded(png, channels);
  t.same([image.width, image.height, image.channels], [width, height, channels], `${name}: shape`);
  t.ok(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length).equals(image.pixels), `${name}: same pixels`);
  return png;
}

t.test('pixels come back exactly, grey and RGB, widths that are and are not a whole number of words', async (t) => {
  for (const [width, height, channels] of [[1, 1, 1], [1, 1, 3], [5, 3, 3], [7, 2, 1], [33, 9, 1], [255, 17, 3], [3, 40, 3], [256, 256, 3]] as const) {
    for (const [name, pixels] of [
      ['noise', pseudoRandomBytes(width * height * channels, width * 131 + height)],
      ['flat', new Uint8Array(width * height * channels).fill(200)],
      ['gradient', Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 7) & 255)],
    ] as const) {
      const png = await encodePng(pixels, width, height, channels);
      const image = await decoded(png, channels);
      t.same([image.width, image.height, image.channels], [width, height, channels], `${name} ${width}x${height}x${channels}: shape`);
      t.ok(Buffer.from(pixels).equals(image.pixels), `${name} ${width}x${height}x${channels}: same pixels`);
    }
  }
});

t.test('chunks: IHDR (8-bit grey or RGB, not interlaced), one IDAT of Average-filtered rows, IEND, every CRC right', async (t) => {
  const pixels = pseudoRandomBytes(9 * 4 * 3, 7);
  const chunks = chunksOf(t, await encodePng(pixels, 9, 4, 3));
  t.same(chunks.map((chunk) => chunk.type), ['IHDR', 'IDAT', 'IEND']);
  const header = chunks[0]!.data;
  t.same([header.readUInt32BE(0), header.readUInt32BE(4), ...header.subarray(8)], [9, 4, 8, 2, 0, 0, 0]);
  t.equal(chunksOf(t, await encodePng(pixels.subarray(0, 36), 9, 4, 1))[0]!.data[9], 0, 'grey is colour type 0');
  const rows = inflateSync(chunks[1]!.data);
  t.ok(rows.equals(averageReference(pixels, 9, 4, 3)), 'IDAT inflates to the filtered rows');
  t.same([0, 1, 2, 3].map((y) => rows[y * (9 * 3 + 1)]), [3, 3, 3, 3], 'filter type 3 (Average) on every row');
});

t.test('Average filter: each byte minus the floor of the mean of its left neighbour (one pixel back) and the byte above', async (t) => {
  // Odd widths, both channel counts, and bytes that make every case of the mean (odd and even sums, wrap-around).
  for (const [width, height, channels] of [[6, 5, 3], [37, 4, 1], [70, 3, 3], [1, 9, 3], [9, 1, 1]] as const) {
    for (const pixels of [pseudoRandomBytes(width * height * channels, 99 + width), new Uint8Array(width * height * channels).fill(9)]) {
      const [idat] = chunksOf(t, await encodePng(pixels, width, height, channels)).filter((chunk) => chunk.type === 'IDAT');
      t.ok(inflateSync(idat!.data).equals(averageReference(pixels, width, height, channels)), `${width}x${height}x${channels}: filtered rows`);
    }
  }
});

t.test('lossless and valid on every kind of image and size: noise, photo-like, flat, thin, odd and large', async (t) => {
  const cases: [string, Uint8Array, number, number, 1 | 3][] = [
    ['noise RGB', pseudoRandomBytes(256 * 256 * 3, 1), 256, 256, 3],
    ['noise grey', pseudoRandomBytes(256 * 256, 2), 256, 256, 1],
    ['photo-like RGB', photoLike(256, 256, 3, 3), 256, 256, 3],
    ['flat RGB', new Uint8Array(256 * 256 * 3).fill(200), 256, 256, 3],
    ['1x1 RGB', Uint8Array.of(12, 200, 7), 1, 1, 3],
    ['1x1 grey', Uint8Array.of(255), 1, 1, 1],
    ['1x300 RGB', photoLike(1, 300, 3, 4), 1, 300, 3],
    ['300x1 RGB', photoLike(300, 1, 3, 5), 300, 1, 3],
    ['257x3 RGB', pseudoRandomBytes(257 * 3 * 3, 6), 257, 3, 3],
    ['3x257 grey', pseudoRandomBytes(3 * 257, 7), 3, 257, 1],
    ['1500x1100 RGB (many deflate blocks)', photoLike(1500, 1100, 3, 8), 1500, 1100, 3],
    ['1500x1100 RGB mostly flat (runs across many blocks)', (() => {
      const pixels = new Uint8Array(1500 * 1100 * 3).fill(240);
      pixels.set(photoLike(500, 300, 3, 9), 1500 * 3 * 400); // a photo-like band in the middle rows
      return pixels;
    })(), 1500, 1100, 3],
  ];
  for (const [name, pixels, width, height, channels] of cases) await checkPng(t, name, pixels, width, height, channels);
});

t.test('sizes: as small as zlib Huffman-only on a photo-like image, and runs keep a flat image tiny', async (t) => {
  const pixels = photoLike(256, 256, 3, 11);
  const png = await encodePng(pixels, 256, 256, 3);
  const idat = chunksOf(t, png).find((chunk) => chunk.type === 'IDAT')!.data;
  const rows = averageReference(pixels, 256, 256, 3);
  const zlibHuffman = deflateSync(rows, { level: 6, memLevel: 9, strategy: zlib.constants.Z_HUFFMAN_ONLY });
  t.ok(idat.length <= zlibHuffman.length * 1.02, `photo-like: IDAT ${idat.length} bytes, zlib Huffman-only ${zlibHuffman.length}`);
  t.ok(idat.length < rows.length * 0.9, 'photo-like: compressed');

  const flat = new Uint8Array(256 * 256 * 3).fill(200);
  const flatIdat = chunksOf(t, await encodePng(flat, 256, 256, 3)).find((chunk) => chunk.type === 'IDAT')!.data;
  const zlibRuns = deflateSync(averageReference(flat, 256, 256, 3), { level: 6, memLevel: 9, strategy: zlib.constants.Z_RLE });
  t.ok(flatIdat.length <= zlibRuns.length * 1.02 + 16, `flat: IDAT ${flatIdat.length} bytes, zlib Z_RLE ${zlibRuns.length}`);
  t.ok(flatIdat.length < 2000, 'flat: runs, not a byte per byte');
});

t.test('bad arguments reject with a CudnetError naming the argument (code INVALID_ARGUMENT; the addon\'s TypeError or RangeError is its cause)', async (t) => {
  const bytes = new Uint8Array(12);
  const cases: [string, unknown[], typeof TypeError, RegExp][] = [
    ['no pixels', [undefined, 2, 2, 3], TypeError, /pixels must be a Uint8Array or Buffer, got undefined/],
    ['pixels of another type', [new Uint16Array(12), 2, 2, 3], TypeError, /pixels must be a Uint8Array or Buffer, got a Uint16Array/],
    ['a plain array', [[1, 2, 3], 1, 1, 3], TypeError, /pixels must be a Uint8Array or Buffer, got an array/],
    ['too few bytes', [bytes.subarray(1), 2, 2, 3], RangeError, /pixels holds 11 bytes but a 2x2 image of 3 channels needs 12/],
    ['too many bytes', [bytes, 2, 2, 1], RangeError, /pixels holds 12 bytes but a 2x2 image of 1 channel needs 4/],
    ['width 0', [bytes, 0, 2, 3], RangeError, /width must be an integer from 1 to 2147483647, got 0/],
    ['fractional height', [bytes, 2, 1.5, 3], RangeError, /height must be an integer from 1 to 2147483647, got 1.5/],
    ['negative height', [bytes, 2, -2, 3], RangeError, /height must be an integer/],
    ['width as a string', [bytes, '2', 2, 3], TypeError, /width must be a number, got a string/],
    ['width too large', [bytes, 2 ** 31, 2, 3], RangeError, /width must be an integer from 1 to 2147483647/],
    ['2 channels', [bytes, 2, 3, 2], RangeError, /channels must be 1 \(grey\) or 3 \(RGB\), got 2/],
    ['4 channels', [new Uint8Array(16), 2, 2, 4], RangeError, /channels must be 1 \(grey\) or 3 \(RGB\), got 4/],
    ['NaN channels', [bytes, 2, 2, NaN], RangeError, /channels must be 1 \(grey\) or 3 \(RGB\), got NaN/],
    ['channels missing', [bytes, 2, 2], TypeError, /channels must be a number, got undefined/],
  ];
  const encode = encodePng as (...args: unknown[]) => Promise<Buffer>;
  for (const [name, args, type, message] of cases) {
    await t.rejects(encode(...args), { name: 'CudnetError', code: 'INVALID_ARGUMENT', message, cause: { name: type.name } }, name);
  }
  // The process lives on and the writer still works.
  t.equal((await decoded(await encodePng(bytes, 2, 2, 3), 3)).pixels.length, 12, 'encodes after the errors');
});

t.test('Buffers, views at an offset and shared memory; encodes run off the event loop, in parallel, to the same bytes', async (t) => {
  const pixels = photoLike(64, 48, 3, 21);
  const pool = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(pixels), Buffer.from([4])]);
  await checkPng(t, 'a Buffer at an offset', pool.subarray(3, 3 + pixels.length), 64, 48, 3);
  const shared = new Uint8Array(new SharedArrayBuffer(pixels.length));
  shared.set(pixels);
  await checkPng(t, 'shared memory', shared, 64, 48, 3);

  const images = Array.from({ length: 64 }, (_, i) => photoLike(96 + i, 64, i % 2 === 0 ? 3 : 1, 100 + i));
  const sequential: Buffer[] = [];
  for (const [i, image] of images.entries()) sequential.push(await encodePng(image, 96 + i, 64, i % 2 === 0 ? 3 : 1));
  const parallel = await Promise.all(images.map((image, i) => encodePng(image, 96 + i, 64, i % 2 === 0 ? 3 : 1)));
  t.ok(parallel.every((png, i) => png.equals(sequential[i]!)), '64 encodes at once give the same bytes as one at a time');

  // A large encode takes milliseconds; the event loop turns meanwhile (it would not if the work ran on this thread).
  const large = photoLike(2000, 1500, 3, 22);
  let turned = false;
  const encoding = encodePng(large, 2000, 1500, 3);
  setImmediate(() => { turned = true; });
  await encoding;
  t.ok(turned, 'the event loop turned while a 2000x1500 image was encoded');
});

t.test("pngCompression: 'fast' (default) and 'small' records hold the same pixels; the choice is in dataset.json", async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'src'), { a: 3, b: 3 }, 'jpg');
  const read = async (dest: string): Promise<Buffer[]> => {
    const database = openRecords(path.join(dest, 'train_db'));
    const images: Buffer[] = [];
    for (const { value } of database.getRange()) images.push((await decoded(Buffer.from(readDatumView(value).data), 3)).pixels);
    await database.close();
    return images;
  };
  const reports = [];
  for (const pngCompression of [undefined, 'small'] as const) {
    reports.push(await createDataset({ folder: path.join(root, 'src'), dest: path.join(root, pngCompression ?? 'default'), width: 20, height: 16, valPercent: 0, ...(pngCompression ? { pngCompression } : {}) }));
  }
  t.equal(reports[0]!.manifest.options.pngCompression, 'fast');
  t.equal(reports[1]!.manifest.options.pngCompression, 'small');
  const [fast, small] = [await read(path.join(root, 'default')), await read(path.join(root, 'small'))];
  t.equal(fast.length, 6);
  t.ok(fast.every((pixels, i) => pixels.equals(small[i]!)), 'same pixels in every record');
});
