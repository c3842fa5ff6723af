// routes.ts — the JSON API: datasets, models, jobs (status, abort, resume, delete, clone), classify many, inference and downloads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { caffe, data, devices, packageRoot, readDatasetManifest, models } from '../index.js';
import { AppError, messageOf } from './errors.js';
import { readJson, sendBytes, sendJson, validate } from './http.js';
import { LOG_FILE, type JobStatus, type JobType } from './job-files.js';
import { resolveInsideRoots } from './paths.js';
import { DATASET_PATH_FIELDS, DatasetForm, MnistForm, ModelForm } from './schemas.js';
import type { AppContext } from './server.js';
import { jobSummary, modelDetails } from './views.js';
import { inferenceRoutes } from './routes-inference.js';
import { galleryRoutes } from './routes-gallery.js';
import { evaluationRoutes } from './routes-evaluations.js';
import { planTraining, type TrainingPlan } from './training-setup.js';
import { checkPreviousWeights, fillPreviousNetwork, previousNetworkInfo } from './previous-network.js';
import { findUpload } from './upload-files.js';
import { uploadRoutes } from './uploads.js';
import { checkCaffemodel } from './weights-check.js';

export interface RouteRequest {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  params: string[];
}

export interface Route {
  method: string;
  pattern: RegExp;
  handle(request: RouteRequest): Promise<void>;
  /** The content-types a state-changing route takes (default JSON_BODY; 'image/*' for any image): anything else is 415 before the route runs. */
  accepts?: readonly string[];
}

export const ID = '([0-9]{8}-[0-9]{6}-[0-9a-f]{4})';

export function route(method: string, pattern: string, handle: Route['handle'], accepts?: readonly string[]): Route {
  return { method, pattern: new RegExp(`^${pattern}$`), handle, ...(accepts ? { accepts } : {}) };
}

/** The job `id` of `type`, or 404. */
export function jobOf(context: AppContext, id: string, type?: JobType): JobStatus {
  const job = context.jobs.get(id);
  if (type && job.type !== type) throw new AppError(404, `${type === 'model' ? 'Model' : 'Dataset'} ${id} does not exist`);
  return job;
}

export function apiRoutes(context: AppContext): Route[] {
  return [...jobRoutes(context), ...datasetRoutes(context), ...modelRoutes(context), ...evaluationRoutes(context), ...inferenceRoutes(context), ...galleryRoutes(context), ...uploadRoutes(context)];
}

function jobRoutes(context: AppContext): Route[] {
  const { jobs } = context;
  return [
    route('GET', '/api/info', async ({ response }) => sendJson(response, 200, {
      // No jobs folder: no page needs it. The data roots stay, since the forms ask for absolute paths inside them.
      version: await packageVersion(), dataRoots: context.dataRoots, devices: devices(), uploadLimit: context.uploadLimit,
      weightsUploadLimit: context.weightsUploadLimit,
    })),
    route('GET', '/api/jobs', async ({ response }) => sendJson(response, 200, {
      datasets: jobs.list('dataset').map(jobSummary), models: jobs.list('model').map(jobSummary),
    })),
    route('GET', `/api/jobs/${ID}`, async ({ response, params }) => sendJson(response, 200, jobSummary(jobs.get(params[0]!)))),
    route('GET', `/api/jobs/${ID}/log`, async ({ response, params }) => {
      jobs.get(params[0]!);
      const text = await readFile(path.join(jobs.folder(params[0]!), LOG_FILE), 'utf8').catch(() => '');
      sendBytes(response, 'text/plain; charset=utf-8', Buffer.from(text));
    }),
    route('POST', `/api/jobs/${ID}/abort`, async ({ response, params }) => sendJson(response, 200, jobSummary(jobs.abort(params[0]!)))),
    route('POST', `/api/jobs/${ID}/resume`, async ({ response, params }) => sendJson(response, 200, jobSummary(await jobs.resume(params[0]!)))),
    route('DELETE', `/api/jobs/${ID}`, async ({ response, params }) => {
      await jobs.delete(params[0]!);
      await context.models.forget(jobs.folder(params[0]!));
      sendJson(response, 200, { deleted: params[0] });
    }),
    route('GET', `/api/jobs/${ID}/clone`, async ({ response, params }) => {
      const job = jobs.get(params[0]!);
      sendJson(response, 200, { type: job.type, options: { ...job.options, name: `${job.name} (clone)` } });
    }),
  ];
}

function datasetRoutes(context: AppContext): Route[] {
  const { jobs } = context;
  return [
    route('POST', '/api/datasets', async ({ request, response }) => {
      const form = await readJson(request, DatasetForm);
      // Every server path the form names must lie inside a data root.
      const options = { ...form };
      for (const field of DATASET_PATH_FIELDS) {
        const given = form[field];
        if (given !== undefined) options[field] = await resolveInsideRoots(given, context.dataRoots, field);
      }
      sendJson(response, 201, jobSummary(await jobs.create('dataset', form.name, options)));
    }),
    route('POST', '/api/datasets/preview', async ({ request, response }) => {
      const form = await readJson(request, PreviewForm);
      const folder = await resolveInsideRoots(form.folder, context.dataRoots, 'folder');
      try {
        const { png } = await data.previewFolder(folder, form);
        sendBytes(response, 'image/png', png);
      } catch (error) {
        throw new AppError(400, messageOf(error), 'folder');
      }
    }),
    route('POST', '/api/datasets/mnist', async ({ request, response }) => {
      const form = await readJson(request, MnistForm);
      sendJson(response, 201, jobSummary(await jobs.create('dataset', form.name, { ...form, mnist: true })));
    }),
    route('GET', `/api/datasets/${ID}`, async ({ response, params }) => {
      const job = jobOf(context, params[0]!, 'dataset');
      const folder = path.join(jobs.folder(job.id), 'dataset');
      const manifest = job.state === 'DONE' ? await readDatasetManifest(folder).catch(() => undefined) : undefined;
      const usedBy = jobs.list('model').filter((model) => model.parentId === job.id).map(jobSummary);
      // The manifest's options repeat the job's, plus where the dataset lies in the jobs folder, which the page does not need.
      const { options: _recorded, ...shown } = manifest ?? {};
      sendJson(response, 200, { ...jobSummary(job), options: job.options, manifest: manifest && shown, usedBy });
    }),
  ];
}

function modelRoutes(context: AppContext): Route[] {
  const { jobs } = context;
  return [
    route('POST', '/api/models', async ({ request, response }) => {
      const form = await readJson(request, ModelForm);
      if (form.pretrainedModel !== undefined) form.pretrainedModel = await checkedPretrainedModel(form.pretrainedModel, context.dataRoots);
      const upload = form.pretrainedUpload !== undefined ? await findUpload(jobs.jobsDir, form.pretrainedUpload, 'pretrainedUpload') : undefined;
      await fillPreviousNetwork(form, context);
      const dataset = jobs.list('dataset').find((job) => job.id === form.datasetId);
      if (!dataset) throw new AppError(400, `Dataset ${form.datasetId} does not exist`, 'datasetId');
      if (dataset.state === 'ERROR' || dataset.state === 'ABORT') throw new AppError(409, `Dataset "${dataset.name}" ended ${dataset.state}`, 'datasetId');
      if (dataset.state === 'DONE') await checkPreviousWeights(form, await checkPlan(form, path.join(jobs.folder(dataset.id), 'dataset')), context);
      // What the weights start from, kept with the job.
      const pretrained: JobStatus['pretrained'] = upload ? { source: 'upload', file: upload.file, upload: upload.id, ...(upload.name ? { name: upload.name } : {}) }
        : form.pretrainedModel !== undefined ? { source: 'path', file: form.pretrainedModel }
          : form.previousNetwork !== undefined && form.previousSnapshot !== undefined
            ? { source: 'previous', file: path.join(jobs.folder(form.previousNetwork), `snapshot_iter_${form.previousSnapshot}.caffemodel`), model: form.previousNetwork, snapshot: form.previousSnapshot }
            : undefined;
      sendJson(response, 201, jobSummary(await jobs.create('model', form.name, form, { parentId: dataset.id, ...(pretrained ? { pretrained } : {}) })));
    }),
    route('GET', `/api/models/${ID}`, async ({ response, params }) => {
      const job = jobOf(context, params[0]!, 'model');
      const evaluations = jobs.list('evaluate').filter((entry) => entry.parentId === job.id).map((entry) => ({ ...jobSummary(entry), options: entry.options, result: entry.result }));
      sendJson(response, 200, { ...(await modelDetails(job, jobs.folder(job.id))), evaluations });
    }),
    route('GET', `/api/models/${ID}/network`, async ({ response, params }) => sendJson(response, 200, await previousNetworkInfo(context, params[0]!))),
    route('GET', '/api/networks/(lenet|alexnet)', async ({ response, params }) => {
      sendBytes(response, 'text/plain; charset=utf-8', Buffer.from(models.prototxt(params[0] as 'lenet')));
    }),
    route('POST', '/api/networks/graph', async ({ request, response }) => {
      const { customNetwork } = await readJson(request, NetworkGraphForm);
      sendJson(response, 200, networkGraph(customNetwork));
    }),
  ];
}

/** A pretrained .caffemodel: inside a data root, and readable as Caffe's NetParameter (parsed off the event loop), refused on the form otherwise. */
async function checkedPretrainedModel(given: string, dataRoots: readonly string[]): Promise<string> {
  const file = await resolveInsideRoots(given, dataRoots, 'pretrainedModel');
  try {
    await checkCaffemodel(file);
  } catch (error) {
    throw new AppError(400, messageOf(error), 'pretrainedModel');
  }
  return file;
}

/** A preview of the resize the dataset form asks for, on the first image of its folder. */
const PreviewForm = z.strictObject({
  folder: z.string().min(1, 'a folder is required'),
  width: z.number().int().positive().max(4096).default(256),
  height: z.number().int().positive().max(4096).default(256),
  resizeMode: z.enum(['squash', 'crop', 'fill', 'half_crop']).default('squash'),
  channels: z.union([z.literal(1), z.literal(3)]).default(3),
});

const NetworkGraphForm = z.strictObject({ customNetwork: z.string().max(1 << 20) });

/** The layers of a prototxt with their blobs and phase rules, for the "Visualize" drawing of a network. */
function networkGraph(text: string): { name: string; layers: { name: string; type: string; bottom: string[]; top: string[]; phases: string[] }[] } {
  let network: caffe.NetParameter;
  try {
    network = caffe.parseNetPrototxt(text, { file: 'custom network' });
  } catch (error) {
    throw new AppError(400, messageOf(error), 'customNetwork');
  }
  return {
    name: network.name,
    layers: network.layer.map((layer) => ({
      name: layer.name, type: layer.type, bottom: [...layer.bottom], top: [...layer.top],
      phases: layer.include.flatMap((rule) => (rule.phase ? [rule.phase] : [])),
    })),
  };
}

/** Plans the training now, so that impossible settings (crop larger than the images, ...) are refused on the form. */
async function checkPlan(form: z.infer<typeof ModelForm>, datasetFolder: string): Promise<TrainingPlan> {
  try {
    return await planTraining(form, datasetFolder);
  } catch (error) {
    throw new AppError(400, messageOf(error), /crop/i.test(messageOf(error)) ? 'crop' : /custom/i.test(messageOf(error)) ? 'network' : undefined);
  }
}

async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export { validate };
