// uploads.test.ts — pretrained weights uploaded as a .caffemodel (streamed, size-limited, checked, then used by a training) and classify one from a server path.
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { cleanUploads } from '../../lib/app/uploads.js';
import { caffe } from '../../lib/index.js';
import { call, listDataset, temporaryFolder, waitFor, type Server } from './helpers.js';

const UPLOAD = '/api/uploads/caffemodel';

t.test('pretrained weights by upload, and classify one from a server path', async (t) => {
  const root = await temporaryFolder('cudnet-app-root-');
  const outside = await temporaryFolder('cudnet-app-outside-');
  const jobsDir = await temporaryFolder('cudnet-app-jobs-');
  const server = await startServer({ port: 0, jobsDir, dataRoots: [root], uploadLimit: 64 << 10, weightsUploadLimit: 1 << 20 });
  t.teardown(() => server.close());
  const uploads = path.join(jobsDir, 'uploads');
  const octets = { 'content-type': 'application/octet-stream' };

  const dataset = (await call(server, 'POST', '/api/datasets', await listDataset(root, 'two', ['red', 'green']))).body;
  t.equal((await waitFor(server, dataset.id, ['DONE', 'ERROR'])).state, 'DONE', 'the dataset is imported');
  const form = { datasetId: dataset.id, epochs: 2, batchSize: 2, mean: 'none', lrPolicy: 'fixed', seed: 1, device: 'cpu' };
  const first = (await call(server, 'POST', '/api/models', { ...form, name: 'from scratch' })).body;
  t.equal((await waitFor(server, first.id, ['DONE', 'ERROR'])).state, 'DONE', 'a model trains');
  const snapshot = (await call(server, 'GET', `/api/models/${first.id}`)).body.snapshots.at(-1);
  const weights = await readFile(path.join(jobsDir, first.id, snapshot.caffemodel));

  t.test('an upload is checked and kept under an id', async (t) => {
    const uploaded = await call(server, 'POST', `${UPLOAD}?name=lenet.caffemodel`, weights, octets);
    t.equal(uploaded.status, 201, 'a .caffemodel is accepted');
    t.match(uploaded.body, { id: /^[0-9a-f]{16}$/, name: 'lenet.caffemodel', size: weights.length }, 'its id, name and size');
    t.same(uploaded.body.layers, ['conv1', 'conv2', 'ip1', 'ip2'], 'the layers that carry weights');
    t.same(await readFile(path.join(uploads, `${uploaded.body.id}.caffemodel`)), weights, 'the file is kept whole in the uploads folder');
    t.same((await readdir(uploads)).filter((name) => name.startsWith('.')), [], 'no temporary file is left');

    const model = await call(server, 'POST', '/api/models', { ...form, name: 'fine-tuned', pretrainedUpload: uploaded.body.id });
    t.equal(model.status, 201, 'a model starts from the upload');
    t.equal((await waitFor(server, model.body.id, ['DONE', 'ERROR'])).state, 'DONE', 'and trains');
    const log = (await call(server, 'GET', `/api/jobs/${model.body.id}/log`)).body.toString();
    t.match(log, new RegExp(`Weights of 4 layer\\(s\\) loaded from upload ${uploaded.body.id} \\(lenet\\.caffemodel\\), .*: conv1, conv2, ip1, ip2`), 'every layer is loaded by name');
    const details = (await call(server, 'GET', `/api/models/${model.body.id}`)).body;
    t.same(details.pretrained, { source: 'upload', upload: uploaded.body.id, name: 'lenet.caffemodel' }, 'the model shows the weights it started from');
    t.match(JSON.parse(await readFile(path.join(jobsDir, model.body.id, 'status.json'), 'utf8')).pretrained, { file: path.join(uploads, `${uploaded.body.id}.caffemodel`) },
      'the job records their file, which the browser is not sent (it lies in the jobs folder)');
    t.equal(details.options.pretrainedUpload, uploaded.body.id, 'and its options name the upload (clone sends it again)');
    t.equal((await call(server, 'GET', `/api/jobs/${model.body.id}/clone`)).body.options.pretrainedUpload, uploaded.body.id, 'clone keeps it');

    const onPath = path.join(root, 'lenet.caffemodel');
    await writeFile(onPath, weights);
    const fromPath = await call(server, 'POST', '/api/models', { ...form, name: 'from a path', pretrainedModel: onPath, maxIterations: 1 });
    t.equal(fromPath.status, 201, 'a path still works');
    t.equal((await waitFor(server, fromPath.body.id, ['DONE', 'ERROR'])).state, 'DONE', 'and trains');
    t.match((await call(server, 'GET', `/api/models/${fromPath.body.id}`)).body.pretrained, { source: 'path', file: onPath }, 'recording the path');

    const bad = async (body: Record<string, unknown>) => call(server, 'POST', '/api/models', { ...form, name: 'bad', ...body });
    const unknown = await bad({ pretrainedUpload: '0123456789abcdef' });
    t.equal(unknown.status, 400, 'an unknown upload id is refused');
    t.equal(unknown.body.error.field, 'pretrainedUpload', 'on its field');
    t.match(unknown.body.error.message, /no uploaded weights/, unknown.body.error.message);
    const malformed = await bad({ pretrainedUpload: '../../etc/passwd' });
    t.equal(malformed.status, 400, 'a malformed id is refused');
    t.equal(malformed.body.error.field, 'pretrainedUpload', 'on its field');
    const both = await bad({ pretrainedUpload: uploaded.body.id, pretrainedModel: onPath });
    t.equal(both.status, 400, 'a path and an upload together are refused');
    t.equal(both.body.error.field, 'pretrainedUpload', 'on the upload field');
    const withPrevious = await bad({ pretrainedUpload: uploaded.body.id, network: 'previous', previousNetwork: first.id, previousSnapshot: snapshot.iter });
    t.equal(withPrevious.status, 400, 'an upload with a previous network\'s snapshot is refused');
    t.equal(withPrevious.body.error.field, 'pretrainedUpload', 'on the upload field');
  });

  t.test('bad uploads are refused and deleted', async (t) => {
    const before = (await readdir(uploads)).sort();
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
    const notWeights = await call(server, 'POST', `${UPLOAD}?name=cat.png`, png, octets);
    t.equal(notWeights.status, 400, 'a PNG is not a .caffemodel');
    t.equal(notWeights.body.error.field, 'file', 'naming the file');
    t.match(notWeights.body.error.message, /Not a Caffe \.caffemodel/, notWeights.body.error.message);
    const noBlobs = caffe.writeCaffemodel({ name: 'empty', layers: [{ name: 'relu', type: 'ReLU', blobs: [] }] });
    const empty = await call(server, 'POST', UPLOAD, noBlobs, octets);
    t.equal(empty.status, 400, 'a NetParameter without weights is refused');
    t.match(empty.body.error.message, /holds no weights/, empty.body.error.message);
    t.equal((await call(server, 'POST', UPLOAD, new Uint8Array(0), octets)).status, 400, 'an empty body is refused');
    const json = await call(server, 'POST', UPLOAD, { weights: 1 });
    t.equal(json.status, 415, 'a JSON body is refused');
    t.match(json.body.error.message, /application\/octet-stream/, json.body.error.message);
    const declared = await call(server, 'POST', UPLOAD, new Uint8Array((1 << 20) + 1), octets);
    t.equal(declared.status, 413, 'a body over the limit is refused');
    t.match(declared.body.error.message, /1 MiB/, declared.body.error.message);

    // No content-length: the limit is checked as the chunks arrive.
    const chunk = new Uint8Array(64 << 10);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 << 20) controller.close();
        else {
          sent += chunk.length;
          controller.enqueue(chunk);
        }
      },
    });
    const streamed = await fetch(server.url + UPLOAD, { method: 'POST', body: stream, headers: octets, duplex: 'half' } as RequestInit);
    t.equal(streamed.status, 413, 'a streamed body is cut off at the limit');
    t.match((await streamed.json()).error.message, /larger than the 1 MiB/, 'with the limit in the message');
    t.same((await readdir(uploads)).sort(), before, 'no refused file (nor a temporary one) is left');
  });

  t.test('uploads are listed with the models that use them, deleted, and cleaned up', async (t) => {
    const listed = async () => (await call(server, 'GET', '/api/uploads')).body as { uploads: { id: string; name?: string; usedBy: string[] }[]; keepHours: number };
    const used = (await listed()).uploads.find((upload) => upload.name === 'lenet.caffemodel');
    t.ok(used, 'the first subtest\'s upload is listed');
    t.equal(used!.usedBy.length, 1, 'with the model that started from it');
    t.equal((await listed()).keepHours, 24, 'and how long unused ones are kept');

    const spare = (await call(server, 'POST', `${UPLOAD}?name=spare.caffemodel`, weights, octets)).body;
    t.same((await listed()).uploads.find((upload) => upload.id === spare.id)?.usedBy, [], 'a new upload is used by no model');
    const deleted = await call(server, 'DELETE', `/api/uploads/${spare.id}`);
    t.equal(deleted.status, 200, 'it can be deleted');
    t.notOk((await readdir(uploads)).some((name) => name.startsWith(spare.id)), 'its file and its record are gone');
    t.equal((await call(server, 'DELETE', `/api/uploads/${spare.id}`)).status, 404, 'deleting it again: 404');

    // A training that has not yet loaded an upload keeps it from being deleted.
    const busy = (await call(server, 'POST', '/api/models', { ...form, name: 'busy', epochs: 500 })).body;
    const needed = (await call(server, 'POST', `${UPLOAD}?name=needed.caffemodel`, weights, octets)).body;
    const waiting = (await call(server, 'POST', '/api/models', { ...form, name: 'waits for the device', pretrainedUpload: needed.id })).body;
    t.equal((await call(server, 'GET', `/api/jobs/${waiting.id}`)).body.state, 'WAIT', 'a second training waits for the device');
    const refused = await call(server, 'DELETE', `/api/uploads/${needed.id}`);
    t.equal(refused.status, 409, 'the upload it will load cannot be deleted');
    t.match(refused.body.error.message, /"waits for the device" will start from these weights/, refused.body.error.message);
    await call(server, 'POST', `/api/jobs/${waiting.id}/abort`);
    await call(server, 'POST', `/api/jobs/${busy.id}/abort`);
    await waitFor(server, busy.id, ['ABORT', 'DONE', 'ERROR']);

    // Cleaning: unfinished temporary files at start, and unused uploads past their age; a used one stays.
    const unused = (await call(server, 'POST', `${UPLOAD}?name=unused.caffemodel`, weights, octets)).body;
    await writeFile(path.join(uploads, '.0123456789abcdef.caffemodel.part'), 'half an upload');
    await writeFile(path.join(uploads, 'notes.txt'), 'not ours');
    t.same(await cleanUploads(server.context.jobs, 24, true), ['.0123456789abcdef.caffemodel.part'], 'at start: the temporary file of an upload that never finished');
    t.ok((await listed()).uploads.some((upload) => upload.id === unused.id), 'a recent unused upload is kept');
    const later = Date.now() + 25 * 3600e3;
    t.same(await cleanUploads(server.context.jobs, 24, false, later), [unused.id], 'a day later: the upload no model names');
    const left = (await listed()).uploads.map((upload) => upload.id);
    t.ok(left.includes(used!.id) && left.includes(needed.id), 'uploads that models name stay (a clone sends them again)');
    t.ok((await readdir(uploads)).includes('notes.txt'), 'files that are not uploads are left alone');
    t.same(await cleanUploads(server.context.jobs, 0, false, later), [], 'with 0 hours nothing is deleted for its age');
  });

  t.test('classify one from a server path', async (t) => {
    const folder = path.join(root, 'two');
    const classify = (body: unknown, query = '') => call(server, 'POST', `/api/models/${first.id}/classify${query}`, body);
    const relative = await classify({ path: 'two/pictures/0-0.png' });
    t.equal(relative.status, 200, `a path relative to the first data root ${JSON.stringify(relative.body.error ?? '')}`);
    t.equal(relative.body.predictions.length, 2, 'is classified');
    const upload = await call(server, 'POST', `/api/models/${first.id}/classify`, await readFile(path.join(folder, 'pictures', '0-0.png')), { 'content-type': 'image/png' });
    t.same(relative.body.predictions, upload.body.predictions, 'exactly as the same image uploaded');
    const absolute = await classify({ path: path.join(folder, 'pictures', '1-0.png') }, '?visualize=1');
    t.equal(absolute.status, 200, 'an absolute path inside the data root');
    t.ok(absolute.body.visualizations.some((entry: { kind: string }) => entry.kind === 'weights'), 'with visualizations when asked');

    await writeFile(path.join(folder, 'notes.txt'), 'not an image\n');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 0, g: 255, b: 0 } } }).png().toFile(path.join(outside, 'x.png'));
    await symlink(outside, path.join(folder, 'escape'));
    await writeFile(path.join(folder, 'big.png'), Buffer.concat([await readFile(path.join(folder, 'pictures', '0-0.png')), Buffer.alloc(64 << 10)]));
    const cases: [string, unknown, number, RegExp][] = [
      ['outside the data roots', { path: path.join(outside, 'x.png') }, 403, /outside the data folders/],
      ['.. out of the roots', { path: '../../../../../../etc/hostname' }, 403, /outside the data folders/],
      ['a symlink out of the roots (as if missing)', { path: 'two/escape/x.png' }, 404, /does not exist/],
      ['a symlink out to nothing', { path: 'two/escape/nothing.png' }, 404, /does not exist/],
      ['a missing file', { path: 'two/pictures/missing.png' }, 404, /does not exist/],
      ['a missing file outside (no hint it exists or not)', { path: path.join(outside, 'missing.png') }, 403, /outside the data folders/],
      ['a file that is not an image', { path: 'two/notes.txt' }, 400, /Not an image/],
      ['a folder', { path: 'two/pictures' }, 400, /is not a file/],
      ['a file over the size limit', { path: 'two/big.png' }, 413, /larger than the 64 KiB/],
      ['an empty path', { path: '' }, 400, /path is required/],
      ['a path that is not text', { path: 3 }, 400, /path/],
    ];
    for (const [what, body, status, message] of cases) {
      const reply = await classify(body);
      t.equal(reply.status, status, `${what}: ${status}`);
      t.equal(reply.body.error?.field, 'path', `${what}: on the path field`);
      t.match(reply.body.error?.message, message, `${what}: ${reply.body.error?.message}`);
    }
    const mixed = await classify({ path: 'two/pictures/0-0.png', index: 0 });
    t.equal(mixed.status, 400, 'a path and a record together are refused');
    t.match(mixed.body.error.message, /index/, mixed.body.error.message);

    const bare: Server = await startServer({ port: 0, jobsDir });
    t.teardown(() => bare.close());
    const noRoots = await call(bare, 'POST', `/api/models/${first.id}/classify`, { path: 'two/pictures/0-0.png' });
    t.equal(noRoots.status, 400, 'without --data-root no server path is read');
    t.match(noRoots.body.error.message, /without --data-root/, noRoots.body.error.message);
  });
});

