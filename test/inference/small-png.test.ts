// small-png.test.ts — the small-PNG path gives exactly sharp's pixels, and leaves every other image to sharp.
import t from 'tap';
import sharp from 'sharp';
import zlib from 'node:zlib';
import { decodeImageBytes } from '../../lib/data/decode.js';
import { decodeSmallPng } from '../../lib/inference/small-png.js';
import { rng } from '../helpers/index.js';

const random = rng(41);

function noise(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function png(width: number, height: number, channels: 1 | 3 | 4, options: sharp.PngOptions = {}): Promise<Buffer> {
  const image = sharp(noise(width * height * channels), { raw: { width, height, channels } });
  return (channels === 1 ? image.toColourspace('b-w') : image).png(options).toBuffer();
}

/** `bytes` with a chunk of `type` (CRC right) inserted after IHDR. */
function withChunk(bytes: Buffer, type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([bytes.subarray(0, 33), head, data, crc, bytes.subarray(33)]);
}

/** A PNG written by hand: 8-bit grey or RGB, row y filtered with filter type y % 5 (None, Sub, Up, Average, Paeth). */
function everyFilterPng(width: number, height: number, channels: 1 | 3, pixels: Buffer): Buffer {
  const stride = width * channels, raw = Buffer.alloc(height * (stride + 1));
  const at = (x: number, y: number) => (x < 0 || y < 0 ? 0 : pixels[y * stride + x]!);
  for (let y = 0; y < height; y++) {
    const type = y % 5;
    raw[y * (stride + 1)] = type;
    for (let x = 0; x < stride; x++) {
      const a = at(x - channels, y), b = at(x, y - 1), c = at(x - channels, y - 1);
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const predicted = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][type]!;
      raw[y * (stride + 1) + 1 + x] = (at(x, y) - predicted) & 0xff;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, channels === 1 ? 0 : 2, 0, 0, 0], 8);
  const deflated = zlib.deflateSync(raw);
  const half = Math.floor(deflated.length / 2);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header),
    chunk('IDAT', deflated.subarray(0, half)), chunk('IDAT', deflated.subarray(half)), chunk('IEND', Buffer.alloc(0))]);
}

/** The PNG's colour type (IHDR byte 25). */
const colourType = (bytes: Buffer) => bytes[25];

t.test('plain small PNGs decode to exactly what sharp gives, as grey and as RGB', async (t) => {
  const grey = await png(28, 28, 1);
  const rgb = await png(31, 17, 3);
  const palette = await png(20, 13, 3, { palette: true, colours: 256, dither: 0 });
  const flatGrey = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .toColourspace('b-w').png().toBuffer();
  t.equal(colourType(grey), 0, 'sharp wrote a grey PNG');
  t.equal(colourType(rgb), 2, 'sharp wrote an RGB PNG');
  t.equal(colourType(palette), 3, 'sharp wrote a palette PNG');
  t.equal(palette[24], 8, 'with 8-bit indices');
  const filteredGrey = everyFilterPng(23, 21, 1, noise(23 * 21));
  const filteredRgb = everyFilterPng(19, 26, 3, noise(19 * 26 * 3));
  for (const [name, bytes] of [['grey 28x28', grey], ['RGB 31x17', rgb], ['palette 20x13', palette], ['flat grey 64x64', flatGrey],
    ['grey, all five row filters, two IDAT chunks', filteredGrey], ['RGB, all five row filters, two IDAT chunks', filteredRgb]] as const) {
    for (const channels of [1, 3] as const) {
      const fast = decodeSmallPng(bytes, channels);
      t.ok(fast, `${name} as ${channels} channel(s) takes the small-PNG path`);
      const expected = await decodeImageBytes(bytes, channels);
      t.same({ ...fast, pixels: Buffer.from(fast!.pixels) }, { ...expected, pixels: Buffer.from(expected.pixels) },
        `${name} as ${channels} channel(s): the same pixels as sharp`);
    }
  }
});

t.test('everything else is left to sharp', async (t) => {
  const rgb = await png(31, 17, 3);
  const idat = rgb.indexOf('IDAT');
  const flipped = Buffer.from(rgb);
  flipped[idat + 10] ^= 0x55;
  const cases: Array<[string, Buffer]> = [
    ['larger than 64x64', await png(65, 64, 3)],
    ['a 4-bit palette', await png(20, 13, 3, { palette: true, colours: 16, dither: 0 })],
    ['interlaced', await png(20, 20, 3, { progressive: true })],
    ['with alpha', await png(20, 20, 4)],
    ['16-bit', await sharp(noise(20 * 20 * 3), { raw: { width: 20, height: 20, channels: 3 } }).toColourspace('rgb16').png().toBuffer()],
    ['with an sRGB chunk', withChunk(rgb, 'sRGB', Buffer.from([0]))],
    ['with a gAMA chunk', withChunk(rgb, 'gAMA', Buffer.from([0, 0, 0xb1, 0x8f]))],
    ['a damaged IDAT (CRC wrong)', flipped],
    ['truncated', rgb.subarray(0, rgb.length - 20)],
    ['not a PNG', Buffer.from('definitely not an image, but long enough to pass the size check')],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [name, bytes] of cases) t.equal(decodeSmallPng(bytes, 3), null, name);
  // The damaged ones still fail, with sharp's message.
  await t.rejects(decodeImageBytes(flipped, 3), 'a damaged IDAT is an error from sharp');
  await t.rejects(decodeImageBytes(rgb.subarray(0, rgb.length - 20), 3), 'a truncated PNG is an error from sharp');
});
