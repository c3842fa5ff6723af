// PNG and JPEG sizes read from their headers (the import's probe) against sharp's metadata, and every doubtful header left to sharp.
import zlib from 'node:zlib';
import sharp from 'sharp';
import t from 'tap';
import { headerSize } from '../../lib/data/header.js';

const noise = (width: number, height: number, channels: 1 | 3 | 4): Buffer => {
  const pixels = Buffer.alloc(width * height * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  return pixels;
};
const raw = (width: number, height: number, channels: 1 | 3 | 4 = 3) => sharp(noise(width, height, channels), { raw: { width, height, channels } });

t.test('sizes equal sharp metadata for PNG and JPEG variants', async (t) => {
  const files: [string, Buffer][] = [
    ['RGB PNG 37x5', await raw(37, 5).png().toBuffer()],
    ['grey PNG 1x300', await raw(1, 300, 1).toColourspace('b-w').png().toBuffer()],
    ['RGBA PNG 300x1', await raw(300, 1, 4).png().toBuffer()],
    ['palette PNG 64x33', await raw(64, 33).png({ palette: true }).toBuffer()],
    ['16-bit PNG 20x21', await raw(20, 21).toColourspace('rgb16').png().toBuffer()],
    ['interlaced PNG 17x19', await raw(17, 19).png({ progressive: true }).toBuffer()],
    ['baseline JPEG 500x375', await raw(500, 375).jpeg().toBuffer()],
    ['progressive JPEG 257x3', await raw(257, 3).jpeg({ progressive: true }).toBuffer()],
    ['grey JPEG 9x1000', await raw(9, 1000, 1).toColourspace('b-w').jpeg().toBuffer()],
    ['CMYK JPEG 31x29', await raw(31, 29).toColourspace('cmyk').jpeg().toBuffer()],
    ['JPEG with EXIF 40x30', await raw(40, 30).jpeg().withMetadata({ orientation: 6 }).toBuffer()],
    ['arithmetic-free 4:4:4 JPEG 65x66', await raw(65, 66).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer()],
  ];
  for (const [name, bytes] of files) {
    const metadata = await sharp(bytes).metadata();
    t.same(headerSize(bytes), { width: metadata.width, height: metadata.height }, name);
    t.same(headerSize(bytes.subarray(0, Math.min(bytes.length, 64 * 1024))), { width: metadata.width, height: metadata.height }, `${name}, from its first 64 KiB`);
  }
});

t.test('anything doubtful is left to sharp (undefined)', async (t) => {
  const png = await raw(12, 13).png().toBuffer();
  const jpeg = await raw(12, 13).jpeg().toBuffer();
  const badCrc = Buffer.from(png);
  badCrc[29] = badCrc[29]! ^ 0xff;
  t.equal(headerSize(badCrc), undefined, 'PNG with a wrong IHDR CRC');
  const zeroWidth = Buffer.from(png);
  zeroWidth.writeUInt32BE(0, 16);
  zeroWidth.writeUInt32BE(zlib.crc32(zeroWidth.subarray(12, 29)), 29);
  t.equal(headerSize(zeroWidth), undefined, 'PNG of width 0 (CRC correct)');
  const badDepth = Buffer.from(png);
  badDepth[24] = 7;
  badDepth.writeUInt32BE(zlib.crc32(badDepth.subarray(12, 29)), 29);
  t.equal(headerSize(badDepth), undefined, 'PNG of bit depth 7 (CRC correct)');
  t.equal(headerSize(png.subarray(0, 30)), undefined, 'PNG cut inside IHDR');
  t.equal(headerSize(jpeg.subarray(0, 20)), undefined, 'JPEG cut before its frame header');
  const sosFirst = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 0xff, 0xd9]);
  t.equal(headerSize(sosFirst), undefined, 'JPEG whose scan comes before any frame header');
  const dnl = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 8, 0, 0, 0, 12, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  t.equal(headerSize(dnl), undefined, 'JPEG whose height comes later (DNL)');
  const garbage = Buffer.from([0xff, 0xd8, 0x12, 0x34, 0x56]);
  t.equal(headerSize(garbage), undefined, 'bytes after SOI that are no marker');
  t.equal(headerSize(Buffer.from('GIF89a\x10\x00\x10\x00', 'latin1')), undefined, 'another format (GIF) goes to sharp');
  t.equal(headerSize(Buffer.alloc(0)), undefined, 'no bytes');
});
