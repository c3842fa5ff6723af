// The `dataset create` command-line entry and the MNIST dataset written through the import path.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import t from 'tap';
import { runDatasetCreateCli } from '../../lib/data/cli.js';
import { readDatasetManifest } from '../../lib/data/manifest.js';
import { LmdbBatchSource } from '../../lib/data/source.js';
import { makeClassFolder, tempFolder } from './helpers.js';

function capture(): { streams: { stdout: PassThrough; stderr: PassThrough }; out: () => string; err: () => string } {
  const streams = { stdout: new PassThrough(), stderr: new PassThrough() };
  let [out, err] = ['', ''];
  streams.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  streams.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { streams, out: () => out, err: () => err };
}

t.test('dataset create <folder> <dest> with flags', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { a: 4, b: 4 });
  const io = capture();
  const code = await runDatasetCreateCli(['dataset', 'create', path.join(root, 'images'), path.join(root, 'out'), '--size', '12x10', '--resize', 'half_crop', '--channels', '1', '--encoding', 'none', '--val-percent', '50', '--seed', '3'], io.streams);
  t.equal(code, 0, io.err());
  t.match(io.out(), /Created .*out: 2 classes, 4 train, 4 val/);
  const manifest = await readDatasetManifest(path.join(root, 'out'));
  t.same([manifest.image.width, manifest.image.height, manifest.image.channels, manifest.image.resizeMode, manifest.options.seed], [12, 10, 1, 'half_crop', 3]);
});

t.test('--png-compression small is recorded; an unknown value is a usage error', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { a: 2, b: 2 });
  const io = capture();
  t.equal(await runDatasetCreateCli([path.join(root, 'images'), path.join(root, 'out'), '--size', '8x8', '--png-compression', 'small'], io.streams), 0, io.err());
  t.equal((await readDatasetManifest(path.join(root, 'out'))).options.pngCompression, 'small');
  t.equal(await runDatasetCreateCli([path.join(root, 'images'), path.join(root, 'out2'), '--png-compression', 'tiny'], io.streams), 2);
  t.match(io.err(), /pngCompression/);
});

t.test('usage and source errors give exit codes and readable messages', async (t) => {
  const root = tempFolder(t);
  const io = capture();
  t.equal(await runDatasetCreateCli(['dataset', 'create', path.join(root, 'nope'), path.join(root, 'out')], io.streams), 1);
  t.match(io.err(), /SOURCE_NOT_FOUND.*does not exist/);
  t.equal(await runDatasetCreateCli(['create', root, path.join(root, 'out'), '--size', '12'], io.streams), 2);
  t.match(io.err(), /Expected <width>x<height> for --size but received "12"/);
  t.equal(await runDatasetCreateCli([root, path.join(root, 'out'), '--val-percent', 'lots'], io.streams), 2);
  t.match(io.err(), /Expected a number for --val-percent/);
  t.equal(await runDatasetCreateCli([root], io.streams), 2);
  t.equal(await runDatasetCreateCli(['--help'], io.streams), 0);
  t.match(io.out(), /Usage: cudnet dataset create/);
});

t.test('--mnist writes the 10,000 digits as a 28x28 greyscale dataset, last 20% of each class for validation', async (t) => {
  const root = tempFolder(t);
  const io = capture();
  t.equal(await runDatasetCreateCli(['dataset', 'create', path.join(root, 'mnist'), '--mnist', '--encoding', 'none'], io.streams), 0, io.err());
  const manifest = await readDatasetManifest(path.join(root, 'mnist'));
  t.same(manifest.labels, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  t.same([manifest.splits.train!.count, manifest.splits.val!.count], [8000, 2000]);
  t.same(manifest.splits.val!.perClass, [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
  const source = await LmdbBatchSource.open({ source: path.join(root, 'mnist', 'val_db'), batchSize: 50, phase: 'TEST' });
  t.same(source.batchShape, [50, 1, 28, 28]);
  const batch = await source.next();
  t.ok(batch.data.every((value) => Number.isInteger(value) && value >= 0 && value <= 255));
  await source.close();
});

t.test('every skipped file is printed with what was wrong, from the scan and from decoding', async (t) => {
  const root = tempFolder(t);
  const images = path.join(root, 'images');
  await makeClassFolder(images, { a: 4, b: 4 });
  const noise = Buffer.from(Array.from({ length: 120 * 90 * 3 }, (_, i) => (i * 7919) % 251));
  const jpeg = await sharp(noise, { raw: { width: 120, height: 90, channels: 3 } }).jpeg().toBuffer();
  // Six found bad by the scan (empty or not images), five only when decoded (cut short after an intact header).
  for (let i = 0; i < 3; i++) writeFileSync(path.join(images, 'a', `empty_${i}.png`), Buffer.alloc(0));
  for (let i = 0; i < 3; i++) writeFileSync(path.join(images, 'b', `text_${i}.jpg`), 'not an image');
  for (let i = 0; i < 5; i++) writeFileSync(path.join(images, i % 2 ? 'a' : 'b', `cut_${i}.jpg`), jpeg.subarray(0, Math.floor(jpeg.length * (0.5 + i / 20))));
  const io = capture();
  t.equal(await runDatasetCreateCli([images, path.join(root, 'out'), '--size', '8x8'], io.streams), 0, io.err());
  const skips = io.err().split('\n').filter((line) => line.startsWith('Skipped '));
  t.equal(skips.length, 11, io.err());
  t.ok(skips.filter((line) => / \(empty\): file is empty \(0 bytes\)$/.test(line)).length === 3, 'empty files');
  t.ok(skips.filter((line) => /text_\d\.jpg \(unreadable\): .+/.test(line)).length === 3, 'text files');
  const cut = skips.filter((line) => /cut_\d\.jpg \(unreadable\): /.test(line));
  t.equal(cut.length, 5, 'files cut short');
  t.same(cut.filter((line) => /Warning treated as error due to failOn setting$/.test(line)), [], 'each says what is wrong');
  t.match(io.out(), /11 file\(s\) skipped \(listed in dataset\.json\)/);
});

t.test('past 100 skipped files the rest are counted, pointing to dataset.json', async (t) => {
  const root = tempFolder(t);
  const images = path.join(root, 'images');
  await makeClassFolder(images, { a: 2, b: 2 });
  for (let i = 0; i < 103; i++) writeFileSync(path.join(images, 'a', `empty_${String(i).padStart(3, '0')}.png`), Buffer.alloc(0));
  const io = capture();
  t.equal(await runDatasetCreateCli([images, path.join(root, 'out'), '--size', '8x8'], io.streams), 0, io.err());
  t.equal(io.err().split('\n').filter((line) => line.startsWith('Skipped ')).length, 100);
  t.match(io.err(), `... and 3 more skipped file(s); all 103 are listed under "skipped" in ${path.join(root, 'out', 'dataset.json')}`);
});
