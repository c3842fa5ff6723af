// models.test.ts — the builtin network builders equal the shipped Caffe prototxt files.
import t from 'tap';
import { parseNetPrototxt } from '../../lib/caffe/index.js';
import { lenet, alexnet, prototxt } from '../../lib/models/index.js';

for (const [name, build] of [['lenet', lenet], ['alexnet', alexnet]] as const) {
  for (const variant of ['train_val', 'deploy'] as const) {
    t.test(`${name} ${variant} equals models/${name}_${variant}.prototxt`, async (t) => {
      const shipped = parseNetPrototxt(prototxt(name, variant), { file: `${name}_${variant}.prototxt` });
      t.same(build({ variant }), shipped);
    });
  }
}

t.test('options change the class count, input shape and batch', async (t) => {
  const net = lenet({ numClasses: 3, inputShape: [3, 32, 32], batchSize: 7, input: 'input', scale: 1 });
  t.same(net.layer[0]!.input_param!.shape.map((shape) => shape.dim), [[7, 3, 32, 32], [7]]);
  t.equal(net.layer.find((layer) => layer.name === 'ip2')!.inner_product_param!.num_output, 3);
  const deploy = alexnet({ variant: 'deploy', batchSize: 2, numClasses: 5 });
  t.same(deploy.layer[0]!.input_param!.shape[0]!.dim, [2, 3, 227, 227]);
  t.equal(deploy.layer.at(-1)!.type, 'Softmax');
});

t.test('misspelled options and unknown models are refused with a suggestion', async (t) => {
  t.throws(() => lenet({ numClasess: 3 } as never), { message: /unknown option 'numClasess'; did you mean 'numClasses'\?/ });
  t.throws(() => lenet({ batchSize: 0 }), { message: /Expected a positive integer for batchSize but received 0/ });
  t.throws(() => prototxt('lenett' as never), { message: /did you mean 'lenet'/ });
});
