// previous-network.test.ts — DIGITS' "Previous networks": an earlier model's network (and weights) trained again, refilled from another dataset; bad ids and snapshots refused.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { caffe } from '../../lib/index.js';
import { call, listDataset, temporaryFolder, waitFor } from './helpers.js';

t.test('a previous network, with and without its weights, on the same and on another dataset', async (t) => {
  const root = await temporaryFolder('cudnet-app-root-');
  const jobsDir = await temporaryFolder('cudnet-app-jobs-');
  const server = await startServer({ port: 0, jobsDir, dataRoots: [root] });
  t.teardown(() => server.close());
  const unknown = '20200101-000000-abcd';

  const two = (await call(server, 'POST', '/api/datasets', await listDataset(root, 'two', ['red', 'green']))).body;
  const three = (await call(server, 'POST', '/api/datasets', await listDataset(root, 'three', ['red', 'green', 'blue']))).body;
  for (const dataset of [two, three]) t.equal((await waitFor(server, dataset.id, ['DONE', 'ERROR'])).state, 'DONE', `dataset ${dataset.name} is imported`);

  // 4 iterations per epoch at batch 2: snapshots at iterations 4 and 8.
  const base = { epochs: 2, batchSize: 2, mean: 'none', lrPolicy: 'fixed', seed: 1, device: 'cpu' };
  const first = (await call(server, 'POST', '/api/models', { ...base, name: 'first', datasetId: two.id })).body;
  t.equal((await waitFor(server, first.id, ['DONE', 'ERROR'])).state, 'DONE', 'the first model trains');

  const info = await call(server, 'GET', `/api/models/${first.id}/network`);
  t.equal(info.status, 200, 'a model\'s network is served');
  t.match(info.body, { id: first.id, name: 'first', state: 'DONE', datasetId: two.id, datasetName: 'two', batchSize: 2 }, 'with where it came from');
  t.same(info.body.snapshots.map((snapshot: { iter: number }) => snapshot.iter), [4, 8], 'and its snapshots');
  t.equal(info.body.network, await readFile(path.join(jobsDir, first.id, 'train_val.prototxt'), 'utf8'), 'the network is the train_val prototxt it trained with');

  const missing = await call(server, 'GET', `/api/models/${unknown}/network`);
  t.equal(missing.status, 404, 'an unknown job has no network');
  t.match(missing.body.error.message, /does not exist/);
  const ofDataset = await call(server, 'GET', `/api/models/${two.id}/network`);
  t.equal(ofDataset.status, 400, 'a dataset has no network');
  t.match(ofDataset.body.error.message, /is a dataset, not a model/, 'and the message says so');
  t.equal((await call(server, 'GET', `/api/models/not-an-id/network`)).status, 404, 'a malformed id is 404');

  const previous = { ...base, name: 'again', network: 'previous' };
  const refusals: [string, Record<string, unknown>, number, string, RegExp][] = [
    ['no previous network chosen', { datasetId: two.id }, 400, 'previousNetwork', /choose a previous network/],
    ['an unknown job', { datasetId: two.id, previousNetwork: unknown }, 400, 'previousNetwork', /does not exist/],
    ['a malformed id', { datasetId: two.id, previousNetwork: '../etc' }, 400, 'previousNetwork', /job id/],
    ['a dataset id', { datasetId: two.id, previousNetwork: two.id }, 400, 'previousNetwork', /is a dataset, not a model/],
    ['a snapshot that does not exist', { datasetId: two.id, previousNetwork: first.id, previousSnapshot: 5 }, 400, 'previousSnapshot', /iterations 4, 8/],
    ['weights without their network', { datasetId: two.id, network: 'lenet', previousSnapshot: 4 }, 400, 'previousSnapshot', /need that network/],
    ['a previous network with a standard one', { datasetId: two.id, network: 'lenet', previousNetwork: first.id }, 400, 'previousNetwork', /network "previous"/],
    ['two sources of weights', { datasetId: two.id, previousNetwork: first.id, previousSnapshot: 4, pretrainedModel: path.join(root, 'x.caffemodel') }, 400, 'pretrainedModel', /not both/],
    ['2 → 3 outputs from weights', { datasetId: three.id, previousNetwork: first.id, previousSnapshot: 8 }, 400, 'previousSnapshot', /layer 'ip2' 2 outputs but this dataset has 3 classes; customize the network and rename/],
  ];
  for (const [what, body, status, field, message] of refusals) {
    const refused = await call(server, 'POST', '/api/models', { ...previous, ...body });
    t.equal(refused.status, status, `${what} is refused (${refused.status})`);
    t.equal(refused.body.error?.field, field, `naming ${field}`);
    t.match(refused.body.error?.message, message, refused.body.error?.message);
  }

  // The network alone on the 3-class dataset: data layers, batch and class count come from there.
  const onThree = await call(server, 'POST', '/api/models', { ...previous, batchSize: undefined, datasetId: three.id, previousNetwork: first.id, customNetwork: 'ignored' });
  t.equal(onThree.status, 201, 'a previous network on another dataset is accepted');
  t.equal((await waitFor(server, onThree.body.id, ['DONE', 'ERROR'])).state, 'DONE', 'and trains');
  const trained = caffe.parseNetPrototxt(await readFile(path.join(jobsDir, onThree.body.id, 'train_val.prototxt'), 'utf8'));
  const data = trained.layer.filter((layer) => layer.type === 'Data');
  t.ok(data.every((layer) => layer.data_param!.source.startsWith(path.join(jobsDir, three.id))), 'its Data layers read the new dataset');
  t.equal(data.find((layer) => layer.include.some((rule) => rule.phase === 'TRAIN'))!.data_param!.batch_size, 2, 'it keeps the batch size it trained with');
  t.equal(trained.layer.find((layer) => layer.name === 'ip2')!.inner_product_param!.num_output, 3, 'its last layer outputs the new dataset\'s 3 classes');
  t.equal((await call(server, 'GET', `/api/models/${onThree.body.id}`)).body.options.customNetwork, info.body.network, 'the job records the network it reused');

  // With its weights on the same dataset: the log names the loaded layers.
  const withWeights = await call(server, 'POST', '/api/models', { ...previous, datasetId: two.id, previousNetwork: first.id, previousSnapshot: 8 });
  t.equal(withWeights.status, 201, 'a previous network with its last snapshot is accepted');
  t.equal((await waitFor(server, withWeights.body.id, ['DONE', 'ERROR'])).state, 'DONE', 'and trains');
  const log = (await call(server, 'GET', `/api/jobs/${withWeights.body.id}/log`)).body.toString();
  t.match(log, new RegExp(`Weights of 4 layer\\(s\\) loaded from model ${first.id}, snapshot_iter_8.caffemodel: conv1, conv2, ip1, ip2`), 'every learned layer starts from the snapshot');

  // Customized, with the last layer renamed: its weights start every layer but that one on the 3-class dataset.
  const renamed = info.body.network.replace(/"ip2"/g, '"ip2-three"');
  const customized = await call(server, 'POST', '/api/models', {
    ...base, name: 'customized', network: 'custom', customNetwork: renamed, datasetId: three.id, previousNetwork: first.id, previousSnapshot: 4,
  });
  t.equal(customized.status, 201, 'a customized previous network with a renamed last layer is accepted');
  t.equal((await waitFor(server, customized.body.id, ['DONE', 'ERROR'])).state, 'DONE', 'and trains');
  t.match((await call(server, 'GET', `/api/jobs/${customized.body.id}/log`)).body.toString(), /Weights of 3 layer\(s\) loaded from .*snapshot_iter_4.caffemodel: conv1, conv2, ip1\n/, 'all but the renamed layer are loaded');

  // A training queued behind its importing dataset still needs the snapshot: the model it comes from is kept.
  const later = (await call(server, 'POST', '/api/datasets', { ...(await listDataset(root, 'later', ['red', 'green'])), name: 'later' })).body;
  const queued = await call(server, 'POST', '/api/models', { ...previous, datasetId: later.id, previousNetwork: first.id, previousSnapshot: 8 });
  t.equal(queued.status, 201, 'a model on a dataset still importing is queued');
  const kept = await call(server, 'DELETE', `/api/jobs/${first.id}`);
  t.equal(kept.status, 409, 'the model whose weights it will load is not deleted');
  t.match(kept.body.error.message, /will start from this model's weights/);
  t.equal((await waitFor(server, queued.body.id, ['DONE', 'ERROR'])).state, 'DONE', 'the queued model trains from the weights');
  t.equal((await call(server, 'DELETE', `/api/jobs/${first.id}`)).status, 200, 'afterwards the model can be deleted');
  const gone = await call(server, 'GET', `/api/models/${first.id}/network`);
  t.equal(gone.status, 404, 'and its network is gone');
});
