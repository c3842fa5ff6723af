// model.test.ts — loadModel and classify: batched equals alone bit for bit, concurrency with corrupt images, a free event loop, inconsistent models.
import t from 'tap';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadModel, type Model } from '../../lib/inference/index.js';
import { device } from '../../lib/index.js';
import { assertThrowsCode, settleGarbage } from '../helpers/index.js';
import { corruptImages, INPUT, LABELS, makeModelFolder, meanBinaryproto, randomPng, removeModelFolders } from './fixture.js';

t.teardown(removeModelFolders);

const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

t.test('classify: top-K labels with probabilities, most probable first', async (t) => {
  const model = await loadModel(await makeModelFolder(), { device: 'cpu' });
  t.teardown(() => model.dispose());
  t.equal(model.batchSize, 8, 'the deploy input N');
  const predictions = await model.classify(await randomPng(1), { topK: 2 });
  t.equal(predictions.length, 2);
  t.ok(LABELS.includes(predictions[0]!.label));
  t.ok(predictions[0]!.probability >= predictions[1]!.probability);
  const all = await model.classify(await randomPng(1));
  t.equal(all.length, 3, 'topK is capped at the class count');
  t.ok(Math.abs(all.reduce((sum, p) => sum + p.probability, 0) - 1) < 1e-5, 'probabilities sum to 1');
});

t.test('batched results equal single results bit for bit (CPU)', async (t) => {
  const model = await loadModel(await makeModelFolder(), { device: 'cpu', maxWaitMs: 20 });
  t.teardown(() => model.dispose());
  const images = await Promise.all(Array.from({ length: 11 }, (_, i) => randomPng(10 + i)));
  const alone: Float32Array[] = [];
  for (const image of images) alone.push((await model.forward(image, { outputs: ['prob'] })).prob!.data);
  const before = model.stats().batches;
  const together = await Promise.all(images.map((image) => model.forward(image, { outputs: ['prob', 'conv1'] })));
  t.equal(model.stats().batches - before, 2, '11 concurrent requests ran as batches of 8 and 3');
  const identical = together.filter((result, i) => sameBits(result.prob!.data, alone[i]!)).length;
  t.equal(identical, images.length, 'every image: identical bits alone and in a batch');
  t.same(together[0]!.conv1!.shape, [1, 4, INPUT - 2, INPUT - 2], 'intermediate blobs come back per image');
  const preprocessed = await model.preprocess(images[0]!);
  t.ok(sameBits((await model.forward(preprocessed)).prob!.data, alone[0]!), 'a preprocessed Float32Array gives the same result');
});

t.test('200 concurrent calls with corrupt images: right results, right errors, each to its own caller', async (t) => {
  const model = await loadModel(await makeModelFolder(), { device: 'cpu' });
  t.teardown(() => model.dispose());
  const good = await Promise.all(Array.from({ length: 5 }, (_, i) => randomPng(40 + i)));
  const expected = await Promise.all(good.map((image) => model.classify(image)));
  const corrupt = await corruptImages();
  const calls = Array.from({ length: 200 }, (_, i) =>
    i % 25 === 7 ? { corrupt: corrupt[i % corrupt.length]! } : { image: good[i % good.length]!, expected: expected[i % good.length]! });
  const settled = await Promise.allSettled(calls.map((call) => model.classify('corrupt' in call ? call.corrupt.bytes : call.image)));
  let right = 0;
  let rightErrors = 0;
  settled.forEach((outcome, i) => {
    const call = calls[i]!;
    if ('corrupt' in call) {
      const error = outcome.status === 'rejected' ? (outcome.reason as { code?: string; message?: string }) : undefined;
      if (error?.code === 'BAD_IMAGE' && call.corrupt.reason.test(error.message ?? '')) rightErrors++;
    } else if (outcome.status === 'fulfilled' && JSON.stringify(outcome.value) === JSON.stringify(call.expected)) right++;
  });
  t.equal(rightErrors, 8, '8 corrupt images rejected with BAD_IMAGE and their reason');
  t.equal(right, 192, '192 good images classified exactly as when alone');
  await assertThrowsCode(t, () => model.classify(Buffer.alloc(0)), 'BAD_IMAGE', 'image cannot be decoded (empty: file is empty (0 bytes))');
  await assertThrowsCode(t, () => model.classify(new Float32Array(5)), 'SHAPE_MISMATCH',
    `a preprocessed input must hold 3x${INPUT}x${INPUT} = ${3 * INPUT * INPUT} values but has 5`);
});

t.test('the event loop stays free while batches run', async (t) => {
  const model = await loadModel(await makeModelFolder(), { device: 'cpu', batchSize: 64 });
  t.teardown(() => model.dispose());
  const images = await Promise.all(Array.from({ length: 16 }, (_, i) => randomPng(60 + i, 64, 64)));
  await model.classify(images[0]!);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let ticks = 0;
  let worstGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
    ticks++;
  }, 1);
  histogram.enable();
  const start = performance.now();
  for (let round = 0; round < 8; round++) await Promise.all(images.map((image) => model.classify(image)));
  const elapsed = performance.now() - start;
  histogram.disable();
  clearInterval(ticker);
  const worstDelay = histogram.max / 1e6;
  t.comment(`8 rounds of 16 images in ${elapsed.toFixed(0)} ms; 1 ms ticker ran ${ticks} times, worst gap ${worstGap.toFixed(1)} ms; worst event-loop delay ${worstDelay.toFixed(1)} ms`);
  t.ok(ticks > elapsed / 10, 'the ticker kept running');
  t.ok(worstGap < 100, `worst gap between ticks ${worstGap.toFixed(1)} ms < 100 ms`);
});

t.test('two models side by side; dispose frees device memory and rejects later calls', async (t) => {
  const cpu = device('cpu');
  await settleGarbage();
  const before = cpu.memory().bytes;
  const first = await loadModel(await makeModelFolder({ seed: 1 }), { device: 'cpu' });
  const second = await loadModel(await makeModelFolder({ seed: 2, labels: ['a', 'b', 'c'] }), { device: 'cpu', batchSize: 2 });
  const image = await randomPng(7);
  const [a, b] = await Promise.all([first.classify(image), second.classify(image)]);
  t.ok(LABELS.includes(a[0]!.label));
  t.ok(['a', 'b', 'c'].includes(b[0]!.label));
  t.ok(cpu.memory().bytes > before, 'the models hold memory');
  await first.dispose();
  await second.dispose();
  await settleGarbage(); // the loads' own temporaries, dropped without dispose(), are freed by their finalizers
  t.equal(cpu.memory().bytes, before, 'all of it is freed');
  await assertThrowsCode(t, () => first.classify(image), 'DISPOSED', 'the model was disposed');
});

t.test('inconsistent models fail at load, naming the file and what disagrees', async (t) => {
  const expectLoadError = async (folder: string, code: string, message: RegExp) => {
    await assertThrowsCode(t, () => loadModel(folder, { device: 'cpu' }) as Promise<Model>, code, message);
  };
  const labels = await makeModelFolder({ labels: ['cat', 'dog'] });
  await expectLoadError(labels, 'MODEL_MISMATCH', /labels\.txt has 2 labels but .*deploy\.prototxt output "prob" has 3 values per image$/);
  const channels = await makeModelFolder({ meanShape: [1, 14, 14] });
  await expectLoadError(channels, 'MODEL_MISMATCH', /mean\.binaryproto is 1x14x14 \(C x H x W\) but .*deploy\.prototxt takes 3 channel\(s\): the channel counts differ$/);
  const size = await makeModelFolder({ meanShape: [3, 20, 20] });
  await expectLoadError(size, 'MODEL_MISMATCH', /mean\.binaryproto is 3x20x20 \(C x H x W\) but .*deploy\.prototxt takes 12x12 \(or the resize size 14x14\) images: the mean size differs from the input size$/);
  const weights = await makeModelFolder({ omitWeights: ['ip2'] });
  await expectLoadError(weights, 'MODEL_MISMATCH', /snapshot_iter_100\.caffemodel has no weights for layer\(s\) 'ip2' of .*deploy\.prototxt$/);
  const info = await makeModelFolder({ info: { 'image dimensions': [14, 14, 1] } });
  await expectLoadError(info, 'MODEL_MISMATCH', /info\.json says images have 1 channel\(s\) but .*deploy\.prototxt input "data" takes 3$/);
  for (const [file, what] of [['deploy.prototxt', 'the network definition'], ['labels.txt', 'the label names'], ['mean.binaryproto', 'the mean image']]) {
    const folder = await makeModelFolder({ omit: [file!] });
    await expectLoadError(folder, 'MODEL_FILE_MISSING', new RegExp(`model folder .* has no ${file!.replace('.', '\\.')} \\(${what}\\)$`));
  }
  const noWeights = await makeModelFolder({ info: null });
  for (const name of ['snapshot_iter_20.caffemodel', 'snapshot_iter_90.caffemodel', 'snapshot_iter_100.caffemodel']) await rm(path.join(noWeights, name));
  await expectLoadError(noWeights, 'MODEL_FILE_MISSING', /has no \.caffemodel \(the weights\)$/);
  await expectLoadError('/nonexistent/model', 'MODEL_FILE_MISSING', 'model folder /nonexistent/model does not exist');
  const corruptMean = await makeModelFolder();
  await writeFile(path.join(corruptMean, 'mean.binaryproto'), Buffer.from([0xff, 0xff, 0xff]));
  await expectLoadError(corruptMean, 'MODEL_INVALID', /mean\.binaryproto/);
});

t.test('explicit files: paths or bytes, labels as names', async (t) => {
  const folder = await makeModelFolder({ info: null, meanShape: [3, INPUT, INPUT] });
  const model = await loadModel({
    deploy: path.join(folder, 'deploy.prototxt'),
    weights: path.join(folder, 'snapshot_iter_100.caffemodel'),
    labels: ['x', 'y', 'z'],
    mean: meanBinaryproto([3, INPUT, INPUT], 2),
  }, { device: 'cpu', batchSize: 1 });
  t.teardown(() => model.dispose());
  const predictions = await model.classify(await randomPng(9), { topK: 1 });
  t.ok(['x', 'y', 'z'].includes(predictions[0]!.label));
  t.equal(model.preprocessing.mean, 'image');
});

t.test('in a training folder the newest complete snapshot is used: a .caffemodel without its .solverstate was cut short', async (t) => {
  const folder = await makeModelFolder();
  for (const iteration of [20, 90, 100]) await writeFile(path.join(folder, `snapshot_iter_${iteration}.solverstate`), '');
  // A run killed while snapshotting: its weights in place (here truncated), its solverstate never written.
  await writeFile(path.join(folder, 'snapshot_iter_200.caffemodel'), Buffer.from([0x0a, 0x05]));
  const model = await loadModel(folder, { device: 'cpu' });
  t.teardown(() => model.dispose());
  t.equal(path.basename(model.files.weights.name), 'snapshot_iter_100.caffemodel');
  t.equal((await model.classify(await randomPng(2))).length, 3);
});
