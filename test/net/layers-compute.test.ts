// layers-compute.test.ts — Convolution, InnerProduct, Pooling, LRN, ReLU, Dropout, Softmax, SoftmaxWithLoss and Accuracy layers against float64 references and finite differences.
import t from 'tap';
import { assertClose, assertThrowsCode, forEachDevice } from '../helpers/index.js';
import { DropoutLayer } from '../../lib/net/layers/dropout.js';
import { checkLayerGradient, forwardValues, randomInput, setUpLayer } from './harness.js';
import * as reference from './reference.js';

forEachDevice(t, async (t, dev) => {
  t.test('Convolution: forward (groups, pad, stride) and gradients', async (t) => {
    const input = randomInput([2, 4, 7, 6], 1);
    const run = setUpLayer(dev, {
      type: 'Convolution', bottom: ['x'], top: ['y'],
      convolution_param: { num_output: 6, kernel_h: 3, kernel_w: 2, pad: [1], stride: [2], group: 2,
        weight_filler: { type: 'gaussian', std: 0.5 }, bias_filler: { type: 'uniform', min: -1, max: 1 } },
    }, [input]);
    t.same(run.tops[0].shape, [2, 6, 4, 4], 'output shape rounds down');
    const y = await forwardValues(run);
    const [w, b] = await Promise.all(run.layer.blobs.map((blob) => blob.data.data()));
    const expected = reference.convolution(input.values, input.shape, w, [6, 2, 3, 2], b, { pad: [1, 1], stride: [2, 2], group: 2 });
    assertClose(t, y, expected.y, 'forward');
    await checkLayerGradient(t, 'convolution', run);
  });

  t.test('InnerProduct: axis, transpose, and gradients', async (t) => {
    const input = randomInput([3, 2, 5], 2);
    for (const transpose of [false, true]) {
      const run = setUpLayer(dev, {
        type: 'InnerProduct', bottom: ['x'], top: ['y'],
        inner_product_param: { num_output: 4, axis: 2, transpose, weight_filler: { type: 'xavier' },
          bias_filler: { type: 'gaussian' } },
      }, [input]);
      t.same(run.tops[0].shape, [3, 2, 4], 'keeps the axes before axis');
      t.same(run.layer.blobs[0].shape, transpose ? [5, 4] : [4, 5], 'weight shape');
      const [w, b] = await Promise.all(run.layer.blobs.map((blob) => blob.data.data()));
      assertClose(t, await forwardValues(run), reference.innerProduct(input.values, 6, 5, w, 4, b, transpose), `forward transpose=${transpose}`);
      await checkLayerGradient(t, `inner product transpose=${transpose}`, run);
    }
  });

  t.test('Pooling: MAX and AVE with padding, global pooling, mask top', async (t) => {
    const input = randomInput([2, 3, 7, 6], 3);
    for (const pool of ['MAX', 'AVE'] as const) {
      const run = setUpLayer(dev, { type: 'Pooling', bottom: ['x'], top: ['y'],
        pooling_param: { pool, kernel_size: 3, stride: 2, pad: 1 } }, [input]);
      const expected = reference.pooling(input.values, input.shape, pool, 3, 2, 1);
      t.same(run.tops[0].shape, expected.shape, `${pool} shape`);
      assertClose(t, await forwardValues(run), expected.y, `${pool} forward`);
      await checkLayerGradient(t, `${pool} pooling`, run);
    }
    const global = setUpLayer(dev, { type: 'Pooling', bottom: ['x'], top: ['y'],
      pooling_param: { pool: 'AVE', global_pooling: true } }, [input]);
    t.same(global.tops[0].shape, [2, 3, 1, 1], 'global pooling shape');
    const planeMeans = Array.from({ length: 6 }, (_, p) => input.values.slice(p * 42, p * 42 + 42).reduce((a, v) => a + v, 0) / 42);
    assertClose(t, await forwardValues(global), planeMeans, 'global average');
    const masked = setUpLayer(dev, { type: 'Pooling', bottom: ['x'], top: ['y', 'mask'],
      pooling_param: { pool: 'MAX', kernel_size: 2, stride: 2 } }, [input]);
    await forwardValues(masked);
    const mask = await masked.tops[1].data.data();
    t.ok(mask.every((index) => Number.isInteger(index) && index >= 0 && index < 42), 'second top holds the argmax indices');
  });

  t.test('LRN: both regions, forward and gradients', async (t) => {
    const input = randomInput([2, 5, 4, 3], 4);
    for (const region of ['ACROSS_CHANNELS', 'WITHIN_CHANNEL'] as const) {
      const run = setUpLayer(dev, { type: 'LRN', bottom: ['x'], top: ['y'],
        lrn_param: { local_size: 3, alpha: 0.8, beta: 0.75, k: 2, norm_region: region } }, [input]);
      assertClose(t, await forwardValues(run), reference.lrn(input.values, input.shape, 3, 0.8, 0.75, 2, region), `${region} forward`);
      await checkLayerGradient(t, `LRN ${region}`, run);
    }
  });

  t.test('ReLU: leaky, in place, gradients away from the kink', async (t) => {
    const input = randomInput([3, 4, 5], 5);
    const run = setUpLayer(dev, { type: 'ReLU', bottom: ['x'], top: ['x'], relu_param: { negative_slope: 0.1 } }, [input],
      { inPlace: true });
    assertClose(t, await forwardValues(run), Array.from(input.values, (v) => (v > 0 ? v : 0.1 * v)), 'forward in place');
    await checkLayerGradient(t, 'relu', run, { skip: (_, i, inputs) => Math.abs(inputs.bottom0[i]) < 0.02 });
  });

  t.test('Dropout: TRAIN mask scaled, reproducible by seed, new mask each forward; TEST identity', async (t) => {
    const input = randomInput([4, 50], 6, 1, 2);
    const run = setUpLayer(dev, { type: 'Dropout', bottom: ['x'], top: ['y'], dropout_param: { dropout_ratio: 0.4 } }, [input]);
    const first = await forwardValues(run);
    const kept = first.filter((v) => v !== 0).length;
    t.ok(kept > 80 && kept < 160, `about 60% kept (${kept} of 200)`);
    assertClose(t, first.filter((v, i) => v !== 0 || input.values[i] === 0),
      Array.from(input.values).filter((_, i) => first[i] !== 0).map((v) => v / 0.6), 'kept values scaled by 1/(1-ratio)');
    const second = await forwardValues(run);
    t.notSame(Array.from(second), Array.from(first), 'the mask changes at every forward');
    const layer = run.layer as DropoutLayer;
    layer.reseed(9);
    const a = await forwardValues(run);
    layer.reseed(9);
    t.same(Array.from(await forwardValues(run)), Array.from(a), 'the same seed gives the same mask');
    await checkLayerGradient(t, 'dropout', run, { beforeForward: () => layer.reseed(9) });
    const test = setUpLayer(dev, { type: 'Dropout', bottom: ['x'], top: ['x'] }, [input], { phase: 'TEST', inPlace: true });
    t.same(Array.from(await forwardValues(test)), Array.from(input.values), 'TEST is the identity (in place)');
  });

  t.test('Softmax: forward and gradients', async (t) => {
    const input = randomInput([2, 5, 3], 7, -3, 3);
    const run = setUpLayer(dev, { type: 'Softmax', bottom: ['x'], top: ['y'] }, [input]);
    assertClose(t, await forwardValues(run), reference.softmax(input.values, 2, 5, 3), 'forward');
    await checkLayerGradient(t, 'softmax', run);
  });

  t.test('SoftmaxWithLoss: normalizations, ignore_label, loss weight, gradients', async (t) => {
    const scores = randomInput([3, 4, 2, 1], 8, -2, 2);
    const labels = { values: Float32Array.from([0, 3, 1, 2, 3, 0]), shape: [3, 1, 2, 1] };
    const probability = reference.softmax(scores.values, 3, 4, 2);
    const logLoss = (ignored: number | undefined) => {
      let sum = 0, valid = 0;
      labels.values.forEach((label, i) => {
        if (label === ignored) return;
        const [o, inner] = [Math.floor(i / 2), i % 2];
        sum -= Math.log(probability[(o * 4 + label) * 2 + inner]);
        valid++;
      });
      return { sum, valid };
    };
    const cases: [Record<string, unknown>, number][] = [
      [{}, logLoss(undefined).sum / 6],
      [{ ignore_label: 3 }, logLoss(3).sum / logLoss(3).valid],
      [{ ignore_label: 3, normalization: 'FULL' }, logLoss(3).sum / 6],
      [{ normalization: 'BATCH_SIZE' }, logLoss(undefined).sum / 3],
      [{ normalization: 'NONE' }, logLoss(undefined).sum],
      [{ normalize: false }, logLoss(undefined).sum / 3],
    ];
    for (const [lossParam, expected] of cases) {
      const run = setUpLayer(dev, { type: 'SoftmaxWithLoss', bottom: ['x', 'label'], top: ['loss'], loss_param: lossParam },
        [scores, labels]);
      t.equal(run.layer.defaultLossWeight(0), 1, 'a loss layer weighs top 0 by 1');
      assertClose(t, await forwardValues(run), [expected], `loss ${JSON.stringify(lossParam)}`);
    }
    const run = setUpLayer(dev, { type: 'SoftmaxWithLoss', bottom: ['x', 'label'], top: ['loss', 'prob'],
      loss_param: { ignore_label: 0 } }, [scores, labels]);
    await forwardValues(run);
    assertClose(t, await run.tops[1].data.data(), probability, 'second top holds the probabilities');
    await checkLayerGradient(t, 'softmax loss', run, { skipBottoms: [1] });
  });

  t.test('Accuracy: top_k with ties counting against, ignore_label, errors', async (t) => {
    const scores = { values: Float32Array.from([0.1, 0.5, 0.4, 0.9, 0.05, 0.05, 0.3, 0.3, 0.4, 0.2, 0.2, 0.6]), shape: [4, 3] };
    const labels = { values: Float32Array.from([1, 0, 0, 2]), shape: [4] };
    const accuracyOf = async (param: Record<string, unknown>) =>
      (await forwardValues(setUpLayer(dev, { type: 'Accuracy', bottom: ['s', 'l'], top: ['a'], accuracy_param: param },
        [scores, labels])))[0];
    assertClose(t, [await accuracyOf({})], [0.75], 'top 1 (a tie counts against)');
    assertClose(t, [await accuracyOf({ top_k: 2 })], [0.75], 'top 2');
    assertClose(t, [await accuracyOf({ ignore_label: 2 })], [2 / 3], 'ignore_label');
    await assertThrowsCode(t, () => accuracyOf({ top_k: 4 }), 'INVALID_LAYER', /top_k 4 must be between 1 and the 3 classes/);
  });
});
