// The `dataset create` command-line entry and the MNIST dataset written through the import path.
import path from 'node:path';
import { PassThrough } from 'node:stream';
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
