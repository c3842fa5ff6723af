// cost.test.ts — the closed-form FLOPs and bytes of AlexNet's layers against counts written out by hand.
import t from 'tap';
import type { NetParameter } from '../../lib/caffe/index.js';
import { Net } from '../../lib/net/index.js';
import { layerCost } from '../../lib/bench/cost.js';
import { layerShapesOf } from '../../lib/bench/measure.js';
import { networkFromName } from '../../lib/bench/network.js';

const N = 2;

/** Forward FLOPs by hand: 2*N*K*outH*outW*(C/group)*kh*kw for convolutions, 2*M*N*K for inner products. */
const alexnet: Record<string, { forward: number; backwardProducts: number }> = {
  // conv1 reads the images, which need no gradient, so backward is the filter gradient alone.
  conv1: { forward: 2 * N * 96 * 55 * 55 * 3 * 11 * 11, backwardProducts: 1 },
  conv2: { forward: 2 * N * 256 * 27 * 27 * (96 / 2) * 5 * 5, backwardProducts: 2 },
  conv3: { forward: 2 * N * 384 * 13 * 13 * 256 * 3 * 3, backwardProducts: 2 },
  conv4: { forward: 2 * N * 384 * 13 * 13 * (384 / 2) * 3 * 3, backwardProducts: 2 },
  conv5: { forward: 2 * N * 256 * 13 * 13 * (384 / 2) * 3 * 3, backwardProducts: 2 },
  fc6: { forward: 2 * N * 4096 * (256 * 6 * 6), backwardProducts: 2 },
  fc7: { forward: 2 * N * 4096 * 4096, backwardProducts: 2 },
  fc8: { forward: 2 * N * 1000 * 4096, backwardProducts: 2 },
};

/** The parameter without weight fillers (constant 0 is filled natively; 61M Gaussian draws would dominate the test). */
function withoutFillers(parameter: NetParameter): NetParameter {
  return { ...parameter, layer: parameter.layer.map((layer) => ({
    ...layer,
    convolution_param: layer.convolution_param && { ...layer.convolution_param, weight_filler: undefined, bias_filler: undefined },
    inner_product_param: layer.inner_product_param && { ...layer.inner_product_param, weight_filler: undefined, bias_filler: undefined },
  })) };
}

t.test('AlexNet (train_val, TRAIN, batch 2): each layer\'s FLOPs equal the closed-form count', async (t) => {
  const network = networkFromName('alexnet', 'TRAIN');
  const net = Net.fromParameter(withoutFillers(network.build(N)), { phase: 'TRAIN', device: 'cpu' });
  t.teardown(() => net.dispose());
  for (const [name, expected] of Object.entries(alexnet)) {
    const index = net.layers.findIndex((layer) => layer.name === name);
    t.ok(index >= 0, `${name} is in the net`);
    const cost = layerCost(layerShapesOf(net, index));
    t.equal(cost.forwardFlops, expected.forward, `${name} forward FLOPs`);
    t.equal(cost.backwardFlops, expected.backwardProducts * expected.forward, `${name} backward FLOPs`);
  }
  const conv1 = layerCost(layerShapesOf(net, net.layers.findIndex((layer) => layer.name === 'conv1')));
  t.equal(conv1.forwardBytes, 4 * (N * 3 * 227 * 227 + N * 96 * 55 * 55 + 96 * 3 * 11 * 11 + 96),
    'conv1 forward bytes: images + output + weights + bias, float32');
  // backward: top diff + images read, no image diff, weights read, weight and bias diffs read and written.
  t.equal(conv1.backwardBytes, 4 * (N * 96 * 55 * 55 + N * 3 * 227 * 227 + 3 * (96 * 3 * 11 * 11 + 96)), 'conv1 backward bytes');
});

t.test('element-wise layers are counted as element operations', async (t) => {
  const network = networkFromName('lenet', 'TRAIN');
  const net = Net.fromParameter(network.build(4), { phase: 'TRAIN', device: 'cpu' });
  t.teardown(() => net.dispose());
  const cost = (name: string) => layerCost(layerShapesOf(net, net.layers.findIndex((layer) => layer.name === name)));
  t.equal(cost('relu1').forwardFlops, 4 * 500, 'ReLU: one operation per element');
  t.equal(cost('pool1').forwardFlops, 4 * 20 * 12 * 12 * 2 * 2, 'max pooling forward: the 2x2 window per output');
  t.equal(cost('pool1').backwardFlops, 4 * 20 * 12 * 12, 'max pooling backward: one routed value per output');
});
