// workflow.test.ts — the whole DIGITS flow through the JSON API: MNIST dataset, LeNet training with live events, abort and resume, classify, download, classify many, restart.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { call, collectEvents, temporaryFolder, waitFor, type Server } from './helpers.js';

t.test('MNIST → LeNet → live events → abort/resume → classify → restart', async (t) => {
  const jobsDir = await temporaryFolder('cudnet-app-jobs-');
  let server: Server = await startServer({ port: 0, jobsDir });
  t.teardown(() => server.close());
  const stream = collectEvents(server);
  t.teardown(() => stream.stop());

  const created = await call(server, 'POST', '/api/datasets/mnist', { name: 'MNIST' });
  t.equal(created.status, 201, 'the MNIST dataset job is created');
  const dataset = await waitFor(server, created.body.id, ['DONE', 'ERROR']);
  t.equal(dataset.state, 'DONE', `the import ends DONE ${dataset.error ?? ''}`);
  t.same(dataset.result.splits.train.count, 8000, '8000 training images');

  const details = await call(server, 'GET', `/api/datasets/${dataset.id}`);
  t.same(details.body.manifest.labels, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], 'the dataset page gets the labels');
  const gallery = await call(server, 'GET', `/api/datasets/${dataset.id}/images/val?page=1&size=5&label=3`);
  t.equal(gallery.body.items.length, 5, 'a gallery page of 5');
  t.ok(gallery.body.items.every((item: { label: number }) => item.label === 3), 'filtered by label');
  const png = await call(server, 'GET', gallery.body.items[0].url);
  t.same([...png.body.subarray(1, 4)], [...Buffer.from('PNG')], 'a stored image comes back as PNG');
  t.same([...(await call(server, 'GET', `/api/datasets/${dataset.id}/mean.png`)).body.subarray(1, 4)], [...Buffer.from('PNG')], 'the mean image');

  // A long run, aborted part-way: it must write a snapshot that resume continues from.
  const form = { name: 'LeNet', datasetId: dataset.id, epochs: 1, batchSize: 32, baseLr: 0.01, lrPolicy: 'fixed', mean: 'none', snapshotInterval: 0.05, valInterval: 0.2, seed: 1 };
  const model = await call(server, 'POST', '/api/models', form);
  t.equal(model.status, 201, 'the model job is created');
  const id = model.body.id;
  await waitFor(server, id, ['RUN']);
  const until = Date.now() + 60000;
  while (!stream.events.some((event) => event.type === 'metric' && event.data.jobId === id && event.data.metric.type === 'val') && Date.now() < until)
    await new Promise((resolve) => setTimeout(resolve, 200));
  // While it trains, the model's JSON and its live events carry the device's figures.
  let usage;
  for (const end = Date.now() + 30000; !usage && Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 200))) {
    const running = (await call(server, 'GET', `/api/models/${id}`)).body;
    if (running.state === 'RUN' && running.usage?.utilization != null) usage = running.usage;
  }
  const cores = availableParallelism();
  t.match(usage, { device: 'cpu', cores, description: String }, 'the model\'s JSON names the device it trains on');
  t.ok(usage.utilization >= 0 && usage.utilization <= 100 * cores, `utilisation ${usage.utilization.toFixed(1)}% is within 0..${100 * cores}%`);
  t.ok(usage.memoryUsed > 0 && usage.memoryTotal >= usage.memoryUsed, `resident memory ${usage.memoryUsed} of ${usage.memoryTotal}`);
  t.ok(usage.tensorBytes > 0 && usage.tensorBytes < usage.memoryUsed, `of which ${usage.tensorBytes} bytes of tensors`);
  t.ok(stream.events.some((event) => event.type === 'job' && event.data.id === id && event.data.usage?.memoryUsed > 0), 'the figures arrive with the live job events');
  t.ok(stream.events.some((event) => event.type === 'metric' && event.data.metric.type === 'train'), 'train metrics arrive as events');
  t.ok(stream.events.some((event) => event.type === 'metric' && event.data.metric.type === 'val'), 'val metrics arrive as events');
  t.equal((await call(server, 'POST', `/api/jobs/${id}/abort`)).status, 200, 'abort is accepted');
  const aborted = await waitFor(server, id, ['ABORT', 'DONE', 'ERROR']);
  t.equal(aborted.state, 'ABORT', 'the training is ABORT');
  t.equal((await call(server, 'GET', `/api/models/${id}`)).body.usage, undefined, 'a stopped training has no device figures');
  t.notMatch(await readFile(path.join(jobsDir, id, 'status.json'), 'utf8'), /usage/, 'they are never written to disk');
  t.ok(stream.events.some((event) => event.type === 'job' && event.data.id === id && event.data.state === 'ABORT'), 'the state change came as an event');
  const afterAbort = (await call(server, 'GET', `/api/models/${id}`)).body;
  const stoppedAt = afterAbort.snapshots.at(-1).iter;
  t.ok(stoppedAt > 0 && afterAbort.snapshots.at(-1).solverstate, `a snapshot with its solver state at iteration ${stoppedAt}`);

  // Resume, but only to a few more iterations: the clone of the options with maxIterations keeps the test short.
  const resumed = await call(server, 'POST', `/api/jobs/${id}/resume`);
  t.equal(resumed.status, 200, 'resume is accepted');
  t.equal((await call(server, 'POST', `/api/jobs/${id}/resume`)).status, 409, 'resuming a queued job is a conflict');
  await waitFor(server, id, ['RUN']);
  const continued = () => stream.events.some((event) => event.type === 'metric' && event.data.jobId === id && event.data.metric.iter > stoppedAt + 5);
  for (const end = Date.now() + 60000; !continued() && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 200));
  await call(server, 'POST', `/api/jobs/${id}/abort`);
  await waitFor(server, id, ['ABORT', 'DONE']);
  const afterResume = (await call(server, 'GET', `/api/models/${id}`)).body;
  t.ok(afterResume.snapshots.at(-1).iter > stoppedAt, 'the resumed run continued past the first stop');
  t.match(afterResume.history.map((entry: { state: string }) => entry.state), ['WAIT', 'RUN', 'ABORT', 'WAIT', 'RUN', 'ABORT'], 'the status history');

  // Classify val images (their labels from the gallery): the briefly trained net gets most of 8 right.
  const samples = (await call(server, 'GET', `/api/datasets/${dataset.id}/images/val?size=8`)).body.items;
  let right = 0;
  for (const sample of samples) {
    const result = await call(server, 'POST', `/api/models/${id}/classify`, { split: 'val', index: sample.index });
    if (result.body.predictions[0].label === String(sample.label)) right++;
  }
  t.ok(right >= 6, `${right} of 8 val digits classified right`);
  const picked = await call(server, 'POST', `/api/models/${id}/classify?visualize=1`, { split: 'val', index: 0 });
  t.equal(picked.body.predictions.length, 5, 'top-5');
  t.ok(picked.body.visualizations.some((entry: { name: string; kind: string; image?: string }) => entry.name === 'conv1' && entry.kind === 'weights' && entry.image?.startsWith('data:image/png')), 'conv1 weights as an image');
  t.ok(picked.body.visualizations.some((entry: { name: string; histogram: { counts: number[] } }) => entry.name === 'pool1' && entry.histogram.counts.length === 20), 'pool1 activations with a histogram');
  const upload = (await call(server, 'GET', `/api/datasets/${dataset.id}/images/val/0.png`)).body;
  const uploaded = await call(server, 'POST', `/api/models/${id}/classify`, upload, { 'content-type': 'image/png' });
  t.equal(uploaded.body.predictions[0].label, picked.body.predictions[0].label, 'an uploaded image classifies as the same record');

  const archive = await call(server, 'GET', `/api/models/${id}/download`);
  t.equal(archive.status, 200, 'the snapshot archive downloads');
  const names = tarNames(archive.body);
  t.ok(['deploy.prototxt', 'labels.txt', 'info.json', 'train_val.prototxt'].every((name) => names.includes(name)) && names.some((name) => name.endsWith('.caffemodel')), `archive holds ${names.join(', ')}`);

  const evaluation = await call(server, 'POST', `/api/models/${id}/evaluate`, { split: 'val', limit: 200 });
  t.equal(evaluation.status, 202, 'classify many starts as a job');
  await waitFor(server, evaluation.body.id, ['DONE', 'ERROR']);
  const evaluated = (await call(server, 'GET', `/api/evaluations/${evaluation.body.id}`)).body;
  t.equal(evaluated.result.count, 200, '200 images classified');
  t.ok(evaluated.result.top5 >= evaluated.result.top1 && evaluated.result.top1 > 0.5, `top-1 ${evaluated.result.top1}, top-5 ${evaluated.result.top5}`);
  t.equal(evaluated.result.confusion.length, 10, 'a 10 x 10 confusion matrix');
  const topPerClass = evaluated.result.topPerClass as { index: number; label: number; probability: number }[][];
  t.equal(topPerClass.length, 10, 'top images for every category');
  t.ok(topPerClass.every((images) => images.length === 6 && images.every((image, i) => i === 0 || images[i - 1]!.probability >= image.probability)),
    'six images per category, best first');
  t.ok(topPerClass.filter((images, label) => images[0]!.label === label).length >= 8, 'the best image of most categories is of that category');

  const refused = await call(server, 'DELETE', `/api/jobs/${dataset.id}`);
  t.equal(refused.status, 409, 'a dataset used by a model is not deleted');
  t.match(refused.body.error.message, /LeNet/, 'the refusal names the model');

  stream.stop();
  await server.close();
  server = await startServer({ port: 0, jobsDir });
  const listed = (await call(server, 'GET', '/api/jobs')).body;
  t.same(listed.datasets.map((job: { id: string }) => job.id), [dataset.id], 'the dataset is found again after a restart');
  t.same(listed.models.map((job: { id: string; state: string }) => [job.id, job.state]), [[id, 'ABORT']], 'the model is found again, ABORT');
  const clone = (await call(server, 'GET', `/api/jobs/${id}/clone`)).body;
  t.equal(clone.options.datasetId, dataset.id, 'clone gives the form back');
  t.equal((await call(server, 'POST', `/api/models/${id}/classify`, { split: 'val', index: 0 })).body.predictions[0].label, picked.body.predictions[0].label, 'classification works after the restart');
});

/** The file names of a ustar archive. */
function tarNames(archive: Buffer): string[] {
  const names: string[] = [];
  for (let offset = 0; offset + 512 <= archive.length;) {
    const name = archive.subarray(offset, offset + 100).toString('utf8').replace(/\0.*$/s, '');
    if (name === '') break;
    names.push(name);
    const size = parseInt(archive.subarray(offset + 124, offset + 136).toString('ascii'), 8);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}
