// routes-gallery.ts — a dataset's stored images: the mean image and a paged gallery by split and label, decoded from the LMDB records.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.js';
import { sendBytes, sendJson, validate } from './http.js';
import { SplitRecords } from './records.js';
import { jobOf, route, ID, type Route } from './routes.js';
import type { AppContext } from './server.js';

const GalleryQuery = z.object({
  page: z.coerce.number().int().min(0).default(0),
  size: z.coerce.number().int().min(1).max(200).default(25),
  label: z.coerce.number().int().min(0).optional(),
});

const SPLIT = '(train|val|test)';

export function galleryRoutes(context: AppContext): Route[] {
  const datasetFolder = (id: string) => {
    const job = jobOf(context, id, 'dataset');
    if (job.state !== 'DONE') throw new AppError(409, `The dataset is ${job.state}; its images are shown once it is DONE`);
    return path.join(context.jobs.folder(job.id), 'dataset');
  };
  const open = (id: string, split: string) => SplitRecords.open(path.join(datasetFolder(id), `${split}_db`)).catch((error: unknown) => {
    if (error instanceof AppError) throw error;
    throw new AppError(404, `The dataset has no ${split} split`);
  });
  return [
    route('GET', `/api/datasets/${ID}/mean.png`, async ({ response, params }) => {
      sendBytes(response, 'image/png', await readFile(path.join(datasetFolder(params[0]!), 'mean.png')));
    }),
    route('GET', `/api/datasets/${ID}/images/${SPLIT}`, async ({ response, url, params }) => {
      const query = validate(GalleryQuery, Object.fromEntries(url.searchParams));
      const records = await open(params[0]!, params[1]!);
      await records.close();
      const matching = records.entries.filter((entry) => query.label === undefined || entry.label === query.label);
      const page = matching.slice(query.page * query.size, (query.page + 1) * query.size);
      sendJson(response, 200, {
        total: matching.length, page: query.page, size: query.size,
        items: page.map((entry) => ({ ...entry, url: `/api/datasets/${params[0]}/images/${params[1]}/${entry.index}.png` })),
      });
    }),
    route('GET', `/api/datasets/${ID}/images/${SPLIT}/(\\d+)\\.png`, async ({ response, params }) => {
      const records = await open(params[0]!, params[1]!);
      try {
        const entry = records.entries[Number(params[2])];
        if (!entry) throw new AppError(404, `The ${params[1]} split has no image ${params[2]}`);
        sendBytes(response, 'image/png', await records.png(entry));
      } finally {
        await records.close();
      }
    }),
  ];
}
