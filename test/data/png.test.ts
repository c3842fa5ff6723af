// The PNG writer of dataset records (lib/data/png.ts): lossless for grey and RGB of any size, valid chunks, both deflate strategies.
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import t from 'tap';
import { readDatumView } from '../../lib/caffe/datum.js';
import { createDataset } from '../../lib/data/create.js';
import { averageFiltered, encodePng } from '../../lib/data/png.js';
import { openRecords } from '../../lib/data/store.js';
import { makeClassFolder, tempFolder } from './helpers.js';

/** CRC-32 bit by bit, independent of the writer's own. */
function crcBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The chunks of a PNG file, each checked against its CRC. */
function chunksOf(t: Pick<typeof import('tap').default, 'same' | 'equal'>, png: Buffer): { type: string; data: Buffer }[] {
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    t.equal(png.readUInt32BE(at + 8 + length), crcBitwise(png.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    chunks.push({ type, data });
    at += 12 + length;
  }
  return chunks;
}

async function decoded(png: Buffer, channels: 1 | 3): Promise<{ pixels: Buffer; width: number; height: number; channels: number }> {
  const pipeline = sharp(png);
  const { data, info } = await (channels === 1 ? pipeline.toColourspace('b-w') : pipeline).raw().toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height, channels: info.channels };
}

function pseudoRandom(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

t.test('pixels come back exactly, grey and RGB, widths that are and are not a whole number of words', async (t) => {
  for (const [width, height, channels] of [[1, 1, 1], [1, 1, 3], [5, 3, 3], [7, 2, 1], [33, 9, 1], [255, 17, 3], [3, 40, 3], [256, 256, 3]] as const) {
    for (const [name, pixels] of [
      ['noise', pseudoRandom(width * height * channels, width * 131 + height)],
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
  const pixels = pseudoRandom(9 * 4 * 3, 7);
  const chunks = chunksOf(t, await encodePng(pixels, 9, 4, 3));
  t.same(chunks.map((chunk) => chunk.type), ['IHDR', 'IDAT', 'IEND']);
  const header = chunks[0]!.data;
  t.same([header.readUInt32BE(0), header.readUInt32BE(4), ...header.subarray(8)], [9, 4, 8, 2, 0, 0, 0]);
  t.equal(chunksOf(t, await encodePng(pixels.subarray(0, 36), 9, 4, 1))[0]!.data[9], 0, 'grey is colour type 0');
  const rows = inflateSync(chunks[1]!.data);
  t.ok(rows.equals(Buffer.from(averageFiltered(pixels, 9, 4, 3).rows)), 'IDAT inflates to the filtered rows');
  t.same([0, 1, 2, 3].map((y) => rows[y * (9 * 3 + 1)]), [3, 3, 3, 3], 'filter type 3 (Average) on every row');
});

t.test('Average filter: each byte minus the floor of the mean of its left neighbour (one pixel back) and the byte above', async (t) => {
  const [width, height, channels] = [6, 5, 3];
  const pixels = pseudoRandom(width * height * channels, 99);
  const { rows, zeros } = averageFiltered(pixels, width, height, channels);
  const stride = width * channels;
  let expectedZeros = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const above = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const residual = (pixels[y * stride + x]! - ((left + above) >> 1)) & 255;
      if (residual === 0) expectedZeros++;
      if (rows[y * (stride + 1) + 1 + x] !== residual) {
        t.fail(`residual at row ${y}, byte ${x}`);
        return;
      }
    }
  }
  t.equal(zeros, expectedZeros, 'zero residuals counted');
  // Flat 9: the first row and column have a missing neighbour taken as 0, every other residual is 9 - 9 = 0.
  t.equal(averageFiltered(new Uint8Array(7 * 3).fill(9), 7, 3, 1).zeros, 2 * 6, 'a flat image: zeros except the first row and column');
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
