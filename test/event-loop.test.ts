// event-loop.test.ts — long native work runs on the device stream, so Node's event loop stays free.
import t from 'tap';
import { Tensor, ops } from '../lib/index.js';
import { randomArray, rng } from './helpers/index.js';

t.test('a 1 ms timer keeps ticking while large convolutions run', async (t) => {
  const random = rng(3);
  // AlexNet conv2 at batch 16: about 7.2 GFLOP per forward.
  const x = Tensor.from(randomArray(16 * 96 * 27 * 27, random), [16, 96, 27, 27]);
  const w = Tensor.from(randomArray(256 * 48 * 5 * 5, random, -0.05, 0.05), [256, 48, 5, 5]);
  const b = Tensor.zeros([256]);
  const options = { pad: 2, group: 2 };
  const y = ops.conv2d(x, w, b, options);
  await y.data(); // warm up (packing buffers, thread pool)

  let ticks = 0;
  let worstDelay = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worstDelay = Math.max(worstDelay, now - last);
    last = now;
    ticks++;
  }, 1);

  const started = performance.now();
  const enqueueStarted = performance.now();
  for (let i = 0; i < 6; i++) ops.conv2d(x, w, b, options, y);
  const enqueueMs = performance.now() - enqueueStarted;
  await y.data();
  const elapsed = performance.now() - started;
  clearInterval(timer);

  t.comment(`6 convolutions took ${elapsed.toFixed(0)} ms; queueing them took ${enqueueMs.toFixed(2)} ms; ` +
    `${ticks} ticks, worst tick gap ${worstDelay.toFixed(1)} ms`);
  t.ok(enqueueMs < 20, 'queueing returns at once');
  t.ok(ticks >= elapsed / 20, `the timer ticked ${ticks} times during ${elapsed.toFixed(0)} ms`);
  t.ok(worstDelay < 100, `worst tick gap ${worstDelay.toFixed(1)} ms stays far below the work's duration`);
  for (const tensor of [x, w, b, y]) tensor.dispose();
});
