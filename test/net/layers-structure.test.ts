// layers-structure.test.ts — Input, DummyData, Data, Concat, Flatten, Eltwise, Power, Scale, Split and Silence layers; blob-count errors.
import t from 'tap';
import { assertClose, assertThrowsCode, forEachDevice } from '../helpers/index.js';
import type { BatchSource } from '../../lib/data/batch-source.js';
import { checkLayerGradient, forwardValues, randomInput, setUpLayer } from './harness.js';

forEachDevice(t, async (t, dev) => {
  t.test('Concat along channels and along axis 0, with gradients', async (t) => {
    const a = randomInput([2, 3, 2, 3], 1), b = randomInput([2, 1, 2, 3], 2);
    const run = setUpLayer(dev, { type: 'Concat', bottom: ['a', 'b'], top: ['y'] }, [a, b]);
    t.same(run.tops[0].shape, [2, 4, 2, 3], 'shape');
    const expected: number[] = [];
    for (let n = 0; n < 2; n++) expected.push(...a.values.slice(n * 18, n * 18 + 18), ...b.values.slice(n * 6, n * 6 + 6));
    assertClose(t, await forwardValues(run), expected, 'forward');
    await checkLayerGradient(t, 'concat', run);
    const first = setUpLayer(dev, { type: 'Concat', bottom: ['a', 'c'], top: ['y'], concat_param: { axis: 0 } },
      [a, randomInput([1, 3, 2, 3], 3)]);
    t.same(first.tops[0].shape, [3, 3, 2, 3], 'axis 0');
    await assertThrowsCode(t, () => setUpLayer(dev, { type: 'Concat', bottom: ['a', 'b'], top: ['y'], concat_param: { axis: 2 } }, [a, b]),
      'SHAPE_MISMATCH', /bottom 'b' \(2x1x2x3\) must match 'a' \(2x3x2x3\) on every axis but 2/);
  });

  t.test('Flatten is a view sharing data and diff', async (t) => {
    const x = randomInput([2, 3, 4, 5], 4);
    const run = setUpLayer(dev, { type: 'Flatten', bottom: ['x'], top: ['y'], flatten_param: { axis: 1, end_axis: 2 } }, [x]);
    t.same(run.tops[0].shape, [2, 12, 5], 'axes 1..2 merged');
    t.same(Array.from(await forwardValues(run)), Array.from(x.values), 'same values');
    run.tops[0].diff.fill(3);
    t.ok((await run.bottoms[0].diff.data()).every((v) => v === 3), 'the diff is shared');
  });

  t.test('Eltwise SUM with coefficients, PROD and MAX, with gradients', async (t) => {
    const a = randomInput([3, 5], 5), b = randomInput([3, 5], 6), c = randomInput([3, 5], 7);
    const sum = setUpLayer(dev, { type: 'Eltwise', bottom: ['a', 'b', 'c'], top: ['y'], eltwise_param: { coeff: [1, -2, 0.5] } }, [a, b, c]);
    assertClose(t, await forwardValues(sum), Array.from(a.values, (v, i) => v - 2 * b.values[i] + 0.5 * c.values[i]), 'SUM');
    await checkLayerGradient(t, 'eltwise sum', sum);
    const product = setUpLayer(dev, { type: 'Eltwise', bottom: ['a', 'b', 'c'], top: ['y'], eltwise_param: { operation: 'PROD' } }, [a, b, c]);
    assertClose(t, await forwardValues(product), Array.from(a.values, (v, i) => v * b.values[i] * c.values[i]), 'PROD');
    await checkLayerGradient(t, 'eltwise prod', product);
    const max = setUpLayer(dev, { type: 'Eltwise', bottom: ['a', 'b'], top: ['y'], eltwise_param: { operation: 'MAX' } }, [a, b]);
    assertClose(t, await forwardValues(max), Array.from(a.values, (v, i) => Math.max(v, b.values[i])), 'MAX');
    await checkLayerGradient(t, 'eltwise max', max, { skip: (_, i, inputs) => Math.abs(inputs.bottom0[i] - inputs.bottom1[i]) < 0.03 });
    await assertThrowsCode(t, () => setUpLayer(dev, { type: 'Eltwise', bottom: ['a', 'b'], top: ['y'],
      eltwise_param: { operation: 'MAX', coeff: [1, 2] } }, [a, b]), 'INVALID_LAYER', 'coeff is only for the SUM operation');
  });

  t.test('Power forward and gradients', async (t) => {
    const x = randomInput([4, 7], 8, 0.5, 2);
    const run = setUpLayer(dev, { type: 'Power', bottom: ['x'], top: ['y'], power_param: { power: 1.5, scale: 0.7, shift: 0.2 } }, [x]);
    assertClose(t, await forwardValues(run), Array.from(x.values, (v) => (0.2 + 0.7 * v) ** 1.5), 'forward');
    await checkLayerGradient(t, 'power', run);
  });

  t.test('Scale: learned per-channel scale and bias, num_axes, second-bottom form, in place', async (t) => {
    const x = randomInput([2, 3, 4], 9);
    const run = setUpLayer(dev, { type: 'Scale', bottom: ['x'], top: ['y'],
      scale_param: { bias_term: true, filler: { type: 'uniform', min: 0.5, max: 1.5 }, bias_filler: { type: 'gaussian' } } }, [x]);
    t.same(run.layer.blobs.map((blob) => blob.shape), [[3], [3]], 'scale and bias per channel');
    const [scale, bias] = await Promise.all(run.layer.blobs.map((blob) => blob.data.data()));
    const channel = (i: number) => Math.floor(i / 4) % 3;
    assertClose(t, await forwardValues(run), Array.from(x.values, (v, i) => v * scale[channel(i)] + bias[channel(i)]), 'forward');
    await checkLayerGradient(t, 'scale with bias', run);
    const defaults = setUpLayer(dev, { type: 'Scale', bottom: ['x'], top: ['y'], scale_param: { num_axes: 2 } }, [x]);
    t.same(defaults.layer.blobs.map((blob) => blob.shape), [[3, 4]], 'num_axes 2, no bias');
    t.ok((await defaults.layer.blobs[0].data.data()).every((v) => v === 1), 'the default filler is constant 1');
    const factor = randomInput([2, 3], 10);
    const twoBottoms = setUpLayer(dev, { type: 'Scale', bottom: ['x', 's'], top: ['y'], scale_param: { axis: 0 } }, [x, factor]);
    assertClose(t, await forwardValues(twoBottoms),
      Array.from(x.values, (v, i) => v * factor.values[Math.floor(i / 4)]), 'scale from a second bottom (axis 0, two axes)');
    await checkLayerGradient(t, 'scale by bottom', twoBottoms);
    const inPlace = setUpLayer(dev, { type: 'Scale', bottom: ['x'], top: ['x'], scale_param: { bias_term: true,
      filler: { type: 'gaussian' } } }, [x], { inPlace: true });
    await checkLayerGradient(t, 'scale in place', inPlace);
  });

  t.test('Split shares the data and sums the diffs; Silence zeroes the diff', async (t) => {
    const x = randomInput([3, 4], 11);
    const run = setUpLayer(dev, { type: 'Split', bottom: ['x'], top: ['a', 'b', 'c'] }, [x]);
    t.same(Array.from(await forwardValues(run, 2)), Array.from(x.values), 'every top views the data');
    await checkLayerGradient(t, 'split', run);
    run.tops.forEach((top, i) => top.diff.fill(i + 1));
    run.layer.backward(run.tops, [true], run.bottoms);
    t.ok((await run.bottoms[0].diff.data()).every((v) => v === 6), 'bottom diff = sum of top diffs');
    const silence = setUpLayer(dev, { type: 'Silence', bottom: ['x'] }, [x]);
    silence.bottoms[0].diff.fill(5);
    silence.layer.backward([], [true], silence.bottoms);
    t.ok((await silence.bottoms[0].diff.data()).every((v) => v === 0), 'Silence writes zero diffs');
  });

  t.test('Input, DummyData and Data layers', async (t) => {
    const input = setUpLayer(dev, { type: 'Input', top: ['a', 'b'], input_param: { shape: [{ dim: [2, 3] }, { dim: [2] }] } }, []);
    t.same(input.tops.map((top) => top.shape), [[2, 3], [2]], 'Input shapes');
    const dummy = setUpLayer(dev, { type: 'DummyData', top: ['d', 'l'], dummy_data_param: {
      shape: [{ dim: [20, 50] }, { dim: [20] }], data_filler: [{ type: 'gaussian', std: 2 }, { type: 'constant', value: 3 }] } }, []);
    const first = await forwardValues(dummy);
    const second = await forwardValues(dummy);
    t.notSame(Array.from(first), Array.from(second), 'gaussian tops are redrawn each forward');
    t.ok((await dummy.tops[1].data.data()).every((v) => v === 3), 'constant tops hold their value');
    const legacy = setUpLayer(dev, { type: 'DummyData', top: ['d'], dummy_data_param: { num: [2], channels: [3], height: [4], width: [5] } }, []);
    t.same(legacy.tops[0].shape, [2, 3, 4, 5], 'legacy num/channels/height/width');
    let batches = 0;
    const source: BatchSource = {
      batchShape: [2, 1, 2, 2],
      next: async () => ({ data: new Float32Array(8).fill(++batches), labels: Float32Array.from([batches, -batches]) }),
      close: async () => {},
    };
    const data = setUpLayer(dev, { name: 'train-data', type: 'Data', top: ['data', 'label'] }, [], { sources: { 'train-data': source } });
    t.same(data.tops.map((top) => top.shape), [[2, 1, 2, 2], [2]], 'shapes from the source');
    await forwardValues(data);
    t.same(Array.from(await forwardValues(data)), new Array(8).fill(2), 'each forward reads the next batch');
    t.same(Array.from(await data.tops[1].data.data()), [2, -2], 'labels');
    await assertThrowsCode(t, () => setUpLayer(dev, { name: 'd', type: 'Data', top: ['data'] }, [], { sources: { other: source } }),
      'NO_BATCH_SOURCE', "no batch source for this Data layer: pass NetOptions.sources['d'] (or '*'); sources were given for 'other'");
  });

  t.test('blob counts are checked centrally', async (t) => {
    const x = randomInput([2, 3], 12);
    await assertThrowsCode(t, () => setUpLayer(dev, { type: 'ReLU', bottom: ['a', 'b'], top: ['y'] }, [x, x]),
      'BLOB_COUNT', 'ReLU takes exactly 1 bottom but has 2');
    await assertThrowsCode(t, () => setUpLayer(dev, { type: 'Eltwise', bottom: ['a'], top: ['y'] }, [x]),
      'BLOB_COUNT', 'Eltwise takes at least 2 bottoms but has 1');
  });
});
