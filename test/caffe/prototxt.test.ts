// Tests of network and solver prototxt reading, printing and round trips, on the builtin and reference nets.

import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BUILTIN_MODELS, builtinModelPath, defaultsOf, FillerParameterSchema, parseNetPrototxt, parseSolverPrototxt,
  printNetPrototxt, printSolverPrototxt, PrototxtError, type NetParameter,
} from '../../lib/caffe/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/caffe-nets/${name}`, import.meta.url));

function roundTripNet(t: Test, net: NetParameter): void {
  const printed = printNetPrototxt(net);
  const again = parseNetPrototxt(printed, { file: 'printed.prototxt' });
  t.same(again, net, 'parse → print → parse gives the same net');
  t.equal(printNetPrototxt(again), printed, 'printing is stable');
}

for (const name of BUILTIN_MODELS) {
  t.test(`builtin ${name} parses and round-trips`, async (t) => {
    const text = readFileSync(builtinModelPath(name), 'utf8');
    if (name.includes('solver')) {
      const solver = parseSolverPrototxt(text, { file: name });
      const again = parseSolverPrototxt(printSolverPrototxt(solver));
      t.same(again, solver);
    } else {
      roundTripNet(t, parseNetPrototxt(text, { file: name }));
    }
  });
}

for (const name of ['lenet_train_dummydata', 'lenet_input_layers', 'alexnet_train_dummydata', 'alexnet_eighth_width', 'every_layer_type']) {
  t.test(`reference net ${name} round-trips`, async (t) => {
    roundTripNet(t, parseNetPrototxt(readFileSync(fixture(`${name}.prototxt`), 'utf8'), { file: `${name}.prototxt` }));
  });
}

t.test('LeNet train_val has Caffe\'s values', async (t) => {
  const net = parseNetPrototxt(readFileSync(builtinModelPath('lenet_train_val.prototxt'), 'utf8'));
  t.equal(net.name, 'LeNet');
  t.same(net.layer.map((layer) => layer.name),
    ['mnist', 'mnist', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'accuracy', 'loss']);
  const [train, test, conv1] = net.layer;
  t.same(train!.include, [{ phase: 'TRAIN', stage: [], not_stage: [] }]);
  t.equal(train!.transform_param!.scale, 1 / 256);
  t.match(train!.data_param, { source: 'examples/mnist/mnist_train_lmdb', batch_size: 64, backend: 'LMDB' });
  t.match(test!.data_param, { batch_size: 100 });
  t.match(conv1!.convolution_param, { num_output: 20, kernel_size: [5], stride: [1], bias_term: true, group: 1 });
  t.same(conv1!.param.map((param) => [param.lr_mult, param.decay_mult]), [[1, 1], [2, 1]]);
  t.equal(conv1!.convolution_param!.weight_filler!.type, 'xavier');
  t.same(conv1!.convolution_param!.bias_filler, defaultsOf(FillerParameterSchema));
  t.match(net.layer[3]!.pooling_param, { pool: 'MAX', kernel_size: 2, stride: 2, pad: 0, round_mode: 'CEIL' });
});

t.test('AlexNet train_val has bvlc_alexnet\'s values', async (t) => {
  const net = parseNetPrototxt(readFileSync(builtinModelPath('alexnet_train_val.prototxt'), 'utf8'));
  const byName = new Map(net.layer.map((layer) => [layer.name, layer]));
  t.match(net.layer[0]!.transform_param, { mirror: true, crop_size: 227, mean_file: 'data/ilsvrc12/imagenet_mean.binaryproto' });
  t.match(net.layer[1]!.transform_param, { mirror: false, crop_size: 227 });
  t.match(byName.get('conv1')!.convolution_param, { num_output: 96, kernel_size: [11], stride: [4] });
  t.match(byName.get('conv2')!.convolution_param, { num_output: 256, kernel_size: [5], pad: [2], group: 2 });
  t.match(byName.get('conv4')!.convolution_param, { num_output: 384, kernel_size: [3], pad: [1], group: 2 });
  t.match(byName.get('norm1')!.lrn_param, { local_size: 5, alpha: 0.0001, beta: 0.75 });
  t.match(byName.get('pool5')!.pooling_param, { pool: 'MAX', kernel_size: 3, stride: 2 });
  t.match(byName.get('fc6')!.inner_product_param, { num_output: 4096, weight_filler: { type: 'gaussian', std: 0.005 }, bias_filler: { value: 0.1 } });
  t.match(byName.get('fc8')!.inner_product_param, { num_output: 1000, weight_filler: { std: 0.01 }, bias_filler: { value: 0 } });
  t.same(byName.get('fc8')!.param.map((param) => [param.lr_mult, param.decay_mult]), [[1, 1], [2, 0]]);
  t.equal(byName.get('drop6')!.dropout_param!.dropout_ratio, 0.5);
});

t.test('solvers have Caffe\'s values and defaults', async (t) => {
  const lenet = parseSolverPrototxt(readFileSync(builtinModelPath('lenet_solver.prototxt'), 'utf8'));
  t.match(lenet, {
    net: 'lenet_train_val.prototxt', test_iter: [100], test_interval: 500, base_lr: 0.01, momentum: 0.9,
    weight_decay: 0.0005, lr_policy: 'inv', gamma: 0.0001, power: 0.75, display: 100, max_iter: 10000,
    snapshot: 5000, snapshot_prefix: 'lenet', solver_mode: 'GPU',
    type: 'SGD', iter_size: 1, regularization_type: 'L2', clip_gradients: -1, random_seed: -1, average_loss: 1,
    delta: 1e-8, momentum2: 0.999, rms_decay: 0.99, test_initialization: true, snapshot_after_train: true,
    snapshot_format: 'BINARYPROTO',
  });
  const alexnet = parseSolverPrototxt(readFileSync(builtinModelPath('alexnet_solver.prototxt'), 'utf8'));
  t.match(alexnet, { lr_policy: 'step', gamma: 0.1, stepsize: 100000, max_iter: 450000 });
});

t.test('every solver field round-trips, with an inline net', async (t) => {
  const text = `
net_param { name: "inline" input: "data" input_dim: [1, 1, 2, 2] layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" } }
train_net: "train.prototxt" test_net: "test.prototxt" test_iter: 5 test_interval: 10 test_compute_loss: true
test_initialization: false base_lr: 0.1 display: 1 average_loss: 10 max_iter: 100 iter_size: 2 lr_policy: "multistep"
gamma: 0.5 power: 1 momentum: 0.95 weight_decay: 1e-4 regularization_type: "L1" stepsize: 7 stepvalue: [10, 20]
clip_gradients: 5 snapshot: 50 snapshot_prefix: "snap" snapshot_diff: true snapshot_format: HDF5 solver_mode: CPU
device_id: 1 random_seed: 42 type: "Adam" delta: 1e-6 momentum2: 0.99 rms_decay: 0.9 debug_info: true
snapshot_after_train: false train_state { phase: TRAIN stage: "s" } test_state { level: 1 }`;
  const solver = parseSolverPrototxt(text);
  t.match(solver, { type: 'Adam', stepvalue: [10, 20], snapshot_format: 'HDF5', test_state: [{ phase: 'TEST', level: 1 }] });
  t.same(solver.net_param!.layer.map((layer) => layer.name), ['input', 'ip'], 'the inline net\'s legacy input is upgraded');
  t.same(parseSolverPrototxt(printSolverPrototxt(solver)), solver);
});

t.test('legacy solver_type becomes type', async (t) => {
  t.equal(parseSolverPrototxt('solver_type: NESTEROV').type, 'Nesterov');
  t.equal(parseSolverPrototxt('solver_type: ADAM').solver_type, undefined);
  t.throws(() => parseSolverPrototxt('type: "SGD"\nsolver_type: ADAM', { file: 's.prototxt' }), {
    message: "s.prototxt:2:1: give either 'type' (a string) or the deprecated 'solver_type' (an enum), not both",
  });
});

t.test('legacy input/input_dim becomes an Input layer first', async (t) => {
  const net = parseNetPrototxt(`name: "old"
input: "data"
input_dim: 10
input_dim: 3
input_dim: 227
input_dim: 227
input: "label"
input_dim: [10, 1, 1, 1]
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" }`);
  t.same(net.input, []);
  t.same(net.input_dim, []);
  t.same(net.layer.map((layer) => [layer.name, layer.type]), [['input', 'Input'], ['fc', 'InnerProduct']]);
  t.same(net.layer[0]!.top, ['data', 'label']);
  t.same(net.layer[0]!.input_param!.shape.map((shape) => shape.dim), [[10, 3, 227, 227], [10, 1, 1, 1]]);
  t.match(printNetPrototxt(net), /^name: "old"\nlayer \{\n  name: "input"\n  type: "Input"\n  top: "data"\n  top: "label"\n  input_param \{\n    shape \{\n      dim: 10\n/);
});

t.test('legacy input/input_shape becomes an Input layer', async (t) => {
  const net = parseNetPrototxt('input: "data" input_shape { dim: [1, 2] }');
  t.same(net.layer[0]!.input_param!.shape, [{ dim: [1, 2] }]);
});

t.test('legacy input errors', async (t) => {
  t.throws(() => parseNetPrototxt('name: "x"\ninput: "data"\ninput_dim: 1\ninput_dim: 2', { file: 'in.prototxt' }), {
    message: "in.prototxt:2:1: 1 'input' blob(s) need 4 'input_dim' values (N, C, H, W each) but 2 are given",
    code: 'PROTOTXT_SCHEMA',
  });
  t.throws(() => parseNetPrototxt('input: "a" input: "b" input_shape { dim: 1 }', { file: 'in.prototxt' }), {
    message: "in.prototxt:1:1: 2 'input' blob(s) but 1 'input_shape'; give one input_shape per input",
  });
  t.throws(() => parseNetPrototxt('input_dim: 1', { file: 'in.prototxt' }), {
    message: "in.prototxt:1:1: 'input_dim' or 'input_shape' is given without any 'input' blob name",
  });
});

t.test('the V1 format is rejected with advice', async (t) => {
  const v1 = 'name: "CaffeNet"\nlayers {\n  name: "conv1"\n  type: CONVOLUTION\n}\n';
  const error = t.throws(() => parseNetPrototxt(v1, { file: 'old.prototxt' })) as PrototxtError;
  t.ok(error instanceof PrototxtError);
  t.match(error, { file: 'old.prototxt', line: 2, column: 1, code: 'PROTOTXT_SCHEMA' });
  t.equal(error.message,
    "old.prototxt:2:1: 'layers' is the deprecated V1 network format (layers { type: CONVOLUTION ... }); cudnet reads the " +
    "current format with 'layer' blocks and string types (layer { type: \"Convolution\" ... }). Convert the file with " +
    "Caffe's tool: upgrade_net_proto_text OLD.prototxt NEW.prototxt");
});

t.test('printing: Caffe style, defaults left out', async (t) => {
  const net = parseNetPrototxt(`name: "p"
layer {
  name: "conv" type: "Convolution"
  param { lr_mult: 1 decay_mult: 1 }
  convolution_param { num_output: 4 bias_term: true kernel_size: 3 weight_filler { type: "gaussian" std: 1e-8 } }
}
layer { name: "pool" type: "Pooling" pooling_param { pool: AVE kernel_size: 2 } }
layer { name: "s" type: "Data" data_param { source: "a \\"quoted\\"\\tpath" } transform_param { scale: inf mirror: true } }`);
  t.equal(printNetPrototxt(net), `name: "p"
layer {
  name: "conv"
  type: "Convolution"
  param {
  }
  convolution_param {
    num_output: 4
    kernel_size: 3
    weight_filler {
      type: "gaussian"
      std: 1e-8
    }
  }
}
layer {
  name: "pool"
  type: "Pooling"
  pooling_param {
    pool: AVE
    kernel_size: 2
  }
}
layer {
  name: "s"
  type: "Data"
  transform_param {
    scale: inf
    mirror: true
  }
  data_param {
    source: "a \\"quoted\\"\\tpath"
  }
}
`);
});

t.test('nan and negative infinity survive a round trip', async (t) => {
  const net = parseNetPrototxt('layer { name: "p" type: "Power" power_param { power: nan shift: -inf scale: -0.5 } }');
  const again = parseNetPrototxt(printNetPrototxt(net));
  t.ok(Number.isNaN(again.layer[0]!.power_param!.power));
  t.equal(again.layer[0]!.power_param!.shift, -Infinity);
  t.equal(again.layer[0]!.power_param!.scale, -0.5);
});
