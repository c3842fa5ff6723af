// net.test.ts — Net: the LeNet fixture, whole-net gradients through every layer type, splits, backward rules, sharing, loss weights, weights in and out.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { Net, type LearnableParam } from '../../lib/net/index.js';
import { DropoutLayer } from '../../lib/net/layers/dropout.js';
import { assertClose, assertThrowsCode, checkGradient, forEachDevice, randomArray, rng } from '../helpers/index.js';
import { EVERY_LAYER_NET } from './every-layer.prototxt.js';

const LENET = readFileSync(new URL('../fixtures/net/lenet_input_layers.prototxt', import.meta.url), 'utf8');

/** Writes random data and labels 0..classes-1 into a net's inputs. */
function feed(net: Net, seed: number, classes: number): void {
  const random = rng(seed);
  const data = net.blobs.get('data')!;
  data.data.write(randomArray(data.count, random));
  const label = net.blobs.get('label')!;
  label.data.write(Float32Array.from({ length: label.count }, (_, i) => (i * 7 + seed) % classes));
}

forEachDevice(t, async (t, dev) => {
  t.test('LeNet with Input layers: phases, splits, shapes, multipliers, outputs', async (t) => {
    const train = Net.fromPrototxt(LENET, { phase: 'TRAIN', device: dev });
    t.same(train.layers.map((layer) => layer.name),
      ['data', 'label', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'loss'], 'TRAIN drops the TEST-only Accuracy');
    const test = Net.fromPrototxt(LENET, { phase: 'TEST', device: dev });
    t.same(test.layers.map((layer) => layer.name), ['data', 'label', 'label_label_0_split', 'conv1', 'pool1', 'conv2', 'pool2',
      'ip1', 'relu1', 'ip2', 'ip2_ip2_0_split', 'accuracy', 'loss'], 'TEST splits label and ip2 as Caffe names them');
    t.same(test.layers[10].tops, ['ip2_ip2_0_split_0', 'ip2_ip2_0_split_1'], 'split tops');
    t.same(train.blobs.get('pool2')!.shape, [8, 50, 4, 4], 'shapes inferred');
    t.same(train.learnableParams.map((p) => [p.name, p.lrMult, p.decayMult]), [
      ['conv1/0', 1, 1], ['conv1/1', 2, 1], ['conv2/0', 1, 1], ['conv2/1', 2, 1],
      ['ip1/0', 1, 1], ['ip1/1', 2, 1], ['ip2/0', 1, 1], ['ip2/1', 2, 0]], 'lr_mult and decay_mult');
    t.same(test.outputNames, ['accuracy', 'loss'], 'outputs');
    feed(train, 1, 10);
    const loss = await train.forward();
    t.ok(Math.abs(loss - Math.log(10)) < 0.5, `initial loss near ln 10 (${loss})`);
    train.backward();
    const dataDiff = await train.blobs.get('data')!.diff.data();
    t.ok(dataDiff.some((v) => v !== 0), 'force_backward computes the data diff');
    t.same(Object.keys(await test.readOutputs()), ['accuracy', 'loss'], 'readOutputs');
    train.dispose();
    test.dispose();
  });

  t.test('whole-net gradients through every layer type, a split, in-place layers and shared weights', async (t) => {
    const net = Net.fromPrototxt(EVERY_LAYER_NET, { phase: 'TRAIN', device: dev, seed: 5 });
    t.ok(net.layers.some((layer) => layer.type === 'Split'), 'a split is inserted where pool1 fans out');
    t.same(net.learnableParams.map((p) => p.name),
      ['conv1/0', 'conv1/1', 'scale1/0', 'scale1/1', 'shared_w', 'ip1/1', 'ip2/1', 'ip3/0', 'ip3/1'], 'the shared weight once');
    t.same(net.blobs.get('ip2')!.shape, [2, 5], 'ip2 reads the unflattened pool1 with the shared [5, 36] weight');
    const dropout = net.layer('drop1') as DropoutLayer;
    feed(net, 2, 4);
    const inputs: Record<string, Float32Array> = {};
    const params = net.learnableParams as LearnableParam[];
    for (const param of params) inputs[param.name] = await param.blob.data.data();
    const write = (values: Record<string, Float32Array>) => {
      for (const param of params) param.blob.data.write(values[param.name]);
      dropout.reseed(11);
    };
    // A step of 1e-3, not 1e-2: one conv1 weight moves every position, so a larger step would cross
    // the ReLU and MAX-pooling kinks somewhere and blur the difference.
    await checkGradient(t, 'every layer', {
      inputs, maxChecks: 24, step: 1e-3,
      forward: async (values) => {
        write(values);
        return Float32Array.of(await net.forward());
      },
      backward: async (values, dy) => {
        write(values);
        await net.forward();
        net.clearParamDiffs();
        net.backward();
        const gradients: Record<string, Float32Array> = {};
        for (const param of params) gradients[param.name] = (await param.blob.diff.data()).map((g) => g * dy[0]);
        return gradients;
      },
    });
    net.dispose();
  });

  t.test('backward rules: Input blobs get no diff, lr_mult 0 freezes a parameter, propagate_down', async (t) => {
    const text = LENET.replace(/^force_backward: true$/m, '').replace('lr_mult: 2.0\n    decay_mult: 0.0', 'lr_mult: 0');
    const net = Net.fromPrototxt(text, { phase: 'TRAIN', device: dev });
    feed(net, 3, 10);
    await net.forward();
    net.clearParamDiffs();
    net.backward();
    t.notOk(net.blobs.get('data')!.hasDiff, 'no diff for the data input without force_backward');
    t.same(net.backwardPlanOf(2).bottoms, [false], 'conv1 does not propagate to the data');
    t.ok((await net.params.get('ip2')![1].diff.data()).every((v) => v === 0), 'lr_mult 0: no gradient for ip2 bias');
    t.ok((await net.params.get('ip2')![0].diff.data()).some((v) => v !== 0), 'ip2 weight gradient');
    const stopped = Net.fromPrototxt(text.replace('name: "relu1"', 'name: "relu1"\n  propagate_down: false'), { phase: 'TRAIN', device: dev });
    t.same(stopped.backwardPlanOf(stopped.layers.findIndex((l) => l.name === 'relu1')).bottoms, [false], 'propagate_down false');
    t.notOk(stopped.backwardPlanOf(stopped.layers.findIndex((l) => l.name === 'conv1')).layer, 'nothing below it runs backward');
    net.dispose();
    stopped.dispose();
  });

  t.test('parameter diffs accumulate over two backward calls; clearParamDiffs zeroes them', async (t) => {
    const net = Net.fromPrototxt(LENET, { phase: 'TRAIN', device: dev });
    feed(net, 4, 10);
    await net.forward();
    net.clearParamDiffs();
    net.backward();
    const once = await net.params.get('conv1')![0].diff.data();
    net.backward();
    assertClose(t, await net.params.get('conv1')![0].diff.data(), once.map((v) => 2 * v), 'twice the gradient');
    net.clearParamDiffs();
    for (const param of net.learnableParams) t.ok((await param.blob.diff.data()).every((v) => v === 0), `${param.name} cleared`);
    net.dispose();
  });

  t.test('loss_weight scales the loss and every gradient', async (t) => {
    const plain = Net.fromPrototxt(LENET, { phase: 'TRAIN', device: dev });
    const weighted = Net.fromPrototxt(LENET.replace('top: "loss"', 'top: "loss"\n  loss_weight: 3'), { phase: 'TRAIN', device: dev });
    for (const net of [plain, weighted]) feed(net, 5, 10);
    const [lossPlain, lossWeighted] = [await plain.forward(), await weighted.forward()];
    assertClose(t, [lossWeighted], [3 * lossPlain], 'forward returns the weighted loss');
    assertClose(t, (await weighted.readOutputs()).loss, [lossPlain], 'the loss top itself is unweighted');
    for (const net of [plain, weighted]) net.backward();
    assertClose(t, await weighted.params.get('conv1')![0].diff.data(),
      (await plain.params.get('conv1')![0].diff.data()).map((v) => 3 * v), 'gradients scale', 1e-4);
    plain.dispose();
    weighted.dispose();
  });

  t.test('shareWeightsWith: the test net uses the train net\'s parameters', async (t) => {
    const train = Net.fromPrototxt(LENET, { phase: 'TRAIN', device: dev, seed: 1 });
    const test = Net.fromPrototxt(LENET, { phase: 'TEST', device: dev, seed: 2, shareWeightsWith: train });
    train.params.get('ip2')![0].data.fill(0.25);
    t.ok((await test.params.get('ip2')![0].data.data()).every((v) => v === 0.25), 'a write through the train net shows in the test net');
    test.dispose();
    t.ok((await train.params.get('ip2')![0].data.data()).every((v) => v === 0.25), 'disposing the test net keeps the weights');
    train.dispose();
  });

  t.test('caffemodel out and in; weights matched by name with shape checks', async (t) => {
    const source = Net.fromPrototxt(LENET, { phase: 'TEST', device: dev, seed: 7 });
    const target = Net.fromPrototxt(LENET, { phase: 'TEST', device: dev, seed: 8 });
    for (const net of [source, target]) feed(net, 6, 10);
    const bytes = await source.toCaffemodel();
    t.same(target.loadCaffemodel(bytes), ['conv1', 'conv2', 'ip1', 'ip2'], 'layers loaded');
    assertClose(t, [await target.forward()], [await source.forward()], 'same weights, same loss', 1e-6);
    const other = Net.fromPrototxt(LENET.replace('num_output: 500', 'num_output: 30'), { phase: 'TEST', device: dev });
    await assertThrowsCode(t, () => other.loadCaffemodel(bytes), 'CAFFEMODEL_MISMATCH',
      "layer 'ip1' blob 0: the caffemodel's shape is 500x800 but the net's is 30x800");
    for (const net of [source, target, other]) net.dispose();
  });

  t.test('reshapeBatch, firstNonFiniteBlob, dispose', async (t) => {
    const net = Net.fromPrototxt(LENET, { phase: 'TRAIN', device: dev });
    net.reshapeBatch(3);
    t.same(net.blobs.get('ip2')!.shape, [3, 10], 'batch 3 flows through');
    feed(net, 7, 10);
    t.ok(Number.isFinite(await net.forward()), 'forward at the new batch size');
    t.equal(await net.firstNonFiniteBlob(), undefined, 'everything finite');
    net.params.get('ip1')![1].data.fill(Number.NaN);
    await net.forward();
    t.equal(await net.firstNonFiniteBlob(), "data of param 1 of layer 'ip1'", 'names the first non-finite blob');
    net.dispose();
    await assertThrowsCode(t, () => net.forward(), 'DISPOSED', "cannot forward net 'LeNet': it was disposed");
  });
});
