// Decoding for import: our BMP and Netpbm readers, PIL's greyscale, alpha on white, EXIF orientation, and bad files.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import sharp from 'sharp';
import { decodeBmp } from '../../lib/data/bmp.js';
import { describeWarningFailure, FAIL_ON_WARNING } from '../../lib/data/damage.js';
import { decodeImageBytes, decodeImageFile, ImageError, probeImageFile } from '../../lib/data/decode.js';
import { decodeNetpbm } from '../../lib/data/netpbm.js';
import { tempFolder } from './helpers.js';

/** A bottom-up BMP of RGB pixels with `bits` 24 or 32 (rows padded to 4 bytes, stored B, G, R). */
function makeBmp(width: number, height: number, rgb: Uint8Array, bits: 24 | 32): Buffer {
  const stride = Math.ceil((width * bits) / 32) * 4;
  const file = Buffer.alloc(54 + stride * height);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(bits, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = 54 + (height - 1 - y) * stride + x * (bits / 8);
      const from = (y * width + x) * 3;
      file[at] = rgb[from + 2]!; file[at + 1] = rgb[from + 1]!; file[at + 2] = rgb[from]!;
    }
  }
  return file;
}

const sample = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);

t.test('BMP 24 and 32 bit, bottom-up with row padding', async (t) => {
  for (const bits of [24, 32] as const) {
    const image = decodeBmp(makeBmp(5, 3, sample, bits), 0);
    t.same([image.width, image.height, image.channels], [5, 3, 3]);
    t.same(Array.from(image.pixels), Array.from(sample), `${bits}-bit pixels`);
  }
  t.throws(() => decodeBmp(makeBmp(5, 3, sample, 24).subarray(0, 60), 0), /truncated/);
  t.throws(() => decodeBmp(makeBmp(5, 3, sample, 24), 10), /pixel limit/);
});

t.test('PPM P6 / PGM P5 (8 and 16 bit) and ASCII P2', async (t) => {
  const ppm = Buffer.concat([Buffer.from('P6\n# comment\n5 3\n255\n'), Buffer.from(sample)]);
  t.same(Array.from(decodeNetpbm(ppm, 0).pixels), Array.from(sample));
  const pgm16 = Buffer.concat([Buffer.from('P5 2 1 65535 '), Buffer.from([0xff, 0xff, 0x80, 0x00])]);
  t.same(Array.from(decodeNetpbm(pgm16, 0).pixels), [255, 128]);
  t.same(Array.from(decodeNetpbm(Buffer.from('P2\n2 2\n10\n0 5\n10 2\n'), 0).pixels), [0, 128, 255, 51]);
  t.throws(() => decodeNetpbm(ppm.subarray(0, 30), 0), /truncated/);
});

t.test('greyscale is PIL L = 0.299 R + 0.587 G + 0.114 B; grey to colour replicates', async (t) => {
  const rgb = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  const png = await sharp(rgb, { raw: { width: 4, height: 1, channels: 3 } }).png().toBuffer();
  const grey = await decodeImageBytes(png, 1);
  t.same(Array.from(grey.pixels), [76, 150, 29, 18]);
  const colour = await decodeImageBytes(await sharp(Buffer.from([7, 200]), { raw: { width: 2, height: 1, channels: 1 } }).png().toBuffer(), 3);
  t.same(Array.from(colour.pixels), [7, 7, 7, 200, 200, 200]);
});

t.test('alpha is composited on white; EXIF orientation is applied', async (t) => {
  const rgba = Buffer.from([0, 0, 0, 0, 0, 0, 0, 255]);
  const png = await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
  t.same(Array.from((await decodeImageBytes(png, 3)).pixels), [255, 255, 255, 0, 0, 0]);
  const wide = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#808080' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const rotated = await decodeImageBytes(wide, 3);
  t.same([rotated.width, rotated.height], [20, 40], 'orientation 6 turns a 40x20 picture upright to 20x40');
});

t.test('bad files fail with a reason, at probe or at decode', async (t) => {
  const folder = tempFolder(t);
  const good = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).jpeg().toBuffer();
  const noise = Buffer.from(Array.from({ length: 200 * 200 * 3 }, (_, i) => (i * 7919) % 251));
  const noisy = await sharp(noise, { raw: { width: 200, height: 200, channels: 3 } }).jpeg().toBuffer();
  const files = {
    empty: Buffer.alloc(0),
    text: Buffer.from('this is not an image'),
    truncated: noisy.subarray(0, Math.floor(noisy.length * 0.7)),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(folder, `${name}.jpg`), bytes);
  const reasonOf = async (promise: Promise<unknown>): Promise<string> => promise.then(() => 'ok', (error: ImageError) => error.reason);
  t.equal(await reasonOf(probeImageFile(path.join(folder, 'empty.jpg'))), 'empty');
  t.equal(await reasonOf(probeImageFile(path.join(folder, 'text.jpg'))), 'unreadable');
  t.equal(await reasonOf(probeImageFile(path.join(folder, 'missing.jpg'))), 'missing');
  t.equal(await reasonOf(probeImageFile(path.join(folder, 'truncated.jpg'))), 'ok', 'a truncated JPEG has an intact header');
  t.equal(await reasonOf(decodeImageFile(path.join(folder, 'truncated.jpg'), 3)), 'unreadable', '...and fails when decoded');
  writeFileSync(path.join(folder, 'big.jpg'), good);
  t.equal(await reasonOf(probeImageFile(path.join(folder, 'big.jpg'), 1000)), 'too-large');
  t.equal(await reasonOf(decodeImageFile(path.join(folder, 'big.jpg'), 3, 1000)), 'too-large');
});

t.test('a file libvips refuses with a bare "warning treated as error" is described: truncated, bad CRC, or the warning itself', async (t) => {
  const noise = Buffer.from(Array.from({ length: 120 * 90 * 3 }, (_, i) => (i * 7919) % 251));
  const raw = { raw: { width: 120, height: 90, channels: 3 as const } };
  const png = await sharp(noise, raw).png().toBuffer();
  const jpeg = await sharp(noise, raw).jpeg().toBuffer();
  const flipped = Buffer.from(png);
  flipped[png.length - 30] ^= 0xff; // inside the last IDAT's data: its CRC fails
  const cases: [string, Buffer, string | RegExp][] = [
    ['truncated PNG', png.subarray(0, png.length - 200), 'truncated: the file ends inside its IDAT chunk'],
    ['PNG with a damaged IDAT', flipped, /^damaged data: the IDAT chunk at byte \d+ fails its CRC check$/],
    ['truncated JPEG', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'truncated: the JPEG data ends without its end-of-image marker'],
  ];
  for (const [what, bytes, expected] of cases)
    t.match(await describeWarningFailure(FAIL_ON_WARNING, bytes, 0), expected, what);
  t.equal(await describeWarningFailure(`${FAIL_ON_WARNING}\nread gave 2 warnings\nIDAT: incorrect data check`, png, 0),
    'damaged image data: IDAT: incorrect data check', 'warnings sharp attached are used as they are');
  // Many decodes at once: libvips' warning queue and error buffer are shared, and used to leave the bare sentence.
  const inputs = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? png : cases[i % cases.length]![1]));
  const results = await Promise.allSettled(inputs.map((bytes) => decodeImageBytes(bytes, 3)));
  const messages = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as ImageError).message] : []));
  t.equal(messages.length, 16, 'every damaged file fails');
  t.same(messages.filter((message) => message.startsWith(FAIL_ON_WARNING) || message === ''), [], 'and says what is wrong with it');
});
