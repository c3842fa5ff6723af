// upload-files.ts — where uploaded weights lie (<jobs>/uploads/<id>.caffemodel with <id>.json) and how an id is looked up; light enough for the job worker.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from './errors.js';

export const UPLOADS_FOLDER = 'uploads';
/** An upload's id: 16 hex digits (so a path built from it never leaves the uploads folder). */
export function isUploadId(text: string): boolean {
  return /^[0-9a-f]{16}$/.test(text);
}

/** What is known of one upload (<id>.json beside <id>.caffemodel). */
export interface UploadInfo {
  id: string;
  /** The file's name in the browser, if it was given. */
  name?: string;
  size: number;
  uploaded: string;
  /** The layers that carry weights. */
  layers: string[];
}

export function uploadFile(jobsDir: string, id: string): string {
  return path.join(jobsDir, UPLOADS_FOLDER, `${id}.caffemodel`);
}

/** The upload `id` ({ ...info, file }), or a 400 on `field` when there is none. */
export async function findUpload(jobsDir: string, id: string, field: string): Promise<UploadInfo & { file: string }> {
  const file = uploadFile(jobsDir, id);
  const info = isUploadId(id) && (await stat(file).catch(() => undefined))?.isFile()
    ? await readFile(path.join(jobsDir, UPLOADS_FOLDER, `${id}.json`), 'utf8').then((text) => JSON.parse(text) as UploadInfo).catch(() => undefined)
    : undefined;
  if (!info) throw new AppError(400, `${field}: there is no uploaded weights file ${JSON.stringify(id)}`, field);
  return { ...info, file };
}

/** Every complete upload (an <id>.json beside its <id>.caffemodel), oldest first. */
export async function listUploads(jobsDir: string): Promise<(UploadInfo & { file: string })[]> {
  const folder = path.join(jobsDir, UPLOADS_FOLDER);
  const names = await readdir(folder).catch(() => [] as string[]);
  const found: (UploadInfo & { file: string })[] = [];
  for (const name of names) {
    const id = name.replace(/\.json$/, '');
    if (id === name || !isUploadId(id)) continue;
    const upload = await findUpload(jobsDir, id, 'id').catch(() => undefined);
    if (upload) found.push(upload);
  }
  return found.sort((a, b) => a.uploaded.localeCompare(b.uploaded));
}
