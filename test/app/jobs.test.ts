// jobs.test.ts — the job list's own rules: every new job gets an id and a folder of its own, however many are made at once; a delete checks every job it would remove before it removes any.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { isJobId, readStatus } from '../../lib/app/job-files.js';
import { JobManager } from '../../lib/app/jobs.js';
import { call, temporaryFolder, waitFor, writeJobFolder } from './helpers.js';

t.test('jobs made at once get ids and folders of their own', async (t) => {
  const jobsDir = await temporaryFolder('cudnet-app-jobs-');
  const jobs = new JobManager(jobsDir);
  await jobs.load();
  t.teardown(() => jobs.close());
  // Ids are DIGITS' YYYYMMDD-HHMMSS-xxxx: 65536 a second, so 2000 jobs in the same second draw the same one many times over.
  // Models on a dataset that does not exist end ERROR at once, so no process starts.
  const count = 2000;
  const made = await Promise.all(Array.from({ length: count }, (_, index) => jobs.create('model', `job ${index}`, { index }, { parentId: '20200101-000000-0000' })));
  t.equal(new Set(made.map((job) => job.id)).size, count, 'every job has its own id');
  t.ok(made.every((job) => isJobId(job.id)), 'in DIGITS\' form');
  const folders = (await readdir(jobsDir)).filter(isJobId);
  t.equal(folders.length, count, 'and its own folder');
  await jobs.close();
  const stored = await Promise.all(folders.map((id) => readStatus(path.join(jobsDir, id))));
  t.ok(stored.every((status, index) => status.id === folders[index]), 'each folder holds its own job');
  t.same(stored.map((status) => status.options.index).sort((a, b) => Number(a) - Number(b)), made.map((_, index) => index), 'and no job was written over another');
});

t.test('a model whose evaluation runs is refused before anything is deleted', async (t) => {
  const jobsDir = await temporaryFolder('cudnet-app-jobs-');
  const dataset = '20200101-000000-0001';
  const model = '20200101-000000-0002';
  const finished = '20200101-000000-0003';
  await writeJobFolder(jobsDir, { id: dataset, type: 'dataset', name: 'dataset', state: 'DONE' });
  await writeJobFolder(jobsDir, { id: model, type: 'model', name: 'model', state: 'DONE', parentId: dataset, options: { datasetId: dataset } });
  await writeJobFolder(jobsDir, { id: finished, type: 'evaluate', name: 'finished', state: 'DONE', parentId: model, options: { split: 'val' } });
  const server = await startServer({ port: 0, jobsDir });
  t.teardown(() => server.close());

  // A second evaluation starts at once: it is RUN from the moment its process is started (it then fails, as the model has no snapshot).
  const running = await call(server, 'POST', `/api/models/${model}/evaluate`, { split: 'val' });
  t.equal(running.status, 202, 'an evaluation is made');
  t.equal(running.body.state, 'RUN', 'and runs');
  const refused = await call(server, 'DELETE', `/api/jobs/${model}`);
  t.equal(refused.status, 409, 'deleting the model is refused');
  t.match(refused.body.error.message, new RegExp(`"Classify many: model" \\(${running.body.id}\\) still runs; abort it before deleting this job`), refused.body.error.message);
  t.equal((await call(server, 'GET', `/api/evaluations/${finished}`)).status, 200, 'its finished evaluation is still there');
  t.ok((await readdir(jobsDir)).includes(finished), 'with its folder');
  t.equal((await call(server, 'GET', `/api/models/${model}`)).status, 200, 'and so is the model');

  const ended = await waitFor(server, running.body.id, ['DONE', 'ERROR', 'ABORT']);
  t.pass(`once the evaluation has stopped (${ended.state})`);
  const deleted = await call(server, 'DELETE', `/api/jobs/${model}`);
  t.equal(deleted.status, 200, 'the model is deleted');
  t.same((await readdir(jobsDir)).filter(isJobId), [dataset], 'with both evaluations');
  t.equal((await call(server, 'GET', `/api/evaluations/${finished}`)).status, 404, 'which are gone from the list too');
});
