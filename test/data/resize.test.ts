// DIGITS' resize modes: the geometry against values worked out from digits/utils/image.py, and the pixels produced.
import path from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { decodeImageFile, decodeResizedFile } from '../../lib/data/decode.js';
import { planResize, resizeImage, RESIZE_MODES, type RawImage } from '../../lib/data/resize.js';
import { createRandom } from '../../lib/data/random.js';
import { shapeImage, tempFolder } from './helpers.js';

t.test('plan: squash, and every mode when the aspect already matches', async (t) => {
  t.same(planResize(500, 375, 256, 256, 'squash'), { resizeWidth: 256, resizeHeight: 256, cropLeft: 0, cropTop: 0, padLeft: 0, padTop: 0 });
  for (const mode of ['crop', 'fill', 'half_crop'] as const) {
    t.same(planResize(512, 512, 256, 256, mode).resizeWidth, 256, `${mode} with equal ratios is a squash`);
  }
});

t.test('plan: crop scales by the smaller ratio and centre-crops', async (t) => {
  // 500x375 -> 256x256: wr 1.953 > hr 1.465, height fits, width round(500/1.4648) = 341, start round(85/2) = 43.
  t.same(planResize(500, 375, 256, 256, 'crop'), { resizeWidth: 341, resizeHeight: 256, cropLeft: 43, cropTop: 0, padLeft: 0, padTop: 0 });
  // Tall image: 100x300 -> 50x50: width fits, height round(300/2) = 150, start 50.
  t.same(planResize(100, 300, 50, 50, 'crop'), { resizeWidth: 50, resizeHeight: 150, cropLeft: 0, cropTop: 50, padLeft: 0, padTop: 0 });
});

t.test('plan: fill scales by the larger ratio and pads equal bands', async (t) => {
  // 500x375 -> 256x256: width fits, height round(375/1.953) = 192, gap 64 even, bands of 32.
  t.same(planResize(500, 375, 256, 256, 'fill'), { resizeWidth: 256, resizeHeight: 192, cropLeft: 0, cropTop: 0, padLeft: 0, padTop: 32 });
  // 100x61 -> 50x50: height round(61/2) = 31 (30.5 rounds up), gap 19 odd -> 32, bands of 9.
  t.same(planResize(100, 61, 50, 50, 'fill'), { resizeWidth: 50, resizeHeight: 32, cropLeft: 0, cropTop: 0, padLeft: 0, padTop: 9 });
});

t.test('plan: half_crop scales by the average ratio, crops the long side and pads the short one', async (t) => {
  // 500x375 -> 256x256: ratio (1.953 + 1.465)/2 = 1.709; 293 x 219 -> height gap 37 odd -> 220; crop start round(37/2) = 19; bands of 18.
  t.same(planResize(500, 375, 256, 256, 'half_crop'), { resizeWidth: 293, resizeHeight: 220, cropLeft: 19, cropTop: 0, padLeft: 0, padTop: 18 });
});

function gradient(width: number, height: number, channels: number): RawImage {
  const pixels = new Uint8Array(width * height * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 251;
  return { pixels, width, height, channels };
}

t.test('every mode produces exactly W x H; fill keeps the aspect inside noise bands', async (t) => {
  for (const mode of ['squash', 'crop', 'fill', 'half_crop'] as const) {
    for (const channels of [1, 3]) {
      const out = await resizeImage(gradient(120, 60, channels), 64, 48, mode, createRandom(1));
      t.same([out.width, out.height, out.channels, out.pixels.length], [64, 48, channels, 64 * 48 * channels], `${mode} ${channels}ch`);
    }
  }
  // A white 100x50 image filled into 40x40: a 40x20 white band between two identical noise bands of 10 rows.
  const white: RawImage = { pixels: new Uint8Array(100 * 50 * 3).fill(255), width: 100, height: 50, channels: 3 };
  const filled = await resizeImage(white, 40, 40, 'fill', createRandom(2));
  const row = (y: number): number[] => Array.from(filled.pixels.subarray(y * 120, (y + 1) * 120));
  t.ok(row(20).every((value) => value === 255), 'content rows are the image');
  t.ok(row(10).every((value) => value === 255) && row(29).every((value) => value === 255), 'content spans rows 10..29 (aspect 2:1 kept)');
  t.same(row(0), row(30), 'top and bottom bands hold the same noise, as DIGITS reuses one band');
  t.ok(row(0).some((value) => value !== 255) && row(0).every((value) => value <= 254), 'noise is uniform 0..254, not a constant');
  // crop keeps the aspect by cutting: a left-half-black image cropped to a square loses part of each side equally.
  const halves = gradient(100, 50, 1);
  for (let y = 0; y < 50; y++) for (let x = 0; x < 100; x++) halves.pixels[y * 100 + x] = x < 50 ? 0 : 255;
  const cropped = await resizeImage(halves, 20, 20, 'crop', createRandom(3));
  t.equal(cropped.pixels[10 * 20 + 2], 0, 'left of centre stays black');
  t.equal(cropped.pixels[10 * 20 + 17], 255, 'right of centre stays white');
  const same = gradient(30, 20, 3);
  t.equal((await resizeImage(same, 30, 20, 'fill', createRandom(4))).pixels, same.pixels, 'an image already at size is untouched');
});

t.test('one-pipeline import decode equals decode then resize, in every mode, with EXIF orientation and alpha', async (t) => {
  const folder = tempFolder(t);
  const files: string[] = [];
  const photo = shapeImage(90, 50, [200, 40, 40], [20, 220, 90]);
  files.push(path.join(folder, 'photo.jpg'));
  await photo.clone().jpeg({ quality: 90 }).toFile(files.at(-1)!);
  files.push(path.join(folder, 'rotated.jpg'));
  await photo.clone().jpeg().withMetadata({ orientation: 6 }).toFile(files.at(-1)!);
  files.push(path.join(folder, 'alpha.png'));
  await sharp({ create: { width: 40, height: 70, channels: 4, background: { r: 10, g: 90, b: 200, alpha: 0.5 } } }).png().toFile(files.at(-1)!);
  files.push(path.join(folder, 'large.jpg'));
  await shapeImage(400, 300, [30, 60, 90], [250, 250, 0]).jpeg().toFile(files.at(-1)!);
  for (const file of files) {
    for (const mode of RESIZE_MODES) {
      const [width, height] = file.endsWith('large.jpg') ? [64, 48] : [32, 32];
      const fused = await decodeResizedFile(file, 3, width, height, mode, createRandom(5));
      const twoStep = await resizeImage(await decodeImageFile(file, 3), width, height, mode, createRandom(5));
      t.same([fused.width, fused.height, fused.channels], [width, height, 3]);
      if (file.endsWith('large.jpg')) {
        // A reduction of 2x or more: the JPEG is decoded at half size first (shrink-on-load), close but not equal.
        const meanDifference = fused.pixels.reduce((sum, value, i) => sum + Math.abs(value - twoStep.pixels[i]!), 0) / fused.pixels.length;
        t.ok(meanDifference < 3, `${path.basename(file)} ${mode}: mean difference ${meanDifference.toFixed(2)} levels`);
      } else {
        const differing = fused.pixels.reduce((count, value, i) => count + (Math.abs(value - twoStep.pixels[i]!) > 1 ? 1 : 0), 0);
        t.equal(differing, 0, `${path.basename(file)} ${mode}: same pixels (within 1 level)`);
      }
    }
  }
});
