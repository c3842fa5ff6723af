// previous-network.ts — DIGITS' "Previous networks": an earlier model's train_val prototxt and snapshots, to train again on any dataset (optionally from its weights).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { caffe } from '../index.js';
import { AppError, messageOf } from './errors.js';
import type { JobStatus } from './job-files.js';
import type { ModelForm } from './schemas.js';
import type { AppContext } from './server.js';
import { listSnapshots } from './snapshots.js';
import type { TrainingPlan } from './training-setup.js';
import { trainDataLayer } from './training-setup.js';

/**
 * The model job `id`. Unknown: 404 (400 naming `field` on a form); a dataset or an evaluation: 400
 * saying what the id is instead.
 */
export function previousModel(context: AppContext, id: string, field?: string): JobStatus {
  const job = context.jobs.list().find((entry) => entry.id === id);
  if (!job) throw new AppError(field ? 400 : 404, `Model ${id} does not exist`, field);
  if (job.type !== 'model') {
    const what = job.type === 'dataset' ? 'a dataset' : 'a classify-many job';
    throw new AppError(400, `Job ${id} ("${job.name}") is ${what}, not a model: only a model has a network to reuse`, field);
  }
  return job;
}

/** The network a model trained with (train_val.prototxt, written when its training starts); 409 before that. */
export async function previousNetworkText(context: AppContext, job: JobStatus, field?: string): Promise<string> {
  return readFile(path.join(context.jobs.folder(job.id), 'train_val.prototxt'), 'utf8').catch(() => {
    throw new AppError(409, `Model "${job.name}" has no network yet: its training has not started`, field);
  });
}

/** GET /api/models/:id/network: the prototxt, where it came from, its training's batch and crop, and its snapshots. */
export async function previousNetworkInfo(context: AppContext, id: string) {
  const job = previousModel(context, id);
  const network = await previousNetworkText(context, job);
  const dataset = context.jobs.list('dataset').find((entry) => entry.id === job.parentId);
  const data = trainDataLayer(network);
  const snapshots = await listSnapshots(context.jobs.folder(job.id));
  return {
    id: job.id, name: job.name, state: job.state, datasetId: job.parentId, datasetName: dataset?.name, network,
    batchSize: data?.data_param?.batch_size, crop: data?.transform_param?.crop_size || undefined,
    snapshots: snapshots.map((snapshot) => ({ iter: snapshot.iter, epoch: snapshot.epoch })),
  };
}

/**
 * Checks a model form's previous network and fills it in: 'previous' trains the earlier model's
 * own prototxt; a snapshot to start from must exist. Refusals name the form field.
 */
export async function fillPreviousNetwork(form: ModelForm, context: AppContext): Promise<void> {
  if (form.previousNetwork === undefined) return;
  const job = previousModel(context, form.previousNetwork, 'previousNetwork');
  if (form.network === 'previous') form.customNetwork = await previousNetworkText(context, job, 'previousNetwork');
  if (form.previousSnapshot === undefined) return;
  const snapshots = await listSnapshots(context.jobs.folder(job.id));
  if (!snapshots.some((snapshot) => snapshot.iter === form.previousSnapshot)) {
    const have = snapshots.length ? `its snapshots are at iterations ${snapshots.map((snapshot) => snapshot.iter).join(', ')}` : 'it has no snapshot yet';
    throw new AppError(400, `Model "${job.name}" has no snapshot at iteration ${form.previousSnapshot}; ${have}`, 'previousSnapshot');
  }
}

/**
 * Weights are loaded by layer name and must match in shape (as in Caffe), so a previous model's
 * weights cannot start a net whose last InnerProduct keeps its name but outputs another number of
 * classes: that is refused on the form, with DIGITS' remedy (rename the layer in a customized network).
 */
export async function checkPreviousWeights(form: ModelForm, plan: TrainingPlan, context: AppContext): Promise<void> {
  if (form.previousNetwork === undefined || form.previousSnapshot === undefined) return;
  const job = previousModel(context, form.previousNetwork, 'previousNetwork');
  let previous: caffe.NetParameter;
  try {
    previous = caffe.parseNetPrototxt(await previousNetworkText(context, job, 'previousNetwork'), { file: 'previous network' });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(400, messageOf(error), 'previousNetwork');
  }
  const lastInnerProduct = plan.trainVal.layer.filter((layer) => layer.type === 'InnerProduct').pop();
  if (!lastInnerProduct) return;
  const before = previous.layer.find((layer) => layer.name === lastInnerProduct.name && layer.type === 'InnerProduct');
  const outputs = lastInnerProduct.inner_product_param?.num_output;
  const previousOutputs = before?.inner_product_param?.num_output;
  if (before && previousOutputs !== outputs)
    throw new AppError(400, `The weights of "${job.name}" give layer '${lastInnerProduct.name}' ${previousOutputs} outputs but this dataset has ${outputs} classes; ` +
      `customize the network and rename that layer to train it from scratch`, 'previousSnapshot');
}
