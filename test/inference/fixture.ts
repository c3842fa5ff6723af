// fixture.ts — a tiny LeNet-like model folder (deploy.prototxt, random .caffemodel, labels, mean, info.json) and test images.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { writeBinaryproto, writeCaffemodel, type CaffeModelLayer } from '../../lib/caffe/index.js';
import { randomArray, rng } from '../helpers/index.js';

export const LABELS = ['cat', 'dog', 'bird'];
/** Images are resized to 14 x 14 and centre-cropped to the net's 12 x 12 input. */
export const RESIZE = 14;
export const INPUT = 12;

export interface FixtureOptions {
  batch?: number;
  channels?: number;
  classes?: number;
  labels?: string[];
  /** Mean image size (C x H x W); default channels x 14 x 14. */
  meanShape?: [number, number, number];
  info?: Record<string, unknown> | null;
  /** Leave these files out of the folder. */
  omit?: string[];
  /** Leave the weights of these layers out of the .caffemodel. */
  omitWeights?: string[];
  seed?: number;
}

/** conv1 (4 of 3x3) → ReLU → 2x2 max pool → ip1 (10) → ReLU → ip2 (classes) → Softmax "prob". */
export function deployText(batch: number, channels: number, classes: number): string {
  return `name: "TinyLeNet"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: ${batch} dim: ${channels} dim: ${INPUT} dim: ${INPUT} } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "relu1" }
layer { name: "pool1" type: "Pooling" bottom: "relu1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool1" top: "ip1" inner_product_param { num_output: 10 } }
layer { name: "relu2" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: ${classes} } }
layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }
`;
}

/** Random weights of the right shapes, written as Caffe writes a snapshot. */
export function randomCaffemodel(channels: number, classes: number, seed: number, omit: string[] = []): Uint8Array {
  const random = rng(seed);
  const blob = (shape: number[], scale: number) => ({ shape, data: randomArray(shape.reduce((a, b) => a * b, 1), random, -scale, scale) });
  const pooled = 4 * 5 * 5;
  const layers: CaffeModelLayer[] = [
    { name: 'data', type: 'Input', blobs: [] },
    { name: 'conv1', type: 'Convolution', blobs: [blob([4, channels, 3, 3], 0.02), blob([4], 0.1)] },
    { name: 'ip1', type: 'InnerProduct', blobs: [blob([10, pooled], 0.05), blob([10], 0.1)] },
    { name: 'ip2', type: 'InnerProduct', blobs: [blob([classes, 10], 0.5), blob([classes], 0.1)] },
  ];
  return writeCaffemodel({ name: 'TinyLeNet', layers: layers.filter((layer) => !omit.includes(layer.name)) });
}

/** A mean image of the given C x H x W, values near 128. */
export function meanBinaryproto(shape: [number, number, number], seed: number): Uint8Array {
  const data = randomArray(shape[0] * shape[1] * shape[2], rng(seed), 100, 156);
  return writeBinaryproto({ shape: [1, ...shape], data });
}

const created: string[] = [];

/** Removes every folder makeModelFolder made (call from t.teardown). */
export async function removeModelFolders(): Promise<void> {
  await Promise.all(created.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
}

/** Writes a model folder laid out as a DIGITS archive (plus two older snapshots that must not be chosen). */
export async function makeModelFolder(options: FixtureOptions = {}): Promise<string> {
  const channels = options.channels ?? 3;
  const classes = options.classes ?? LABELS.length;
  const seed = options.seed ?? 1;
  const folder = await mkdtemp(path.join(tmpdir(), 'cudnet-inference-'));
  created.push(folder);
  const info = options.info === undefined ? {
    'image dimensions': [RESIZE, RESIZE, channels], 'image resize mode': 'squash', 'mean file': 'mean.binaryproto',
    'labels file': 'labels.txt', framework: 'caffe', 'mean subtraction': 'image',
  } : options.info;
  const files: Record<string, string | Uint8Array> = {
    'deploy.prototxt': deployText(options.batch ?? 8, channels, classes),
    'snapshot_iter_90.caffemodel': randomCaffemodel(channels, classes, seed + 100),
    'snapshot_iter_100.caffemodel': randomCaffemodel(channels, classes, seed, options.omitWeights),
    'snapshot_iter_20.caffemodel': randomCaffemodel(channels, classes, seed + 200),
    'labels.txt': `${(options.labels ?? LABELS).join('\n')}\n`,
    'mean.binaryproto': meanBinaryproto(options.meanShape ?? [channels, RESIZE, RESIZE], seed + 1),
  };
  if (info !== null) files['info.json'] = JSON.stringify(info, null, 2);
  await mkdir(folder, { recursive: true });
  for (const [name, contents] of Object.entries(files))
    if (!(options.omit ?? []).includes(name)) await writeFile(path.join(folder, name), contents);
  return folder;
}

/** A PNG of random pixels (sizes differ so resizing is exercised). */
export async function randomPng(seed: number, width = 16 + (seed % 7), height = 12 + (seed % 5)): Promise<Buffer> {
  const random = rng(seed);
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Corrupt inputs of several kinds, each with what the error should say. */
export async function corruptImages(): Promise<{ bytes: Buffer; reason: RegExp }[]> {
  const png = await randomPng(3);
  return [
    { bytes: Buffer.alloc(0), reason: /empty/ },
    { bytes: Buffer.from('this is not an image at all, just some text'), reason: /unreadable/ },
    { bytes: png.subarray(0, Math.floor(png.length / 2)), reason: /unreadable/ },
  ];
}

/**
 * A valid 8-bit grey PNG of width x height black pixels: rows of zeros deflate about 1000 to 1, so
 * 16000 x 16000 (768 MB once decoded to RGB) is a 249 KB file. Streamed through zlib row by row.
 */
export async function blackPng(width: number, height: number): Promise<Buffer> {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth; colour type 0 (grey), no interlace
  const deflate = zlib.createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (part: Buffer) => parts.push(part));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  const row = Buffer.alloc(width + 1); // filter byte 0, then the row
  for (let y = 0; y < height; y++) deflate.write(row);
  deflate.end();
  await ended;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', Buffer.concat(parts)), chunk('IEND', Buffer.alloc(0))]);
}
