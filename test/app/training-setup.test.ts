// training-setup.test.ts — a model job's plan: a custom network is filled from the dataset and gets a deploy form.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createMnistDataset, models } from '../../lib/index.js';
import { planTraining } from '../../lib/app/training-setup.js';
import { ModelForm } from '../../lib/app/schemas.js';

t.test('a custom network gets its batch sizes, class count and deploy form from the dataset', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-plan-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const dataset = join(folder, 'mnist');
  await createMnistDataset(dataset, { encoding: 'none' });
  const custom = models.prototxt('lenet').replace(/num_output: 10\b/, 'num_output: 3');
  const form = ModelForm.parse({ name: 'custom', datasetId: 'x', network: 'custom', customNetwork: custom, batchSize: 32, mean: 'none' });
  const plan = await planTraining(form, dataset);
  const data = plan.trainVal.layer.filter((layer) => layer.type === 'Data');
  t.same(data.map((layer) => layer.data_param?.batch_size), [32, plan.valBatchSize], 'Data layers get the batch sizes');
  t.ok(data.every((layer) => layer.data_param?.source.startsWith(dataset)), 'Data layers read the dataset');
  const ip2 = plan.trainVal.layer.find((layer) => layer.name === 'ip2');
  t.equal(ip2?.inner_product_param?.num_output, 10, 'the last InnerProduct outputs one score per class');
  t.same(plan.deploy.layer.map((layer) => layer.type),
    ['Input', 'Convolution', 'Pooling', 'Convolution', 'Pooling', 'InnerProduct', 'ReLU', 'InnerProduct', 'Softmax']);
  t.same(plan.deploy.layer[0]!.input_param?.shape[0]?.dim, [1, 1, 28, 28]);

  const broken = ModelForm.parse({ name: 'bad', datasetId: 'x', network: 'custom', customNetwork: 'layer { name: "x" type: "Input" top: "x" }' });
  await t.rejects(planTraining(broken, dataset), /needs Data layers/);
  const malformed = ModelForm.parse({ name: 'bad', datasetId: 'x', network: 'custom', customNetwork: 'layer { kernal_size: 3 }' });
  await t.rejects(planTraining(malformed, dataset), /custom network:1:9: unknown field 'kernal_size'/);
});
