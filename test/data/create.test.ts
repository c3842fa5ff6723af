// createDataset end to end: folder and list sources, splits, records, mean image, manifest, bad files and errors.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import sharp from 'sharp';
import { decodeDatum } from '../../lib/caffe/datum.js';
import { readMeanBinaryproto } from '../../lib/data/mean.js';
import { createDataset } from '../../lib/data/create.js';
import { DatasetError } from '../../lib/data/errors.js';
import { readDatasetManifest } from '../../lib/data/manifest.js';
import { openRecords } from '../../lib/data/store.js';
import { makeClassFolder, tempFolder } from './helpers.js';

/** Every record of a database as [key, Datum], in key order. */
async function readAll(folder: string): Promise<[string, ReturnType<typeof decodeDatum>][]> {
  const database = openRecords(folder);
  const records: [string, ReturnType<typeof decodeDatum>][] = [];
  for (const { key, value } of database.getRange({})) records.push([key.toString(), decodeDatum(value)]);
  await database.close();
  return records;
}

/** Raw (planar BGR) pixels of a record, decoding PNG/JPEG records the way Caffe would. */
async function planarOf(datum: ReturnType<typeof decodeDatum>): Promise<Uint8Array> {
  if (!datum.encoded) return datum.data;
  const { data, info } = await sharp(Buffer.from(datum.data)).raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const planar = new Uint8Array(plane * info.channels);
  for (let c = 0; c < info.channels; c++) for (let i = 0; i < plane; i++) planar[(info.channels - 1 - c) * plane + i] = data[i * info.channels + c]!;
  return planar;
}

t.test('folder import: labels, splits, records, mean and manifest (colour, raw)', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { cat: 8, big_dog: 6, ant: 5 });
  mkdirSync(path.join(root, 'images', 'cat', 'nested'));
  await sharp({ create: { width: 30, height: 30, channels: 3, background: '#ff0000' } }).png().toFile(path.join(root, 'images', 'cat', 'nested', 'deep.png'));
  symlinkSync(path.join(root, 'images', 'ant'), path.join(root, 'images', 'cat', 'linked'));
  const dest = path.join(root, 'dataset');
  const phases = new Set<string>();
  const report = await createDataset(
    { folder: path.join(root, 'images'), dest, width: 24, height: 16, encoding: 'none', valPercent: 25, seed: 7 },
    { onProgress: (progress) => phases.add(progress.phase) },
  );
  t.same(readFileSync(path.join(dest, 'labels.txt'), 'utf8'), 'ant\nbig dog\ncat\n', 'sorted folder names, _ shown as a space');
  // ant 5 -> 4/1; big dog 6 -> round(4.5) = 5 train, round(1.5) = 2 val overflows -> 1;
  // cat: 8 own + 1 nested + 5 through the symlink = 14 -> round(10.5) = 11 train, round(3.5) = 4 val overflows -> 3.
  t.same(report.splits.train!.perClass, [4, 5, 11]);
  t.same(report.splits.val!.perClass, [1, 1, 3]);
  t.same([...phases].sort(), ['finish', 'scan', 'train', 'val']);
  const records = await readAll(path.join(dest, 'train_db'));
  t.equal(records.length, 20);
  t.same(records.map(([key]) => key.split('_')[0]), records.map((_, index) => String(index).padStart(8, '0')), 'keys are consecutive %08d');
  t.ok(records.every(([key, datum]) => key.endsWith(`_${datum.label}`) && datum.channels === 3 && datum.height === 16 && datum.width === 24 && datum.data.length === 3 * 16 * 24));
  t.ok(new Set(records.slice(0, 6).map(([, datum]) => datum.label)).size > 1, 'classes are mixed in key order (shuffled)');
  // Mean: float64 sum of the training records / count, rounded half to even, stored CHW BGR.
  const sum = new Float64Array(3 * 16 * 24);
  for (const [, datum] of records) datum.data.forEach((value, index) => (sum[index] += value));
  const mean = await readMeanBinaryproto(path.join(dest, 'mean.binaryproto'));
  t.same([mean.channels, mean.height, mean.width], [3, 16, 24]);
  const worst = Math.max(...Array.from(mean.data, (value, index) => Math.abs(value - sum[index]! / records.length)));
  t.ok(worst <= 0.5, `mean within rounding of the direct computation (max error ${worst})`);
  t.ok(Array.from(mean.data).every(Number.isInteger), 'mean values are rounded like DIGITS');
  const meanPng = await sharp(path.join(dest, 'mean.png')).raw().toBuffer({ resolveWithObject: true });
  t.equal(meanPng.data[0], mean.data[2 * 16 * 24], 'mean.png is RGB: its red is the blob\'s third plane');
  const manifest = await readDatasetManifest(dest);
  t.equal(manifest.formatVersion, 1);
  t.same(manifest.options.width, 24);
  t.same(manifest.splits.train!.count, 20);
  t.same(readdirSync(root).sort(), ['dataset', 'images'], 'no partial folder left behind');
});

t.test('greyscale PNG records, crop and fill modes, test split, min and max per class', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { a: 12, b: 3, c: 1 }, 'jpg');
  const messages: string[] = [];
  const report = await createDataset(
    { folder: path.join(root, 'images'), dest: path.join(root, 'grey'), channels: 1, width: 20, height: 20, resizeMode: 'fill', valPercent: 20, testPercent: 20, maxPerClass: 10 },
    { onMessage: (message) => messages.push(message) },
  );
  t.same(report.labels, ['a', 'b'], 'class c (1 image) dropped');
  t.ok(messages.some((message) => /Class "c" dropped/.test(message)));
  t.ok(messages.some((message) => /Class "a": kept 10 images/.test(message)));
  t.same([report.splits.train!.perClass, report.splits.val!.perClass, report.splits.test!.perClass], [[6, 1], [2, 1], [2, 1]]);
  const [, first] = (await readAll(path.join(root, 'grey', 'test_db')))[0]!;
  t.equal(first.encoded, true);
  const info = await sharp(Buffer.from(first.data)).metadata();
  t.same([info.format, info.channels, info.width, info.height], ['png', 1, 20, 20]);
  await t.rejects(createDataset({ folder: path.join(root, 'images'), dest: path.join(root, 'grey') }), { code: 'DESTINATION_EXISTS' });
  const crop = await createDataset({ folder: path.join(root, 'images'), dest: path.join(root, 'grey'), overwrite: true, width: 10, height: 30, resizeMode: 'crop', encoding: 'jpg', valPercent: 0, minPerClass: 1 });
  t.same(crop.labels, ['a', 'b', 'c']);
  const [, jpeg] = (await readAll(path.join(root, 'grey', 'train_db')))[0]!;
  t.same((await sharp(Buffer.from(jpeg.data)).metadata()).format, 'jpeg');
});

t.test('list files with a labels file and a prefix; separate validation folder', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { x: 4, y: 4 });
  writeFileSync(path.join(root, 'labels.txt'), 'ex\nwhy\n');
  writeFileSync(path.join(root, 'train.txt'), 'x/image_0.png 0\nx/image_1.png 0\ny/image_0.png 1\ny/image_1.png 1\nnot a line\ny/image_2.png 7\n');
  writeFileSync(path.join(root, 'val.txt'), `${path.join(root, 'images', 'x', 'image_3.png')} 0\ny/image_3.png 1\n`);
  const report = await createDataset({ dest: path.join(root, 'list'), labelsFile: path.join(root, 'labels.txt'), trainList: path.join(root, 'train.txt'), valList: path.join(root, 'val.txt'), prefix: path.join(root, 'images'), shuffle: false, width: 8, height: 8 });
  t.same(report.labels, ['ex', 'why']);
  t.same([report.splits.train!.count, report.splits.val!.count], [4, 2]);
  t.same(report.skipped.map((skip) => skip.reason).sort(), ['bad-line', 'unknown-label']);
  t.same((await readAll(path.join(root, 'list', 'train_db'))).map(([key]) => key), ['00000000_0', '00000001_0', '00000002_1', '00000003_1'], 'list order kept without shuffle');

  await makeClassFolder(path.join(root, 'val'), { x: 2, y: 3, zebra: 2 });
  const separate = await createDataset({ folder: path.join(root, 'images'), valFolder: path.join(root, 'val'), dest: path.join(root, 'separate'), width: 8, height: 8 });
  t.same([separate.splits.train!.count, separate.splits.val!.perClass], [8, [2, 3]], 'valPercent forced to 0; val folder classes matched by name');
  t.ok(separate.messages.some((message) => /zebra/.test(message)));
});

t.test('bad files are skipped, counted and listed; the import completes', async (t) => {
  const root = tempFolder(t);
  const images = path.join(root, 'images');
  await makeClassFolder(images, { one: 4, two: 4 });
  writeFileSync(path.join(images, 'one', 'empty.png'), Buffer.alloc(0));
  writeFileSync(path.join(images, 'one', 'notes.jpg'), 'not an image at all');
  const noise = Buffer.from(Array.from({ length: 200 * 200 * 3 }, (_, i) => (i * 7919) % 251));
  const jpeg = await sharp(noise, { raw: { width: 200, height: 200, channels: 3 } }).jpeg().toBuffer();
  writeFileSync(path.join(images, 'two', 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.7)));
  await sharp({ create: { width: 300, height: 300, channels: 3, background: '#000000' } }).png().toFile(path.join(images, 'two', 'huge.png'));
  const vanishing = path.join(images, 'two', 'image_3.png');
  const report = await createDataset({ folder: images, dest: path.join(root, 'out'), width: 8, height: 8, valPercent: 0, maxInputPixels: 250 * 250, concurrency: 1 }, {
    onProgress: (progress) => {
      // The file passed the scan, then disappears before it is decoded.
      if (progress.phase === 'scan' && progress.done === progress.total && existsSync(vanishing)) unlinkSync(vanishing);
    },
  });
  const reasons = Object.fromEntries(report.skipped.map((skip) => [path.basename(skip.path), skip.reason]));
  t.same(reasons, { 'empty.png': 'empty', 'notes.jpg': 'unreadable', 'huge.png': 'too-large', 'cut.jpg': 'unreadable', 'image_3.png': 'missing' });
  t.same(report.splits.train!.perClass, [4, 3]);
  const manifest = await readDatasetManifest(path.join(root, 'out'));
  t.equal(manifest.skipped.length, 5);
  t.equal((await readAll(path.join(root, 'out', 'train_db'))).length, 7);
});

t.test('unusable sources fail with a coded error before any work', async (t) => {
  const root = tempFolder(t);
  writeFileSync(path.join(root, 'file.txt'), 'x');
  await makeClassFolder(path.join(root, 'single'), { only: 3 });
  const dest = path.join(root, 'out');
  await t.rejects(createDataset({ folder: path.join(root, 'missing'), dest }), { code: 'SOURCE_NOT_FOUND', message: /does not exist/ });
  await t.rejects(createDataset({ folder: path.join(root, 'file.txt'), dest }), { code: 'SOURCE_NOT_DIRECTORY', message: /is not a folder/ });
  await t.rejects(createDataset({ folder: path.join(root, 'single'), dest }), { code: 'TOO_FEW_CLASSES', message: /at least two sub-folders/ });
  await t.rejects(createDataset({ folder: root, dest, valPercent: 80, testPercent: 30 }), { code: 'INVALID_OPTION', message: /valPercent \+ testPercent <= 100/ });
  await t.rejects(createDataset({ folder: root, dest, width: -3 }), { code: 'INVALID_OPTION', message: /for width but received -3/ });
  await t.rejects(createDataset({ folder: root, dest, resizeMode: 'stretch' as 'crop' }), { code: 'INVALID_OPTION' });
  await t.rejects(createDataset({ folder: root, dest, valPrecent: 10 } as never), { code: 'UNKNOWN_OPTION', message: /did you mean "valPercent"/ });
  const error = await createDataset({ folder: path.join(root, 'missing'), dest }).catch((caught: unknown) => caught);
  t.ok(error instanceof DatasetError);
  t.notOk(existsSync(dest), 'nothing written');
});

t.test('a destination that cannot be created is refused before any work, without hanging', { timeout: 60_000 }, async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { a: 2, b: 2 });
  writeFileSync(path.join(root, 'file'), 'x');
  const options = { folder: path.join(root, 'images'), width: 8, height: 8 };
  await t.rejects(createDataset({ ...options, dest: path.join(root, 'file', 'dataset') }), {
    code: 'DESTINATION_INVALID', message: `Destination "${path.join(root, 'file', 'dataset')}" cannot be created: "${path.join(root, 'file')}" is a file, not a folder`,
  });
  // /proc answers ENOENT to any new folder, which makes Node's recursive mkdir retry for ever.
  if (existsSync('/proc/self')) {
    await t.rejects(createDataset({ ...options, dest: '/proc/cudnet-dataset' }), {
      code: 'DESTINATION_INVALID', message: 'Destination "/proc/cudnet-dataset" cannot be created: the file system of "/proc" does not allow new folders',
    });
  }
  t.same(readdirSync(root).sort(), ['file', 'images'], 'nothing written');
});
