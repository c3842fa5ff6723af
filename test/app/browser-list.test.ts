// browser-list.test.ts — classify many from an uploaded list, by clicking: the file goes up from the model page, whose results show accuracy, top images and every line (failed ones with their reason); classify one from a server path; pretrained weights uploaded from the new-model form. Skipped where Chromium or playwright-core is missing.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { call, listDataset, loadPlaywright, temporaryFolder, waitFor, CHROMIUM } from './helpers.js';

t.test('classify many from an uploaded list, in the browser', async (t) => {
  const playwright = await loadPlaywright();
  if (typeof playwright === 'string') {
    console.log(`# browser tests skipped: ${playwright}`);
    t.skip(`browser tests skipped: ${playwright}`);
    return;
  }
  const root = await temporaryFolder('cudnet-app-root-');
  const server = await startServer({ port: 0, jobsDir: await temporaryFolder('cudnet-app-browser-'), dataRoots: [root] });
  t.teardown(() => server.close());
  const dataset = (await call(server, 'POST', '/api/datasets', await listDataset(root, 'two', ['red', 'green']))).body;
  await waitFor(server, dataset.id, ['DONE']);
  const model = (await call(server, 'POST', '/api/models', {
    name: 'colours', datasetId: dataset.id, epochs: 2, batchSize: 2, mean: 'none', lrPolicy: 'fixed', seed: 1, device: 'cpu',
  })).body;
  await waitFor(server, model.id, ['DONE']);

  const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${server.url}/models/${model.id}`);
  await page.waitForSelector('#trained:not([hidden])');
  t.match(await page.textContent('#list-roots'), root, 'the form names the data roots');

  await page.click('#classify-list button[type=submit]');
  await page.waitForSelector('#classify-list .error');
  t.match(await page.textContent('#classify-list .error'), /choose a text file/, 'a list file is required');
  const list = 'pictures/0-0.png 0\npictures/1-0.png 1\npictures/0-1.png\npictures/missing.png 0\n/etc/hostname\npictures/1-1.png 9\n';
  await page.setInputFiles('#classify-list [name=list]', { name: 'colours.txt', mimeType: 'text/plain', buffer: Buffer.from(list) });
  await page.fill('#classify-list [name=prefix]', `${root}/two`);
  await page.click('#classify-list button[type=submit]');
  await page.waitForSelector('.list-lines tr.line-failed', { timeout: 60000 });
  t.match(await page.textContent('.list-summary'), /3 of 6 images classified; 3 lines failed \(1 missing file, 1 outside the data roots, 1 bad label\)/, 'the summary counts the failures by reason');
  t.match(await page.textContent('.evaluation-summary'), /2 labelled images: top-1 accuracy/, 'accuracy of the labelled lines');
  t.equal(await page.locator('.top-images tr').count(), 2, 'top images of both categories');
  t.equal(await page.locator('.list-lines tr.line-classified').count(), 3, 'every classified line with its top-5');
  t.match(await page.locator('.list-lines tr.line-failed').nth(1).textContent(), /outside the data roots/, 'a failed line shows its reason');
  await page.waitForFunction(() => [...document.querySelectorAll('.list-lines img.thumbnail')].every((image) => (image as HTMLImageElement).naturalWidth > 0));
  t.pass('the thumbnails of the listed images load');
  await page.check('.failed-only');
  await page.waitForFunction(() => document.querySelectorAll('.list-lines tr.line-classified').length === 0);
  t.equal(await page.locator('.list-lines tr.line-failed').count(), 3, 'failed lines only');

  await page.setInputFiles('#classify-list [name=list]', { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.from('\n\n') });
  await page.click('#classify-list button[type=submit]');
  await page.waitForSelector('#classify-list .error');
  t.match(await page.textContent('#classify-list .error'), /lists no image/, 'an empty list is refused beside the field');

  // Classify one from a server path.
  await page.fill('#classify-one [name=path]', 'two/pictures/1-0.png');
  await page.click('#classify-one button[type=submit]');
  await page.waitForSelector('#predictions tr', { timeout: 60000 });
  t.equal(await page.locator('#predictions tr').count(), 2, 'an image on the server is classified by its path');
  await page.fill('#classify-one [name=path]', '/etc/hostname');
  await page.click('#classify-one button[type=submit]');
  await page.waitForSelector('#classify-one .error');
  t.match(await page.textContent('#classify-one .error'), /outside the data folders/, 'a path outside the data roots is refused beside the field');

  // Pretrained weights uploaded from the new-model form.
  const { snapshots } = (await call(server, 'GET', `/api/models/${model.id}`)).body;
  const weights = await readFile(path.join(server.context.jobs.folder(model.id), snapshots.at(-1).caffemodel));
  await page.goto(`${server.url}/models/new`);
  await page.setInputFiles('[name=pretrainedFile]', { name: 'notes.caffemodel', mimeType: 'application/octet-stream', buffer: Buffer.from('not weights') });
  await page.waitForSelector('#model-form .error');
  t.match(await page.textContent('#model-form .error'), /Not a Caffe \.caffemodel/, 'a file that is not a .caffemodel is refused beside the field');
  await page.setInputFiles('[name=pretrainedFile]', { name: 'colours.caffemodel', mimeType: 'application/octet-stream', buffer: weights });
  await page.waitForFunction(() => /uploaded colours\.caffemodel/.test(document.getElementById('upload-note')!.textContent ?? ''));
  t.match(await page.textContent('#upload-note'), /weights of 4 layer\(s\) \(conv1, conv2, ip1, ip2\)/, 'the upload is checked and its layers shown');
  await page.fill('[name=name]', 'from uploaded weights');
  await page.fill('[name=epochs]', '1');
  await page.selectOption('[name=mean]', 'none');
  await page.fill('[name=maxIterations]', '1');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/models\/\d{8}-/);
  const tuned = (await call(server, 'GET', `/api/models/${page.url().split('/').pop()}`)).body;
  t.match(tuned.pretrained, { source: 'upload', name: 'colours.caffemodel' }, 'the new model starts from the uploaded weights');
  t.equal(tuned.options.pretrainedUpload, tuned.pretrained.upload, 'the form sent the upload id');
});
