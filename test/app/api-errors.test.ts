// api-errors.test.ts — the API refuses bad input with the right status and a { error: { message, field } } body.
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { caffe } from '../../lib/index.js';
import { call, temporaryFolder, waitFor } from './helpers.js';

t.test('bad requests', async (t) => {
  const root = await temporaryFolder('cudnet-app-root-');
  const outside = await temporaryFolder('cudnet-app-outside-');
  await mkdir(path.join(root, 'images'));
  await symlink(outside, path.join(root, 'escape'));
  const server = await startServer({ port: 0, jobsDir: await temporaryFolder('cudnet-app-jobs-'), dataRoots: [root], uploadLimit: 1024 });
  t.teardown(() => server.close());
  const unknown = '20200101-000000-abcd';

  const outsideRoot = await call(server, 'POST', '/api/datasets', { name: 'x', folder: outside });
  t.equal(outsideRoot.status, 403, 'a folder outside the data root is refused');
  t.equal(outsideRoot.body.error.field, 'folder', 'naming the field');
  t.equal((await call(server, 'POST', '/api/datasets', { name: 'x', folder: `${root}/images/../../${path.basename(outside)}` })).status, 403, 'no escape with ..');
  t.equal((await call(server, 'POST', '/api/datasets', { name: 'x', folder: path.join(root, 'escape') })).status, 400, 'no escape through a symlink (answered as a missing folder)');
  t.equal((await call(server, 'POST', '/api/datasets', { name: 'x', folder: 'images' })).status, 400, 'a relative path is refused');
  t.equal((await call(server, 'POST', '/api/datasets', { name: 'x', folder: path.join(root, 'missing') })).status, 400, 'a missing folder is refused');

  const wrongType = await call(server, 'POST', '/api/datasets', { name: 'x', folder: path.join(root, 'images'), width: 'wide' });
  t.equal(wrongType.status, 400, 'a wrong type is refused');
  t.equal(wrongType.body.error.field, 'width', 'naming the field');
  t.equal((await call(server, 'POST', '/api/datasets', { name: 'x', folder: path.join(root, 'images'), valPercent: 80, testPercent: 30 })).body.error.field, 'testPercent', 'percent sum over 100');
  t.equal((await call(server, 'POST', '/api/datasets', { name: 'x', folder: path.join(root, 'images'), colour: 3 })).status, 400, 'an unknown field is refused');
  const notJson = await fetch(`${server.url}/api/datasets`, { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
  t.equal(notJson.status, 400, 'a body that is not JSON is refused');

  t.equal((await call(server, 'POST', '/api/models', { name: 'm', datasetId: unknown })).body.error.field, 'datasetId', 'a model on an unknown dataset');
  t.equal((await call(server, 'POST', '/api/models', { name: 'm', datasetId: unknown, epochs: -1 })).status, 400, 'negative epochs');
  t.equal((await call(server, 'POST', '/api/models', { name: 'm', datasetId: unknown, network: 'custom' })).body.error.field, 'customNetwork', 'custom without prototxt');

  const weights = path.join(root, 'images', 'pretrained.caffemodel');
  await writeFile(weights, caffe.writeCaffemodel({ name: 'n', layers: [{ name: 'ip', type: 'InnerProduct', blobs: [{ shape: [2, 3], data: new Float32Array(6) }] }] }));
  await writeFile(path.join(root, 'images', 'corrupt.caffemodel'), Buffer.from([0x0a, 0xff, 0xff, 0xff]));
  await writeFile(path.join(outside, 'x.caffemodel'), await readFile(weights));
  const pretrainedOutside = await call(server, 'POST', '/api/models', { name: 'm', datasetId: unknown, pretrainedModel: path.join(outside, 'x.caffemodel') });
  t.equal(pretrainedOutside.status, 403, 'pretrained weights outside the data root are refused');
  t.equal(pretrainedOutside.body.error.field, 'pretrainedModel', 'naming the field');
  const corrupt = await call(server, 'POST', '/api/models', { name: 'm', datasetId: unknown, pretrainedModel: path.join(root, 'images', 'corrupt.caffemodel') });
  t.equal(corrupt.status, 400, 'a corrupt .caffemodel is refused');
  t.equal(corrupt.body.error.field, 'pretrainedModel', 'naming the field');
  t.equal((await call(server, 'POST', '/api/models', { name: 'm', datasetId: unknown, pretrainedModel: weights })).body.error.field, 'datasetId',
    'readable weights pass their check (the unknown dataset is what is refused)');

  await mkdir(path.join(root, 'images', 'cats'), { recursive: true });
  await sharp({ create: { width: 60, height: 30, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toFile(path.join(root, 'images', 'cats', 'a.png'));
  for (const resizeMode of ['squash', 'crop', 'fill', 'half_crop']) {
    const preview = await fetch(`${server.url}/api/datasets/preview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ folder: path.join(root, 'images'), width: 32, height: 24, resizeMode, channels: 1 }),
    });
    t.equal(preview.headers.get('content-type'), 'image/png', `a ${resizeMode} preview is a PNG`);
    const meta = await sharp(Buffer.from(await preview.arrayBuffer())).metadata();
    t.same([meta.width, meta.height, meta.channels], [32, 24, 1], `of the asked size and channels (${resizeMode})`);
  }
  t.equal((await call(server, 'POST', '/api/datasets/preview', { folder: outside })).status, 403, 'no preview outside the data roots');
  await mkdir(path.join(root, 'empty'));
  const empty = await call(server, 'POST', '/api/datasets/preview', { folder: path.join(root, 'empty') });
  t.equal(empty.status, 400, 'a folder without images has no preview');
  t.match(empty.body.error.message, /holds no image to preview/);

  // List files: two classes of generated images, paths relative to a prefix folder.
  const listed = path.join(root, 'listed');
  await mkdir(path.join(listed, 'pictures'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < 8; i++) {
    const label = i % 2;
    await sharp({ create: { width: 20, height: 16, channels: 3, background: { r: label ? 250 : 10, g: 30 * i, b: 90 } } })
      .png().toFile(path.join(listed, 'pictures', `${i}.png`));
    lines.push(`pictures/${i}.png ${label}`);
  }
  await writeFile(path.join(listed, 'labels.txt'), 'dark\nbright\n');
  await writeFile(path.join(listed, 'train.txt'), `${lines.slice(0, 6).join('\n')}\n`);
  await writeFile(path.join(listed, 'val.txt'), `${lines.slice(6).join('\n')}\n`);
  const listBody = {
    name: 'listed', labelsFile: path.join(listed, 'labels.txt'), trainList: path.join(listed, 'train.txt'),
    valList: path.join(listed, 'val.txt'), prefix: listed, width: 16, height: 16, valPercent: 0,
  };
  t.equal((await call(server, 'POST', '/api/datasets', { ...listBody, labelsFile: undefined })).body.error.field, 'labelsFile', 'a list needs its labels file');
  t.equal((await call(server, 'POST', '/api/datasets', { ...listBody, folder: listed })).body.error.field, 'folder', 'a folder or lists, not both');
  t.equal((await call(server, 'POST', '/api/datasets', { ...listBody, trainList: path.join(outside, 'x.caffemodel') })).status, 403, 'list files stay inside the data roots');
  const created = await call(server, 'POST', '/api/datasets', listBody);
  t.equal(created.status, 201, 'a dataset from list files is accepted');
  const done = await waitFor(server, created.body.id, ['DONE', 'ERROR']);
  t.equal(done.state, 'DONE', `the list import finishes (${done.error ?? ''})`);
  t.same([done.result.splits.train.count, done.result.splits.val.count], [6, 2], 'with the lists\' splits');
  t.same(done.result.labels, ['dark', 'bright'], 'and the labels file\'s names');

  const lenetText = await (await fetch(`${server.url}/api/networks/lenet`)).text();
  const graph = await call(server, 'POST', '/api/networks/graph', { customNetwork: lenetText });
  t.equal(graph.status, 200, 'a network is drawn from its prototxt');
  t.same(graph.body.layers.map((layer: { name: string }) => layer.name),
    ['mnist', 'mnist', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'accuracy', 'loss'], 'every layer in order');
  t.same(graph.body.layers[0].phases, ['TRAIN'], 'with its phase rule');
  const malformed = await call(server, 'POST', '/api/networks/graph', { customNetwork: 'layer {\n  kernal_size: 3\n}' });
  t.equal(malformed.status, 400, 'a malformed prototxt is refused');
  t.equal(malformed.body.error.field, 'customNetwork', 'naming the field');
  t.match(malformed.body.error.message, /custom network:2:3: unknown field 'kernal_size'/, 'with the line and column');

  for (const [method, route] of [['GET', `/api/jobs/${unknown}`], ['POST', `/api/jobs/${unknown}/abort`], ['DELETE', `/api/jobs/${unknown}`],
    ['POST', `/api/jobs/${unknown}/resume`], ['GET', `/api/models/${unknown}`], ['GET', `/api/datasets/${unknown}`], ['GET', `/api/jobs/${unknown}/clone`],
    ['GET', `/api/models/${unknown}/download`], ['GET', '/api/nothing'], ['GET', '/no-such-page']] as const) {
    const response = await call(server, method, route);
    t.equal(response.status, 404, `${method} ${route} is 404`);
    t.type(response.body.error?.message, 'string', 'with a message');
  }
  t.equal((await call(server, 'PUT', '/api/jobs')).status, 405, 'a wrong method is 405');

  const big = await call(server, 'POST', `/api/models/${unknown}/classify`, new Uint8Array(4096), { 'content-type': 'image/png' });
  t.equal(big.status, 404, 'the job is checked first');
  const mnist = await call(server, 'POST', '/api/datasets/mnist', {});
  t.equal(mnist.status, 201, 'MNIST job');
  const tooBig = await call(server, 'POST', '/api/datasets/mnist', new Uint8Array(2 << 20), { 'content-type': 'application/json' });
  t.equal(tooBig.status, 413, 'an oversize body is 413');
  t.equal((await call(server, 'POST', `/api/jobs/${mnist.body.id}/resume`)).status, 409, 'a dataset cannot be resumed');
  t.equal((await call(server, 'GET', `/api/models/${mnist.body.id}`)).status, 404, 'a dataset is not a model');
  t.equal((await call(server, 'GET', `/api/datasets/${mnist.body.id}/images/val?page=-1`)).status, 400, 'a negative page');
  t.equal((await call(server, 'POST', `/api/jobs/${mnist.body.id}/abort`)).status, 200, 'abort');
  const page = await fetch(`${server.url}/`);
  t.match(await page.text(), /Datasets/, 'the home page is served');
  t.equal((await fetch(`${server.url}/static/../package.json`)).status, 404, 'no static file outside public/');
});
