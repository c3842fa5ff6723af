// routes-evaluations.ts — classify many as a background job: a split of the model's dataset, or an uploaded list of server images (`path [label]` per line) with every line's result and thumbnail.
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { sharp as loadSharp } from '../optional-deps.js';
import { z } from 'zod';
import { AppError } from './errors.js';
import { readJson, sendBytes, sendJson, validate } from './http.js';
import { checkImageList, LINES_FILE, LIST_FILE, LIST_MAX_BYTES, readListedImage, LineError, type LineResult } from './image-list.js';
import type { JobStatus } from './job-files.js';
import { resolveInsideRoots } from './paths.js';
import { jobOf, route, ID, type Route } from './routes.js';
import { EvaluateForm, EvaluateListForm, type EvaluateListJob } from './schemas.js';
import type { AppContext } from './server.js';
import { findSnapshot } from './snapshots.js';
import { jobSummary } from './views.js';

/** A list of 1 MiB stays under this as JSON, even with every character escaped twice over. */
const LIST_BODY_LIMIT = 3 * LIST_MAX_BYTES;

const LinesQuery = z.strictObject({
  page: z.coerce.number().int().min(0).default(0),
  size: z.coerce.number().int().min(1).max(500).default(50),
  /** 1: only the lines that failed. */
  failed: z.enum(['0', '1']).default('0'),
});

export function evaluationRoutes(context: AppContext): Route[] {
  const lines = new LinesCache();
  return [
    route('POST', `/api/models/${ID}/evaluate`, async ({ request, response, params }) => {
      const job = jobOf(context, params[0]!, 'model');
      const body = await readJson(request, z.unknown(), LIST_BODY_LIMIT);
      const created = typeof body === 'object' && body !== null && 'list' in body
        ? await createListEvaluation(context, job, validate(EvaluateListForm, body))
        : await context.jobs.create('evaluate', `Classify many: ${job.name}`, validate(EvaluateForm, body), { parentId: job.id });
      sendJson(response, 202, jobSummary(created));
    }),
    route('GET', `/api/evaluations/${ID}`, async ({ response, params }) => {
      const job = jobOf(context, params[0]!, 'evaluate');
      sendJson(response, 200, { ...jobSummary(job), options: job.options, result: job.result });
    }),
    route('GET', `/api/evaluations/${ID}/lines`, async ({ response, url, params }) => {
      const job = listEvaluation(context, params[0]!);
      const query = validate(LinesQuery, Object.fromEntries(url.searchParams));
      const all = await lines.get(job, context.jobs.folder(job.id));
      const matching = query.failed === '1' ? all.filter((entry) => entry.reason !== undefined) : all;
      const labels = (job.result?.labels ?? []) as string[];
      sendJson(response, 200, {
        total: matching.length, page: query.page, size: query.size,
        items: matching.slice(query.page * query.size, (query.page + 1) * query.size).map((entry) => ({
          ...entry,
          ...(entry.predictions ? { predictions: entry.predictions.map((prediction) => ({ ...prediction, label: labels[prediction.index] })) } : {}),
          ...(entry.file ? { url: `/api/evaluations/${job.id}/images/${entry.line}.png` } : {}),
        })),
      });
    }),
    route('GET', `/api/evaluations/${ID}/images/(\\d+)\\.png`, async ({ response, params }) => {
      const job = listEvaluation(context, params[0]!);
      const entry = (await lines.get(job, context.jobs.folder(job.id))).find((candidate) => candidate.line === Number(params[1]));
      if (!entry?.file) throw new AppError(404, `Line ${params[1]} of the list names no classified image`);
      // The file is confined to the data roots again: it may have changed since it was classified.
      const { bytes } = await readListedImage(entry.file, '/', context.dataRoots).catch((error: unknown) => {
        throw error instanceof LineError ? new AppError(error.reason === 'outside' ? 403 : 404, error.message) : error;
      });
      const png = await loadSharp()(bytes).resize(THUMBNAIL, THUMBNAIL, { fit: 'inside', withoutEnlargement: true }).png().toBuffer().catch(() => {
        throw new AppError(404, `${entry.file} is no longer an image`);
      });
      sendBytes(response, 'image/png', png);
    }),
  ];
}

const THUMBNAIL = 128;

/** A list evaluation job: checks the list, resolves the prefix inside the data roots and keeps the list in the job's folder. */
async function createListEvaluation(context: AppContext, model: JobStatus, form: EvaluateListForm): Promise<JobStatus> {
  const count = checkImageList(form.list);
  if (form.snapshot !== undefined) await findSnapshot(context.jobs.folder(model.id), form.snapshot);
  let prefix: string;
  if (form.prefix !== undefined) prefix = await resolveInsideRoots(form.prefix, context.dataRoots, 'prefix');
  else if (context.dataRoots.length > 0) prefix = await realpath(context.dataRoots[0]!).catch(() => context.dataRoots[0]!);
  else throw new AppError(400, 'The server was started without --data-root, so no listed image can be read', 'list');
  if (!(await stat(prefix).catch(() => undefined))?.isDirectory()) throw new AppError(400, `${form.prefix ?? prefix} is not a folder`, 'prefix');
  const options: EvaluateListJob = {
    source: 'list', ...(form.snapshot !== undefined ? { snapshot: form.snapshot } : {}), ...(form.listName ? { listName: path.basename(form.listName) } : {}),
    prefix, dataRoots: context.dataRoots, lines: count,
  };
  return context.jobs.create('evaluate', `Classify many: ${model.name}`, options, { parentId: model.id }, { [LIST_FILE]: form.list });
}

function listEvaluation(context: AppContext, id: string): JobStatus {
  const job = jobOf(context, id, 'evaluate');
  if (job.options.source !== 'list') throw new AppError(404, `Evaluation ${id} classified a dataset split; only a list's evaluation has per-line results`);
  return job;
}

/** lines.json of the last few list evaluations, parsed once (they do not change once written). */
class LinesCache {
  private readonly parsed = new Map<string, Promise<LineResult[]>>();

  get(job: JobStatus, folder: string): Promise<LineResult[]> {
    let entry = this.parsed.get(job.id);
    if (!entry) {
      entry = readFile(path.join(folder, LINES_FILE), 'utf8').then((text) => JSON.parse(text) as LineResult[], () => {
        throw new AppError(409, `The evaluation is ${job.state}; its lines are listed once it ends`);
      });
      entry.catch(() => this.parsed.delete(job.id));
      this.parsed.set(job.id, entry);
      while (this.parsed.size > 4) this.parsed.delete(this.parsed.keys().next().value!);
    }
    return entry;
  }
}
