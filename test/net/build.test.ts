// build.test.ts — building nets: include/exclude rules, build-time errors naming the layer and its line, NetBuilder.
import t from 'tap';
import { parseNetPrototxt, printNetPrototxt } from '../../lib/caffe/index.js';
import { Net, NetBuilder, stateMeetsRule } from '../../lib/net/index.js';
import { assertThrowsCode } from '../helpers/index.js';
import { readFileSync } from 'node:fs';

const LENET = readFileSync(new URL('../fixtures/net/lenet_input_layers.prototxt', import.meta.url), 'utf8');
const rule = (fields: Record<string, unknown>) => ({ stage: [], not_stage: [], ...fields });

t.test('stateMeetsRule follows Caffe: phase, level range, all stages, no not_stages', async (t) => {
  const state = { phase: 'TRAIN' as const, level: 2, stages: ['train', 'gpu'] };
  t.ok(stateMeetsRule(state, rule({})), 'an empty rule is met');
  t.ok(stateMeetsRule(state, rule({ phase: 'TRAIN' })), 'phase');
  t.notOk(stateMeetsRule(state, rule({ phase: 'TEST' })), 'other phase');
  t.ok(stateMeetsRule(state, rule({ min_level: 2, max_level: 2 })), 'level inside');
  t.notOk(stateMeetsRule(state, rule({ min_level: 3 })), 'below min_level');
  t.notOk(stateMeetsRule(state, rule({ max_level: 1 })), 'above max_level');
  t.ok(stateMeetsRule(state, rule({ stage: ['train', 'gpu'] })), 'all stages present');
  t.notOk(stateMeetsRule(state, rule({ stage: ['train', 'deploy'] })), 'one stage missing');
  t.notOk(stateMeetsRule(state, rule({ not_stage: ['gpu'] })), 'a not_stage present');
});

t.test('layers are filtered by phase, stage and level', async (t) => {
  const text = `
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
    layer { name: "train_only" type: "Power" bottom: "data" top: "a" include { phase: TRAIN } }
    layer { name: "val_stage" type: "Power" bottom: "data" top: "b" include { stage: "val" } }
    layer { name: "not_deploy" type: "Power" bottom: "data" top: "c" exclude { stage: "deploy" } }
    layer { name: "level_2" type: "Power" bottom: "data" top: "d" include { min_level: 2 } }`;
  const names = (options: Parameters<typeof Net.fromPrototxt>[1]) => {
    const net = Net.fromPrototxt(text, { device: 'cpu', ...options });
    const result = net.layers.filter((layer) => layer.type !== 'Split').map((layer) => layer.name).slice(1);
    net.dispose();
    return result;
  };
  t.same(names({ phase: 'TRAIN' }), ['train_only', 'not_deploy'], 'TRAIN');
  t.same(names({}), ['not_deploy'], 'TEST is the default phase (Caffe\'s NetState)');
  t.same(names({ phase: 'TEST', stages: ['val'] }), ['val_stage', 'not_deploy'], 'stage val');
  t.same(names({ phase: 'TEST', stages: ['deploy'] }), [], 'stage deploy excludes');
  t.same(names({ phase: 'TEST', level: 3 }), ['not_deploy', 'level_2'], 'level 3');
  await assertThrowsCode(t, () => Net.fromPrototxt(
    'layer { name: "x" type: "Input" top: "x" include { phase: TRAIN } exclude { phase: TEST } input_param { shape { dim: 1 } } }',
    { device: 'cpu' }), 'INVALID_NET', "layer 'x' gives both include and exclude rules; specify either include rules or exclude rules, not both");
});

t.test('build errors name the layer, its type and its line', async (t) => {
  const header = 'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }\n';
  await assertThrowsCode(t, () => Net.fromPrototxt(header +
    'layer { name: "conv1" type: "Convolutoin" bottom: "data" top: "conv1" }', { device: 'cpu', file: 'net.prototxt' }),
  'UNKNOWN_LAYER_TYPE', "unknown layer type 'Convolutoin' in layer 'conv1' (net.prototxt:2:1); did you mean 'Convolution'?");
  await assertThrowsCode(t, () => Net.fromPrototxt(header +
    'layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 11 } }',
  { device: 'cpu', file: 'net.prototxt' }), 'SHAPE_MISMATCH',
  /^layer 'conv1' \(Convolution\) \(net\.prototxt:2:1\): .*kernel 11x11 .* larger than the padded input 8x8/);
  await assertThrowsCode(t, () => Net.fromPrototxt(header +
    'layer { name: "ip" type: "InnerProduct" bottom: "dat" top: "ip" inner_product_param { num_output: 2 } }', { device: 'cpu' }),
  'UNKNOWN_BLOB', "layer 'ip' (InnerProduct): unknown bottom blob 'dat' (bottom 0); no earlier layer produces it");
  await assertThrowsCode(t, () => Net.fromPrototxt(header +
    'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" }', { device: 'cpu', file: 'f' }),
  'INVALID_LAYER', "layer 'ip' (InnerProduct) (f:2:1): inner_product_param is missing");
  await assertThrowsCode(t, () => Net.fromPrototxt(header +
    'layer { name: "a" type: "Power" bottom: "data" top: "x" }\nlayer { name: "b" type: "Power" bottom: "data" top: "x" }',
  { device: 'cpu' }), 'INVALID_NET', /^layer 'b' \(Power\) \(<prototxt>:3:1\): top blob 'x' is produced by more than one layer/);
  await assertThrowsCode(t, () => Net.fromPrototxt(header +
    'layer { name: "e" type: "Eltwise" bottom: "data" top: "e" }', { device: 'cpu' }),
  'BLOB_COUNT', "layer 'e' (Eltwise) (<prototxt>:2:1): Eltwise takes at least 2 bottoms but has 1");
  const shared = header +
    'layer { name: "a" type: "InnerProduct" bottom: "data" top: "a" param { name: "w" } inner_product_param { num_output: 3 } }\n' +
    'layer { name: "b" type: "InnerProduct" bottom: "data" top: "b" param { name: "w" } inner_product_param { num_output: 4 } }';
  await assertThrowsCode(t, () => Net.fromPrototxt(shared, { device: 'cpu' }), 'SHAPE_MISMATCH',
    /cannot share param 'w' owned by layer 'a' with layer 'b': shape mismatch \(owner 3x192, this layer 4x192\)/);
});

t.test('NetBuilder writes the same NetParameter as the LeNet prototxt', async (t) => {
  const xavier = { type: 'xavier' as const };
  const constant = { type: 'constant' as const };
  const built = new NetBuilder('LeNet').setForceBackward()
    .input('data', [8, 1, 28, 28]).input('label', [8])
    .convolution('conv1', 'data', { numOutput: 20, kernelSize: 5, stride: 1, weightFiller: xavier, biasFiller: constant,
      params: [{ lrMult: 1 }, { lrMult: 2 }] })
    .pooling('pool1', 'conv1', { pool: 'MAX', kernelSize: 2, stride: 2 })
    .convolution('conv2', 'pool1', { numOutput: 50, kernelSize: 5, stride: 1, weightFiller: xavier, biasFiller: constant,
      params: [{ lrMult: 1 }, { lrMult: 2 }] })
    .pooling('pool2', 'conv2', { pool: 'MAX', kernelSize: 2, stride: 2 })
    .innerProduct('ip1', 'pool2', { numOutput: 500, weightFiller: xavier, biasFiller: constant, params: [{ lrMult: 1 }, { lrMult: 2 }] })
    .relu('relu1', 'ip1')
    .innerProduct('ip2', 'ip1', { numOutput: 10, weightFiller: xavier, biasFiller: constant,
      params: [{ lrMult: 1 }, { lrMult: 2, decayMult: 0 }] })
    .accuracy('accuracy', ['ip2', 'label'], { include: { phase: 'TEST' } })
    .softmaxWithLoss('loss', ['ip2', 'label'])
    .toParameter();
  t.same(built, parseNetPrototxt(LENET), 'deep-equal to the parsed prototxt');
  t.same(parseNetPrototxt(printNetPrototxt(built)), built, 'prints as prototxt that parses back');
  const net = Net.fromParameter(built, { phase: 'TRAIN', device: 'cpu' });
  t.same(net.blobs.get('ip2')!.shape, [8, 10], 'builds');
  net.dispose();
});
