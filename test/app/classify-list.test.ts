// classify-list.test.ts — classify many from an uploaded list: every line classified or refused with its reason, accuracy from the labelled lines, thumbnails, and bad uploads refused.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { call, listDataset, temporaryFolder, waitFor } from './helpers.js';

t.test('classify many from an uploaded list of server images', async (t) => {
  const root = await temporaryFolder('cudnet-app-root-');
  const outside = await temporaryFolder('cudnet-app-outside-');
  const jobsDir = await temporaryFolder('cudnet-app-jobs-');
  const server = await startServer({ port: 0, jobsDir, dataRoots: [root] });
  t.teardown(() => server.close());

  const dataset = (await call(server, 'POST', '/api/datasets', await listDataset(root, 'two', ['red', 'green']))).body;
  t.equal((await waitFor(server, dataset.id, ['DONE', 'ERROR'])).state, 'DONE', 'the dataset is imported');
  const model = (await call(server, 'POST', '/api/models', {
    name: 'colours', datasetId: dataset.id, epochs: 3, batchSize: 2, mean: 'none', lrPolicy: 'fixed', seed: 1, device: 'cpu',
  })).body;
  t.equal((await waitFor(server, model.id, ['DONE', 'ERROR'])).state, 'DONE', 'the model trains');

  const folder = path.join(root, 'two');
  await writeFile(path.join(folder, 'notes.txt'), 'not an image\n');
  await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 0, g: 255, b: 0 } } }).png().toFile(path.join(outside, 'x.png'));
  await symlink(outside, path.join(folder, 'escape'));
  await mkdir(path.join(folder, 'empty'));
  const list = [
    'pictures/0-0.png 0', //                       1: relative to the prefix, labelled
    `${folder}/pictures/1-0.png 1`, //             2: absolute, labelled
    'pictures/0-1.png', //                         3: no label
    'pictures/missing.png 0', //                   4: missing
    `${outside}/x.png 1`, //                       5: outside the data roots
    'notes.txt 0', //                              6: not an image
    'pictures/1-1.png 7', //                       7: label beyond the 2 classes
    '../../../../../../../../etc/hostname', //     8: .. out of the roots
    'escape/x.png 0', //                           9: a symlink out of the roots
    '', //                                        10: blank, skipped
    'pictures/1-2.png -1', //                     11: not a class index
    'empty', //                                   12: a folder
    'pictures/1-3.png 1', //                      13: labelled
  ].join('\n');
  const created = await call(server, 'POST', `/api/models/${model.id}/evaluate`, { list, listName: 'images.txt', prefix: folder });
  t.equal(created.status, 202, 'a list evaluation starts as a job');
  const done = await waitFor(server, created.body.id, ['DONE', 'ERROR']);
  t.equal(done.state, 'DONE', `it ends DONE although lines fail ${done.error ?? ''}`);
  const { result, options } = (await call(server, 'GET', `/api/evaluations/${created.body.id}`)).body;
  t.match(options, { source: 'list', listName: 'images.txt', lines: 12 }, 'its options say where the images came from');
  t.match(result, { source: 'list', lines: 12, classified: 4, failed: 8, count: 3, labels: ['red', 'green'] }, '4 of 12 lines classified, 3 of them labelled');
  t.same(result.failures, { missing: 2, outside: 2, 'not-an-image': 1, 'bad-label': 2, 'not-a-file': 1 }, 'the failures by reason');
  t.ok(result.top1 >= 0 && result.top1 <= result.top5 && result.top5 <= 1, `top-1 ${result.top1}, top-5 ${result.top5}`);
  t.same(result.confusion.flat().reduce((a: number, b: number) => a + b, 0), 3, 'the confusion matrix counts the labelled images');
  t.same(result.perClass.map((entry: { count: number }) => entry.count), [1, 2], 'per-class counts');
  t.same(result.topPerClass.map((images: unknown[]) => images.length), [4, 4], 'every classified image in the top images of each category');
  t.ok(result.topPerClass[0].some((image: { index: number; label?: number }) => image.index === 3 && image.label === undefined), 'unlabelled lines among them, by line');

  const lines = (await call(server, 'GET', `/api/evaluations/${created.body.id}/lines?size=100`)).body;
  t.equal(lines.total, 12, 'every non-blank line has a result');
  const byLine = new Map(lines.items.map((item: { line: number }) => [item.line, item]));
  t.same([...byLine.keys()], [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13], 'in order, numbered as in the file');
  const ok: any = byLine.get(1);
  t.equal(ok.predictions.length, 2, 'top-5 (of 2 classes) for a classified line');
  t.ok(['red', 'green'].includes(ok.predictions[0].label) && ok.predictions[0].probability >= ok.predictions[1].probability, 'best first, with label names');
  t.equal(ok.file, path.join(folder, 'pictures', '0-0.png'), 'the file it resolved to');
  const reasons = Object.fromEntries(lines.items.filter((item: any) => item.reason).map((item: any) => [item.line, item.reason]));
  // A link out of the roots reads as a missing file, so that no line tells whether a file outside exists.
  t.same(reasons, { 4: 'missing', 5: 'outside', 6: 'not-an-image', 7: 'bad-label', 8: 'outside', 9: 'missing', 11: 'bad-label', 12: 'not-a-file' }, 'each failed line with its reason');
  t.match((byLine.get(7) as any).error, /label 7 is not a class index 0\.\.1/, 'and a message');
  const failedOnly = (await call(server, 'GET', `/api/evaluations/${created.body.id}/lines?failed=1&size=3&page=1`)).body;
  t.same([failedOnly.total, failedOnly.items.map((item: { line: number }) => item.line)], [8, [7, 8, 9]], 'the failed lines alone, paged');
  t.equal((await call(server, 'GET', `/api/evaluations/${created.body.id}/lines?size=0`)).status, 400, 'a bad page size');
  t.equal((await call(server, 'GET', `/api/evaluations/${created.body.id}/lines?colour=1`)).status, 400, 'an unknown parameter');

  const thumbnail = await call(server, 'GET', ok.url);
  t.equal(thumbnail.status, 200, 'a classified line has a thumbnail');
  t.same([...thumbnail.body.subarray(1, 4)], [...Buffer.from('PNG')], 'as PNG');
  t.equal((await call(server, 'GET', `/api/evaluations/${created.body.id}/images/5.png`)).status, 404, 'a failed line has none');
  t.equal((await call(server, 'GET', `/api/evaluations/${created.body.id}/images/99.png`)).status, 404, 'nor a line that is not there');

  // Without a prefix, relative paths start at the first data root.
  const rooted = await call(server, 'POST', `/api/models/${model.id}/evaluate`, { list: 'two/pictures/0-0.png 0\ntwo/pictures/1-0.png\n' });
  t.equal(rooted.status, 202, 'a list without a prefix');
  t.equal((await waitFor(server, rooted.body.id, ['DONE', 'ERROR'])).state, 'DONE');
  t.match((await call(server, 'GET', `/api/evaluations/${rooted.body.id}`)).body.result, { classified: 2, failed: 0, count: 1 }, 'resolves against the first data root');
  const split = (await call(server, 'POST', `/api/models/${model.id}/evaluate`, { split: 'val' })).body;
  await waitFor(server, split.id, ['DONE', 'ERROR']);
  t.equal((await call(server, 'GET', `/api/evaluations/${split.id}/lines`)).status, 404, 'a split evaluation has no per-line results');

  const evaluate = (body: unknown, target = server, id = model.id) => call(target, 'POST', `/api/models/${id}/evaluate`, body);
  const refusals: [string, unknown, number, string | undefined, RegExp][] = [
    ['an empty list', { list: '\n  \n' }, 400, 'list', /lists no image/],
    ['a list that is not text', { list: 'a.png\0\u0001' }, 400, 'list', /not a text file/],
    ['more than 10000 lines', { list: Array.from({ length: 10001 }, (_, i) => `${i}.png`).join('\n') }, 400, 'list', /10001 images; at most 10000/],
    ['a list larger than 1 MiB', { list: 'x'.repeat((1 << 20) + 1) }, 400, 'list', /larger than 1 MiB/],
    ['a list that is not a string', { list: 5 }, 400, 'list', /string/],
    ['a list with a split', { list: 'a.png', split: 'val' }, 400, undefined, /split/],
    ['a prefix outside the data roots', { list: 'a.png', prefix: outside }, 403, 'prefix', /outside the data folders/],
    ['a prefix through a symlink out (as if missing)', { list: 'a.png', prefix: path.join(folder, 'escape') }, 400, 'prefix', /does not exist inside the data folders/],
    ['a relative prefix', { list: 'a.png', prefix: 'two' }, 400, 'prefix', /absolute path/],
    ['a prefix that is a file', { list: 'a.png', prefix: path.join(folder, 'notes.txt') }, 400, 'prefix', /not a folder/],
    ['a snapshot that does not exist', { list: 'a.png', snapshot: 999 }, 404, 'snapshot', /no snapshot at iteration 999/],
  ];
  for (const [what, body, status, field, message] of refusals) {
    const refused = await evaluate(body);
    t.equal(refused.status, status, `${what} is refused (${refused.status})`);
    t.equal(refused.body.error?.field, field, `naming ${field ?? 'no field'}`);
    t.match(refused.body.error?.message, message, refused.body.error?.message);
  }
  t.equal((await evaluate({ list: 'a.png' }, server, '20200101-000000-abcd')).status, 404, 'an unknown model');
  t.equal((await evaluate({ list: 'a.png' }, server, dataset.id)).status, 404, 'a dataset is not a model');
  t.equal((await call(server, 'POST', `/api/models/${model.id}/evaluate`, new Uint8Array(4 << 20), { 'content-type': 'application/json' })).status, 413, 'an oversize upload is 413');
  // The same jobs served without --data-root: no listed image could be read.
  const bare = await startServer({ port: 0, jobsDir });
  t.teardown(() => bare.close());
  const noRoots = await evaluate({ list: 'a.png' }, bare);
  t.equal(noRoots.status, 400, 'a list is refused by a server without data roots');
  t.match(noRoots.body.error, { field: 'list', message: /without --data-root/ });
  t.equal((await call(server, 'GET', `/api/evaluations/${model.id}/lines`)).status, 404, 'a model is not an evaluation');
});

t.test('the list format: DIGITS\' `path [label]` lines', async (t) => {
  const { parseImageList, listedPath } = await import('../../lib/app/image-list.js');
  t.same(parseImageList('a b.png 3\r\n\r\n  /x/y.jpg  \nc.png -1\nd.png 2.5\ne 1.png\n'), [
    { line: 1, text: 'a b.png 3', path: 'a b.png', label: 3 },
    { line: 3, text: '/x/y.jpg', path: '/x/y.jpg' },
    { line: 4, text: 'c.png -1', path: 'c.png', badLabel: '-1' },
    { line: 5, text: 'd.png 2.5', path: 'd.png', badLabel: '2.5' },
    { line: 6, text: 'e 1.png', path: 'e 1.png' },
  ], 'spaces in paths, CRLF, blank lines, labels and bad labels');
  t.equal(listedPath('a/b.png', '/data'), '/data/a/b.png', 'a relative path starts at the prefix');
  t.equal(listedPath('/abs/b.png', '/data'), '/abs/b.png', 'an absolute one is kept (and then checked against the roots)');
});
