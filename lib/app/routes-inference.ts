// routes-inference.ts — classify one image (upload, a server path or a dataset record) with optional layer visualizations, and the snapshot download.
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { caffe, type Model } from '../index.js';
import { AppError, messageOf } from './errors.js';
import { readBody, sendBytes, sendJson, validate } from './http.js';
import { SplitRecords } from './records.js';
import { jobOf, route, ID, type Route } from './routes.js';
import { ClassifyPathForm, ClassifyPickForm } from './schemas.js';
import { resolveInsideRoots } from './paths.js';
import type { AppContext } from './server.js';
import { findSnapshot, readRunPlan } from './snapshots.js';
import { tarArchive } from './tar.js';
import { visualization, type Visualization } from './visualize.js';

export function inferenceRoutes(context: AppContext): Route[] {
  return [
    route('POST', `/api/models/${ID}/classify`, async ({ request, response, url, params }) => {
      const job = jobOf(context, params[0]!, 'model');
      const folder = context.jobs.folder(job.id);
      const snapshot = await findSnapshot(folder, snapshotParameter(url));
      const { image, field } = await inputImage(context, job.options.datasetId as string, request, await readBody(request, context.uploadLimit));
      const model = await context.models.get(folder, snapshot.iter);
      const predictions = await model.classify(image, { topK: Math.min(5, model.labels.length) }).catch((error: unknown) => {
        throw new AppError(400, field === 'path' ? `Not an image: ${messageOf(error)}` : messageOf(error), field);
      });
      const visualizations = url.searchParams.get('visualize') === '1' ? await layerVisualizations(model, image, path.join(folder, snapshot.caffemodel)) : undefined;
      sendJson(response, 200, { snapshot: snapshot.iter, epoch: snapshot.epoch, predictions, visualizations });
    }, ['application/json', 'image/*', 'application/octet-stream']),
    route('GET', `/api/models/${ID}/download`, async ({ response, url, params }) => {
      const job = jobOf(context, params[0]!, 'model');
      const folder = context.jobs.folder(job.id);
      const snapshot = await findSnapshot(folder, snapshotParameter(url));
      const archive = await modelArchive(folder, job.name, job.id, snapshot.caffemodel);
      sendBytes(response, 'application/x-tar', archive, { 'content-disposition': `attachment; filename="${job.id}_iter_${snapshot.iter}.tar"` });
    }),
  ];
}

function snapshotParameter(url: URL): number | undefined {
  const text = url.searchParams.get('snapshot');
  if (text === null || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new AppError(400, `Expected an iteration number for snapshot but received ${JSON.stringify(text)}`, 'snapshot');
  return Number(text);
}

/**
 * The image bytes and the field a bad image is reported on: the body itself (an upload), for a JSON
 * body { path } a file inside the data roots, or for { split, index } the dataset's record.
 */
async function inputImage(context: AppContext, datasetId: string, request: { headers: Record<string, unknown> }, body: Buffer): Promise<{ image: Buffer; field: string }> {
  if (!String(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    if (body.length === 0) throw new AppError(400, 'Send an image as the request body, or JSON { path } or { split, index }', 'image');
    return { image: body, field: 'image' };
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError(400, 'The request body is not valid JSON');
  }
  if (typeof value === 'object' && value !== null && 'path' in value) return { image: await serverImage(context, validate(ClassifyPathForm, value).path), field: 'path' };
  const pick = validate(ClassifyPickForm, value);
  const records = await SplitRecords.open(path.join(context.jobs.folder(datasetId), 'dataset', `${pick.split}_db`)).catch(() => {
    throw new AppError(404, `The dataset has no ${pick.split} split`, 'split');
  });
  try {
    const entry = records.entries[pick.index];
    if (!entry) throw new AppError(404, `The ${pick.split} split has ${records.entries.length} images; there is no image ${pick.index}`, 'index');
    return { image: await records.png(entry), field: 'image' };
  } finally {
    await records.close();
  }
}

/** An image file inside the data roots, read only if it is no larger than an image upload may be. */
async function serverImage(context: AppContext, given: string): Promise<Buffer> {
  const file = await resolveInsideRoots(given, context.dataRoots, 'path', { relativeTo: context.dataRoots[0], missingStatus: 404 });
  // A folder (or a pipe) is refused before it is opened.
  if (!(await stat(file)).isFile()) throw new AppError(400, `${given} is not a file`, 'path');
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (info.size > context.uploadLimit) throw new AppError(413, `${given} is larger than the ${Math.round(context.uploadLimit / 1024)} KiB an image may be`, 'path');
    if (info.size === 0) throw new AppError(400, `Not an image: ${given} is empty`, 'path');
    // Read at most one byte past the limit, in case the file grew since its size was taken.
    const buffer = Buffer.alloc(Math.min(info.size, context.uploadLimit) + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) ({ bytesRead: read } = await handle.read(buffer, length, buffer.length - length, length));
    if (length > context.uploadLimit) throw new AppError(413, `${given} is larger than the ${Math.round(context.uploadLimit / 1024)} KiB an image may be`, 'path');
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** Every blob's activations for this image, then every layer's first parameter blob, as DIGITS lists them. */
async function layerVisualizations(model: Model, image: Buffer, caffemodel: string): Promise<Visualization[]> {
  const outputs = await model.forward(image, { outputs: model.blobNames });
  const entries: Visualization[] = [];
  for (const [name, blob] of Object.entries(outputs)) entries.push(await visualization(name, 'activation', blob.shape, blob.data));
  const weights = caffe.readCaffemodel(await readFile(caffemodel));
  for (const layer of weights.layers.filter((entry) => entry.blobs.length > 0)) {
    const first = layer.blobs[0]!;
    const parameters = layer.blobs.reduce((sum, blob) => sum + blob.data.length, 0);
    entries.push(await visualization(layer.name, 'weights', first.shape, first.data, { layerType: layer.type, parameters }, layer.type !== 'InnerProduct'));
  }
  return entries;
}

/** DIGITS' download: the prototxt files, labels, mean, the chosen snapshot and an info.json loadModel reads. */
async function modelArchive(folder: string, name: string, id: string, caffemodel: string): Promise<Buffer> {
  const plan = await readRunPlan(folder);
  const files = ['deploy.prototxt', 'train_val.prototxt', 'solver.prototxt', 'labels.txt', caffemodel, ...(plan?.mean === 'image' ? ['mean.binaryproto'] : [])];
  const info = {
    name, 'job id': id, framework: 'caffe', 'snapshot file': caffemodel, 'deploy file': 'deploy.prototxt', 'train_val file': 'train_val.prototxt',
    'solver file': 'solver.prototxt', 'labels file': 'labels.txt', ...(plan?.mean === 'image' ? { 'mean file': 'mean.binaryproto' } : {}),
    'mean subtraction': plan?.mean ?? 'none', 'image dimensions': plan ? [plan.image.height, plan.image.width, plan.image.channels] : undefined,
    'image resize mode': plan?.image.resizeMode,
  };
  const entries = await Promise.all(files.map(async (file) => ({ name: file, data: await readFile(path.join(folder, file)) })));
  return tarArchive([...entries, { name: 'info.json', data: Buffer.from(`${JSON.stringify(info, null, 2)}\n`) }]);
}
