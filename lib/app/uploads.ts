// uploads.ts — pretrained weights uploaded from the browser: streamed to <jobs>/uploads under a temporary name, checked as a .caffemodel, then renamed to <id>.caffemodel; listed, deleted, and cleaned up when no model uses them.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, messageOf } from './errors.js';
import { sendJson } from './http.js';
import { route, type Route } from './routes.js';
import type { AppContext } from './server.js';
import type { JobManager } from './jobs.js';
import { findUpload, listUploads, UPLOADS_FOLDER, uploadFile, type UploadInfo } from './upload-files.js';
import { checkCaffemodel } from './weights-check.js';

/** Largest weights upload when the server is not told (--max-weights-upload-mb). */
export const DEFAULT_WEIGHTS_UPLOAD_LIMIT = 1024 << 20;

/** Unused uploads are deleted this long after they were made, unless the server is told otherwise (--keep-uploads-hours). */
export const DEFAULT_UPLOADS_MAX_AGE_HOURS = 24;

/** The model jobs whose options name the upload (a clone sends them again, so their uploads are kept). */
function usersOf(jobs: JobManager, id: string): string[] {
  return jobs.list('model').filter((job) => job.options.pretrainedUpload === id).map((job) => job.id);
}

/**
 * Removes what no one will use: temporary files of uploads that never finished (`partials`: only when
 * no upload can be in progress, at start) and uploads no model names that are older than `maxAgeHours`
 * (0 keeps them). Returns the ids and file names removed.
 */
export async function cleanUploads(jobs: JobManager, maxAgeHours: number, partials: boolean, now = Date.now()): Promise<string[]> {
  const folder = path.join(jobs.jobsDir, UPLOADS_FOLDER);
  const removed: string[] = [];
  if (partials) {
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      if (!/^\.[0-9a-f]{16}\.caffemodel\.part$/.test(name)) continue;
      await rm(path.join(folder, name), { force: true });
      removed.push(name);
    }
  }
  if (maxAgeHours > 0) {
    for (const upload of await listUploads(jobs.jobsDir)) {
      if (now - Date.parse(upload.uploaded) < maxAgeHours * 3600e3 || usersOf(jobs, upload.id).length > 0) continue;
      await removeUpload(jobs.jobsDir, upload.id);
      removed.push(upload.id);
    }
  }
  return removed;
}

async function removeUpload(jobsDir: string, id: string): Promise<void> {
  await rm(uploadFile(jobsDir, id), { force: true });
  await rm(path.join(jobsDir, UPLOADS_FOLDER, `${id}.json`), { force: true });
}

export function uploadRoutes(context: AppContext): Route[] {
  const { jobs } = context;
  return [
    route('GET', '/api/uploads', async ({ response }) => {
      const uploads = await listUploads(jobs.jobsDir);
      sendJson(response, 200, { uploads: uploads.map(({ file: _file, ...info }) => ({ ...info, usedBy: usersOf(jobs, info.id) })), keepHours: context.uploadsMaxAgeHours });
    }),
    route('DELETE', '/api/uploads/([0-9a-f]{16})', async ({ response, params }) => {
      const id = params[0]!;
      await findUpload(jobs.jobsDir, id, 'id').catch(() => {
        throw new AppError(404, `There is no uploaded weights file ${id}`);
      });
      const waiting = jobs.startingFrom((options) => options.pretrainedUpload === id);
      if (waiting.length > 0) throw new AppError(409, `Model(s) ${waiting.map((job) => `"${job.name}"`).join(', ')} will start from these weights; abort them first`);
      await removeUpload(jobs.jobsDir, id);
      sendJson(response, 200, { deleted: id });
    }),
    route('POST', '/api/uploads/caffemodel', async ({ request, response, url }) => {
      const name = (url.searchParams.get('name') ?? '').trim().slice(0, 200) || undefined;
      try {
        sendJson(response, 201, await receiveWeights(request, context.jobs.jobsDir, context.weightsUploadLimit, name));
      } catch (error) {
        // The rest of a refused body is read and dropped (never kept), so the client sees the answer; then the connection closes.
        if (!request.complete) {
          response.shouldKeepAlive = false;
          response.setHeader('connection', 'close');
          request.unpipe();
          request.resume();
        }
        throw error;
      }
    }, ['application/octet-stream']),
  ];
}

/** Streams the body to a temporary file (413 once it passes `limit`), checks it, and renames it into place; a refused file is deleted. */
async function receiveWeights(request: IncomingMessage, jobsDir: string, limit: number, name: string | undefined): Promise<UploadInfo> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const folder = path.join(jobsDir, UPLOADS_FOLDER);
  await mkdir(folder, { recursive: true });
  const id = randomBytes(8).toString('hex');
  const temporary = path.join(folder, `.${id}.caffemodel.part`);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > limit ? tooLarge(limit) : null, chunk);
    },
  });
  // Piped rather than put in the pipeline, so that a refusal does not destroy the request before the 413 is sent.
  request.pipe(counter);
  const interrupted = () => {
    if (!request.complete) counter.destroy(new AppError(400, 'The upload was interrupted'));
  };
  request.once('close', interrupted);
  request.once('error', interrupted);
  try {
    await pipeline(counter, createWriteStream(temporary, { flags: 'wx' }));
    if (size === 0) throw new AppError(400, 'Send a .caffemodel file as the request body', 'file');
    let layers: string[];
    try {
      layers = await checkCaffemodel(temporary, name ?? 'the uploaded file');
    } catch (error) {
      throw new AppError(400, `Not a Caffe .caffemodel with weights: ${messageOf(error)}`, 'file');
    }
    const info: UploadInfo = { id, ...(name ? { name } : {}), size, uploaded: new Date().toISOString(), layers };
    await writeFile(path.join(folder, `${id}.json`), `${JSON.stringify(info, null, 2)}\n`);
    await rename(temporary, uploadFile(jobsDir, id));
    return info;
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  } finally {
    request.off('close', interrupted);
    request.off('error', interrupted);
  }
}

function tooLarge(limit: number): AppError {
  return new AppError(413, `The weights file is larger than the ${Math.round(limit / (1 << 20))} MiB this server accepts (--max-weights-upload-mb)`);
}
