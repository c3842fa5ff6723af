// uploads.ts — pretrained weights uploaded from the browser: streamed to <jobs>/uploads under a temporary name, checked as a .caffemodel, then renamed to <id>.caffemodel.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, messageOf } from './errors.js';
import { sendJson } from './http.js';
import { route, type Route } from './routes.js';
import type { AppContext } from './server.js';
import { UPLOADS_FOLDER, uploadFile, type UploadInfo } from './upload-files.js';
import { checkCaffemodel } from './weights-check.js';

/** Largest weights upload when the server is not told (--max-weights-upload-mb). */
export const DEFAULT_WEIGHTS_UPLOAD_LIMIT = 1024 << 20;

export function uploadRoutes(context: AppContext): Route[] {
  return [
    route('POST', '/api/uploads/caffemodel', async ({ request, response, url }) => {
      const type = String(request.headers['content-type'] ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/octet-stream') throw new AppError(415, `Send the .caffemodel as the raw body with content-type application/octet-stream, not ${type}`);
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
    }),
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
