// worker.ts — the child process that runs one job (dataset import, training, classify-many) off the server's event loop; it talks to the server over IPC.
import { appendFile, copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { caffe, createDataset, type DeviceName, createMnistDataset, loadModel, Solver, type IterationEvent, type Prediction, type TestEvent } from '../index.js';
import { messageOf } from './errors.js';
import { LINES_FILE, LIST_FILE, LineError, parseImageList, readListedImage, type LineFailure, type LineResult, type ListLine } from './image-list.js';
import { appendLog, readStatus, type JobStatus } from './job-files.js';
import { SplitRecords } from './records.js';
import { DATASET_PATH_FIELDS, DatasetForm, EvaluateForm, EvaluateListJob, ModelForm } from './schemas.js';
import { resolveInsideRoots } from './paths.js';
import { openSources, planTraining } from './training-setup.js';
import { modelSource } from './snapshots.js';
import { uploadFile } from './upload-files.js';
import { UsageSampler } from './usage.js';
import type { WorkerMessage } from './worker-protocol.js';

const folder = process.argv[2]!;
const jobsDir = path.dirname(folder);
/** The server's data roots: every server file a job reads must lie inside them (resolveInsideRoots). */
const dataRoots = JSON.parse(process.argv[3] ?? '[]') as string[];
let abortRequested = false;
let onAbort: () => void = () => undefined;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

process.on('message', (message: { kind?: string }) => {
  if (message?.kind !== 'abort') return;
  abortRequested = true;
  onAbort();
});

async function main(): Promise<void> {
  const status = await readStatus(folder);
  if (status.type === 'dataset') await importDataset(status);
  else if (status.type === 'model') await trainModel(status);
  else await evaluateModel(status);
}

/** Throttles progress messages to a few per second. */
function progressSender(): (progress: number, eta?: number) => void {
  let last = 0;
  return (progress, eta) => {
    const now = Date.now();
    if (now - last < 250 && progress < 1) return;
    last = now;
    send({ kind: 'progress', progress, eta });
  };
}

async function importDataset(status: JobStatus): Promise<void> {
  const dest = path.join(folder, 'dataset');
  const sendProgress = progressSender();
  const hooks = {
    onProgress: (event: { phase: string; done: number; total: number; etaSeconds: number }) => {
      // The scan is quick; the split writes carry the time, so they fill the bar.
      if (event.phase !== 'scan' && event.total > 0) sendProgress(event.done / event.total, event.etaSeconds);
    },
    onMessage: (message: string) => void appendLog(folder, message),
  };
  const report = status.options.mnist
    ? await createMnistDataset(dest, {}, hooks)
    : await createDataset(await datasetOptions(DatasetForm.parse(status.options), dest), { ...hooks, allowPath: insideDataRoots });
  const splits = Object.fromEntries(Object.entries(report.splits).map(([name, split]) => [name, { count: split!.count, perClass: split!.perClass }]));
  send({ kind: 'result', result: { labels: report.labels, splits, skipped: report.skipped.length, image: report.manifest.image } });
}

/** The import's options; the paths the form named are confined again, as they may have changed since the job was made. */
async function datasetOptions(form: DatasetForm, dest: string) {
  const { name: _name, ...rest } = form;
  for (const field of DATASET_PATH_FIELDS) {
    if (rest[field] !== undefined) rest[field] = await resolveInsideRoots(rest[field], dataRoots, field);
  }
  return { ...rest, dest };
}

/** The import reads a file only if it lies inside the data roots with its links resolved; anything else counts as missing. */
async function insideDataRoots(file: string): Promise<boolean> {
  return resolveInsideRoots(path.resolve(file), dataRoots, 'path').then(() => true, () => false);
}

async function trainModel(status: JobStatus): Promise<void> {
  const form = ModelForm.parse(status.options);
  const datasetFolder = path.join(jobsDir, form.datasetId, 'dataset');
  const plan = await planTraining(form, datasetFolder);
  await writeModelFiles(plan, datasetFolder, form);
  const sources = await openSources(plan, form.seed ?? 1);
  const solver = new Solver(plan.solver, {
    device: (status.device ?? 'auto') as DeviceName, baseDir: folder, sources: { '*': sources.train },
    testSources: sources.val ? [{ '*': sources.val }] : [],
  });
  onAbort = () => solver.stop();
  if (status.resumeFrom) {
    await solver.restoreFromFile(path.join(folder, status.resumeFrom));
    await appendLog(folder, `Resumed from ${status.resumeFrom} at iteration ${solver.iter}`);
  } else if (form.pretrainedModel || form.pretrainedUpload) {
    // An uploaded .caffemodel is loaded as one under a data root is, by layer name.
    const file = form.pretrainedModel !== undefined ? await resolveInsideRoots(form.pretrainedModel, dataRoots, 'pretrainedModel') : uploadFile(jobsDir, form.pretrainedUpload!);
    const bytes = await readFile(file).catch(() => {
      throw new Error(`The pretrained weights ${file} no longer exist`);
    });
    const loaded = solver.net.loadCaffemodel(bytes);
    const from = form.pretrainedUpload ? `upload ${form.pretrainedUpload}${status.pretrained?.name ? ` (${status.pretrained.name})` : ''}, ${file}` : file;
    await appendLog(folder, `Weights of ${loaded.length} layer(s) loaded from ${from}: ${loaded.join(', ')}`);
  } else if (form.previousNetwork !== undefined && form.previousSnapshot !== undefined) {
    const name = `snapshot_iter_${form.previousSnapshot}.caffemodel`;
    const bytes = await readFile(path.join(jobsDir, form.previousNetwork, name)).catch(() => {
      throw new Error(`The snapshot at iteration ${form.previousSnapshot} of model ${form.previousNetwork} no longer exists`);
    });
    const loaded = solver.net.loadCaffemodel(bytes);
    await appendLog(folder, `Weights of ${loaded.length} layer(s) loaded from model ${form.previousNetwork}, ${name}: ${loaded.join(', ')}`);
  }
  const lastSnapshot = watchSolver(solver, plan.itersPerEpoch, plan.solver.max_iter);
  const stopUsage = reportUsage(status.device ?? 'auto');
  if (abortRequested) solver.stop();
  await solver.solve().finally(stopUsage);
  if (solver.stopped && lastSnapshot() !== solver.iter) await solver.snapshot();
  solver.dispose();
  await sources.train.close();
  await sources.val?.close();
  send({ kind: 'result', result: { iterations: solver.iter, stopped: solver.stopped } });
}

/** The files a trained model is used with: prototxt, labels and the dataset's mean beside the snapshots. */
async function writeModelFiles(plan: Awaited<ReturnType<typeof planTraining>>, datasetFolder: string, form: ModelForm): Promise<void> {
  await writeFile(path.join(folder, 'train_val.prototxt'), caffe.printNetPrototxt(plan.trainVal));
  await writeFile(path.join(folder, 'deploy.prototxt'), caffe.printNetPrototxt(plan.deploy));
  const { net_param: _net, ...solverFields } = plan.solver;
  await writeFile(path.join(folder, 'solver.prototxt'), caffe.printSolverPrototxt(caffe.SolverParameterSchema.parse({ ...solverFields, net: 'train_val.prototxt' })));
  await writeFile(path.join(folder, 'labels.txt'), `${plan.labels.join('\n')}\n`);
  await copyFile(path.join(datasetFolder, 'mean.binaryproto'), path.join(folder, 'mean.binaryproto'));
  const manifest = JSON.parse(await readFile(path.join(datasetFolder, 'dataset.json'), 'utf8')) as { image: Record<string, unknown> };
  await writeFile(path.join(folder, 'plan.json'), JSON.stringify({
    itersPerEpoch: plan.itersPerEpoch, maxIter: plan.solver.max_iter, batchSize: plan.batchSize, inputShape: plan.inputShape,
    image: manifest.image, mean: form.mean, meanValues: plan.meanValues, scale: plan.trainVal.layer.find((layer) => layer.type === 'Data')?.transform_param?.scale ?? 1,
  }, null, 2));
}

/** Turns solver events into metrics.jsonl lines and IPC messages; returns the iteration of the last snapshot. */
function watchSolver(solver: Solver, itersPerEpoch: number, maxIter: number): () => number {
  const metricsFile = path.join(folder, 'metrics.jsonl');
  const sendProgress = progressSender();
  const started = performance.now();
  let lastSnapshot = -1;
  const record = (metric: Record<string, unknown>) => {
    void appendFile(metricsFile, `${JSON.stringify(metric)}\n`);
    send({ kind: 'metric', metric });
  };
  let firstIter: number | undefined;
  solver.on('iteration', (event: IterationEvent) => {
    firstIter ??= event.iter;
    const done = event.iter + 1;
    const seconds = (performance.now() - started) / 1000;
    const rate = (done - firstIter) / Math.max(seconds, 1e-3);
    sendProgress(done / maxIter, rate > 0 ? (maxIter - done) / rate : undefined);
    if (event.display || done === maxIter) record({ type: 'train', epoch: done / itersPerEpoch, iter: done, loss: event.smoothedLoss, lr: event.lr });
  });
  solver.on('test', (event: TestEvent) => record({ type: 'val', epoch: event.iter / itersPerEpoch, iter: event.iter, ...event.outputs }));
  solver.on('snapshot', (event) => {
    lastSnapshot = event.iter;
    send({ kind: 'snapshot', iter: event.iter });
  });
  return () => lastSnapshot;
}

/** Sends the device's memory and utilisation every second while the training runs; returns the stop function. The figures never stop a training. */
function reportUsage(deviceName: string): () => void {
  let sampler: UsageSampler;
  try {
    sampler = new UsageSampler(deviceName);
    sampler.sample();
  } catch (error) {
    void appendLog(folder, `No device figures: ${messageOf(error)}`);
    return () => undefined;
  }
  const timer = setInterval(() => {
    try {
      send({ kind: 'usage', usage: sampler.sample() });
    } catch {
      // A failed sample is skipped; the next one comes a second later.
    }
  }, USAGE_INTERVAL_MS);
  return () => clearInterval(timer);
}

const USAGE_INTERVAL_MS = 1000;

/** Classify many: every image of a split (or of an uploaded list) through a snapshot, with top-1/top-5 accuracy, per-class accuracy and the confusion matrix. */
async function evaluateModel(status: JobStatus): Promise<void> {
  if (status.options.source === 'list') return evaluateList(status);
  const form = EvaluateForm.parse(status.options);
  const modelFolder = path.join(jobsDir, status.parentId!);
  const modelStatus = await readStatus(modelFolder);
  const datasetFolder = path.join(jobsDir, String(modelStatus.options.datasetId), 'dataset');
  const model = await loadModel(await modelSource(modelFolder, form.snapshot), { batchSize: 16 });
  const records = await SplitRecords.open(path.join(datasetFolder, `${form.split}_db`));
  const entries = records.entries.slice(0, form.limit ?? records.entries.length);
  const scores = new Scores(model.labels);
  const sendProgress = progressSender();
  const chunk = 64;
  for (let start = 0; start < entries.length && !abortRequested; start += chunk) {
    const slice = entries.slice(start, start + chunk);
    const images = await Promise.all(slice.map((entry) => records.png(entry)));
    const predictions = await model.classifyBatch(images, { topK: model.labels.length });
    slice.forEach((entry, i) => scores.add(entry.index, entry.label, predictions[i]!));
    sendProgress((start + slice.length) / entries.length);
  }
  await records.close();
  await model.dispose();
  send({ kind: 'result', result: { ...scores.summary(), datasetId: modelStatus.options.datasetId, split: form.split } });
}

/**
 * Classify many from an uploaded list: every line's image is resolved inside the data roots, read and
 * classified; a line that fails (missing, outside the roots, not an image, bad label) is recorded
 * with its reason and the rest go on. Labelled lines give the accuracy figures.
 */
async function evaluateList(status: JobStatus): Promise<void> {
  const options = EvaluateListJob.parse(status.options);
  const model = await loadModel(await modelSource(path.join(jobsDir, status.parentId!), options.snapshot), { batchSize: 16 });
  const lines = parseImageList(await readFile(path.join(folder, LIST_FILE), 'utf8'));
  const classes = model.labels.length;
  const scores = new Scores(model.labels);
  const results: LineResult[] = [];
  const sendProgress = progressSender();
  const classifyLine = async (entry: ListLine): Promise<LineResult> => {
    const base = { line: entry.line, text: entry.text, ...(entry.label !== undefined ? { label: entry.label } : {}) };
    try {
      if (entry.badLabel !== undefined || (entry.label !== undefined && entry.label >= classes))
        throw new LineError('bad-label', `label ${entry.badLabel ?? entry.label} is not a class index 0..${classes - 1} of the model's labels`);
      const { file, bytes } = await readListedImage(entry.path, options.prefix, options.dataRoots);
      const predictions = await model.classify(bytes, { topK: classes }).catch((error: unknown) => {
        throw new LineError('not-an-image', `${file} cannot be classified: ${messageOf(error)}`);
      });
      scores.add(entry.line, entry.label, predictions);
      return { ...base, file, predictions: predictions.slice(0, 5).map(({ index, probability }) => ({ index, probability })) };
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      return { ...base, reason: error.reason, error: error.message };
    }
  };
  const chunk = 32;
  for (let start = 0; start < lines.length && !abortRequested; start += chunk) {
    results.push(...(await Promise.all(lines.slice(start, start + chunk).map(classifyLine))));
    sendProgress(results.length / lines.length);
  }
  await model.dispose();
  await writeFile(path.join(folder, LINES_FILE), JSON.stringify(results));
  const failed = results.filter((result) => result.reason !== undefined);
  const summary = scores.summary();
  send({ kind: 'result', result: {
    source: 'list', listName: options.listName, lines: lines.length, classified: results.length - failed.length, failed: failed.length,
    failures: Object.fromEntries(FAILURES.map((reason) => [reason, failed.filter((result) => result.reason === reason).length]).filter(([, count]) => count)),
    // Accuracy, per-class accuracy and the confusion matrix only where lines had labels.
    ...(summary.count > 0 ? summary : { count: 0, labels: summary.labels, topPerClass: summary.topPerClass }),
  } });
}

const FAILURES: LineFailure[] = ['missing', 'outside', 'not-a-file', 'not-an-image', 'bad-label', 'too-large'];

/** The figures of classify many: the confusion matrix and top-5 hits of labelled images, and the best images of every class. */
class Scores {
  private readonly confusion: number[][];
  private top5 = 0;
  private readonly best: TopImagesPerClass;

  constructor(private readonly labels: readonly string[]) {
    this.confusion = Array.from({ length: labels.length }, () => new Array<number>(labels.length).fill(0));
    this.best = new TopImagesPerClass(labels.length, TOP_IMAGES_PER_CLASS);
  }

  /** `predictions`: every class, most probable first; `index` identifies the image (record index, or list line). */
  add(index: number, label: number | undefined, predictions: Prediction[]): void {
    if (label !== undefined) {
      this.confusion[label]![predictions[0]!.index]! += 1;
      if (predictions.slice(0, 5).some((prediction) => prediction.index === label)) this.top5 += 1;
    }
    for (const prediction of predictions) this.best.offer(prediction.index, { index, ...(label !== undefined ? { label } : {}), probability: prediction.probability });
  }

  summary() {
    const { confusion, labels } = this;
    const count = confusion.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);
    const correct = confusion.reduce((sum, row, label) => sum + row[label]!, 0);
    const perClass = confusion.map((row, label) => ({ label: labels[label], count: row.reduce((a, b) => a + b, 0), accuracy: row[label]! / Math.max(1, row.reduce((a, b) => a + b, 0)) }));
    return { count, top1: correct / Math.max(1, count), top5: this.top5 / Math.max(1, count), perClass, confusion, labels, topPerClass: this.best.lists() };
  }
}

/** DIGITS' "top N images per category": for each class, the images that scored it highest. */
const TOP_IMAGES_PER_CLASS = 6;

interface ScoredImage { index: number; label?: number; probability: number }

class TopImagesPerClass {
  private readonly best: ScoredImage[][];
  constructor(classes: number, private readonly size: number) {
    this.best = Array.from({ length: classes }, () => []);
  }

  offer(classIndex: number, image: ScoredImage): void {
    const list = this.best[classIndex]!;
    if (list.length === this.size && list[list.length - 1]!.probability >= image.probability) return;
    list.push(image);
    list.sort((a, b) => b.probability - a.probability);
    if (list.length > this.size) list.pop();
  }

  lists(): ScoredImage[][] {
    return this.best;
  }
}

main().then(
  () => process.exit(abortRequested ? 3 : 0),
  async (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    await appendLog(folder, `ERROR ${error instanceof Error ? error.stack : message}`).catch(() => undefined);
    send({ kind: 'error', message });
    process.exit(1);
  },
);
