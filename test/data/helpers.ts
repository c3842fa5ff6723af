// Test helpers for lib/data: temporary folders and generated images (coloured shapes drawn by sharp).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';

/** A fresh temporary folder, removed when the test ends. */
export function tempFolder(t: { teardown: (fn: () => void) => void }): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'cudnet-data-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

export type Colour = [number, number, number];

/** A width x height picture: `background` with a `shape` (circle or square) in `foreground` at its centre. */
export function shapeImage(width: number, height: number, background: Colour, foreground: Colour, shape: 'circle' | 'square' = 'circle'): Sharp {
  const radius = Math.floor(Math.min(width, height) / 3);
  const fill = `rgb(${foreground.join(',')})`;
  const body = shape === 'circle'
    ? `<circle cx="${width / 2}" cy="${height / 2}" r="${radius}" fill="${fill}"/>`
    : `<rect x="${width / 2 - radius}" y="${height / 2 - radius}" width="${2 * radius}" height="${2 * radius}" fill="${fill}"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${body}</svg>`;
  return sharp({ create: { width, height, channels: 3, background: { r: background[0], g: background[1], b: background[2] } } })
    .composite([{ input: Buffer.from(svg) }]);
}

/** Class folders: `{ classes: { name: count } }` JPEG pictures of varied sizes, one colour per class. */
export async function makeClassFolder(root: string, classes: Record<string, number>, format: 'jpg' | 'png' = 'png'): Promise<void> {
  const palette: Colour[] = [[200, 40, 40], [40, 180, 60], [40, 60, 200], [200, 200, 40], [160, 40, 160]];
  let classIndex = 0;
  for (const [name, count] of Object.entries(classes)) {
    const folder = path.join(root, name);
    mkdirSync(folder, { recursive: true });
    const colour = palette[classIndex++ % palette.length]!;
    for (let i = 0; i < count; i++) {
      const image = shapeImage(40 + (i % 5) * 8, 30 + (i % 3) * 10, colour, [255 - colour[0], 255 - colour[1], 255 - colour[2]], i % 2 ? 'square' : 'circle');
      await (format === 'jpg' ? image.jpeg() : image.png()).toFile(path.join(folder, `image_${i}.${format}`));
    }
  }
}

/** The raw H x W x C pixels of a file, as sharp decodes it. */
export async function pixelsOf(input: string | Buffer, channels: 1 | 3 = 3): Promise<{ pixels: Buffer; width: number; height: number }> {
  let pipeline = sharp(input).flatten({ background: '#ffffff' }).toColourspace('srgb');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (channels === 3) return { pixels: data, width: info.width, height: info.height };
  const grey = Buffer.alloc(info.width * info.height);
  for (let i = 0; i < grey.length; i++) grey[i] = (data[3 * i]! * 19595 + data[3 * i + 1]! * 38470 + data[3 * i + 2]! * 7471 + 0x8000) >>> 16;
  pipeline = sharp(grey);
  return { pixels: grey, width: info.width, height: info.height };
}

/** Reproducible pseudo-random bytes (a linear congruential generator's high bytes). */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}
