// preprocessing.test.ts — what loadModel reads from a model folder (resize, crop, mean, scale) and how an image becomes the net's input.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseNetPrototxt } from '../../lib/caffe/index.js';
import { readModelFiles } from '../../lib/inference/model-files.js';
import { DEFAULT_MODEL_MAX_INPUT_PIXELS } from '../../lib/inference/decode-limits.js';
import {
  decodeForModel, deployInput, imageToInput, resolvePreprocessing, type Preprocessing,
} from '../../lib/inference/preprocessing.js';
import { INPUT, makeModelFolder, randomPng, removeModelFolders, RESIZE } from './fixture.js';

t.teardown(removeModelFolders);

async function resolveFolder(folder: string): Promise<Preprocessing> {
  const files = await readModelFiles(folder);
  const deploy = parseNetPrototxt(Buffer.from(files.deploy.bytes).toString('utf8'));
  return resolvePreprocessing(files, deploy, deployInput(deploy, files.deploy.name));
}

t.test('a DIGITS-style folder: resize from info.json, centre crop to the input, mean image cropped alike', async (t) => {
  const folder = await makeModelFolder();
  const files = await readModelFiles(folder);
  t.equal(path.basename(files.weights.name), 'snapshot_iter_100.caffemodel', 'the newest snapshot is chosen');
  t.same(files.labels?.labels, ['cat', 'dog', 'bird']);
  const p = await resolveFolder(folder);
  t.match(p, { channels: 3, resizeWidth: RESIZE, resizeHeight: RESIZE, resizeMode: 'squash', cropLeft: 1, cropTop: 1, inputWidth: INPUT, mean: 'image', scale: 1 });
  t.equal(p.meanImage?.length, 3 * INPUT * INPUT);
});

t.test("imageToInput: crop, HWC → CHW, RGB → BGR, (pixel - mean) * scale in float32 as Caffe's DataTransformer", async (t) => {
  const folder = await makeModelFolder();
  const p = { ...(await resolveFolder(folder)), scale: 0.0125 };
  const image = await decodeForModel(await randomPng(5), p, DEFAULT_MODEL_MAX_INPUT_PIXELS);
  t.same([image.width, image.height, image.channels], [RESIZE, RESIZE, 3]);
  const input = imageToInput(image, p);
  let mismatches = 0;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < INPUT; y++)
      for (let x = 0; x < INPUT; x++) {
        const pixel = image.pixels[((y + 1) * RESIZE + x + 1) * 3 + (2 - c)]!;
        const index = (c * INPUT + y) * INPUT + x;
        const expected = Math.fround(Math.fround(pixel - p.meanImage![index]!) * Math.fround(0.0125));
        if (input[index] !== expected) mismatches++;
      }
  t.equal(mismatches, 0, 'every value equals the float32 reference exactly');
});

t.test("DIGITS 'pixel' mean, no info.json (input size, mean of the input size), train_val scale and crop", async (t) => {
  const pixel = await makeModelFolder({ info: { 'image dimensions': [RESIZE, RESIZE, 3], 'mean subtraction': 'pixel', 'mean file': 'mean.binaryproto' } });
  const p = await resolveFolder(pixel);
  t.equal(p.mean, 'pixel');
  t.equal(p.meanValues?.length, 3);
  t.ok(p.meanValues!.every((value) => value > 100 && value < 156), `channel means ${p.meanValues}`);

  const plain = await makeModelFolder({ info: null, meanShape: [3, INPUT, INPUT] });
  await writeFile(path.join(plain, 'train_val.prototxt'), `
layer { name: "train-data" type: "Data" top: "data" top: "label" include { phase: TRAIN } transform_param { scale: 0.5 mirror: true } data_param { source: "x" batch_size: 4 } }
layer { name: "val-data" type: "Data" top: "data" top: "label" include { phase: TEST } transform_param { scale: 0.25 } data_param { source: "y" batch_size: 4 } }
`);
  const q = await resolveFolder(plain);
  t.match(q, { resizeWidth: INPUT, cropLeft: 0, mean: 'image', scale: 0.25 }, 'the TEST-phase transform_param counts');
});

t.test("cudnet train's folder: train_val names the dataset's mean; dataset.json beside it gives resize size and mode", async (t) => {
  const dataset = await makeModelFolder({ info: null });
  await writeFile(path.join(dataset, 'dataset.json'), JSON.stringify({ image: { width: RESIZE, height: RESIZE, channels: 3, resizeMode: 'crop' } }));
  const run = await makeModelFolder({ info: null, omit: ['mean.binaryproto'] });
  await writeFile(path.join(run, 'train_val.prototxt'), `
layer { name: "val-data" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { scale: 0.5 crop_size: ${INPUT} mean_file: "${path.join(dataset, 'mean.binaryproto')}" } data_param { source: "y" batch_size: 4 } }
`);
  const p = await resolveFolder(run);
  t.match(p, { resizeWidth: RESIZE, resizeHeight: RESIZE, resizeMode: 'crop', cropLeft: 1, cropTop: 1, mean: 'image', scale: 0.5 });
  t.match(p.sources.join('; '), /dataset\.json/);
});
