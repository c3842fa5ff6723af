// preview.ts — one image resized exactly as an import would (DIGITS' resize modes), as a PNG, for the app's preview.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { sharp as loadSharp } from '../optional-deps.js';
import { IMAGE_EXTENSIONS, decodeResizedFile } from './decode.js';
import { DatasetError } from './errors.js';
import { createRandom } from './random.js';
import type { ResizeMode } from './resize.js';

export interface PreviewOptions {
  width: number;
  height: number;
  resizeMode: ResizeMode;
  channels: 1 | 3;
  /** Seed of the noise `fill` pads with. */
  seed?: number;
}

/** The first image file in a folder tree, in sorted order (the class folders of a dataset). */
export async function firstImageIn(folder: string, depth = 3): Promise<string | undefined> {
  const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isFile() && IMAGE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) return full;
  }
  if (depth === 0) return undefined;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const found = await firstImageIn(path.join(folder, entry.name), depth - 1);
    if (found) return found;
  }
  return undefined;
}

/** `file` (or the first image under it, when it is a folder) resized as the import would store it, as PNG bytes. */
export async function previewResize(file: string, options: PreviewOptions): Promise<Buffer> {
  const image = await decodeResizedFile(file, options.channels, options.width, options.height, options.resizeMode,
    createRandom(options.seed ?? 0));
  if (image.encoded) return image.encoded;
  const pipeline = loadSharp()(Buffer.from(image.pixels), { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 } });
  return (image.channels === 1 ? pipeline.toColourspace('b-w') : pipeline).png().toBuffer();
}

/** previewResize of a folder's first image; a folder without images is a DatasetError. */
export async function previewFolder(folder: string, options: PreviewOptions): Promise<{ file: string; png: Buffer }> {
  const file = await firstImageIn(folder);
  if (!file) throw new DatasetError('NO_IMAGES', `${folder} holds no image to preview`);
  return { file, png: await previewResize(file, options) };
}
