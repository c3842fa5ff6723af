// batcher.test.ts — the request batcher: fills batches up to their size, waits at most maxWaitMs, one batch at a time, errors per batch.
import t from 'tap';
import { Batcher } from '../../lib/inference/batcher.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('concurrent requests share batches of at most batchSize; each gets its own result', async (t) => {
  const batches: number[][] = [];
  const batcher = new Batcher<number, number>(4, 5, async (items) => {
    batches.push(items);
    await sleep(10);
    return items.map((item) => item * 10);
  });
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(i)));
  t.same(results, Array.from({ length: 10 }, (_, i) => i * 10));
  t.ok(batches.every((batch) => batch.length <= 4), `batch sizes ${batches.map((b) => b.length).join(', ')}`);
  t.equal(batches.length, 3, '10 requests in batches of 4, 4, 2');
  t.same(batcher.stats(), { batches: 3, items: 10, largestBatch: 4, queued: 0 });
});

t.test('a lone request runs after maxWaitMs, not later', async (t) => {
  const batcher = new Batcher<number, number>(8, 20, async (items) => items);
  const start = performance.now();
  await batcher.submit(1);
  const waited = performance.now() - start;
  t.ok(waited >= 19 && waited < 200, `waited ${waited.toFixed(1)} ms for a batch of one`);
});

t.test('only one batch runs at a time; requests arriving meanwhile form the next', async (t) => {
  let running = 0;
  let maxRunning = 0;
  const sizes: number[] = [];
  const batcher = new Batcher<number, number>(16, 0, async (items) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    sizes.push(items.length);
    await sleep(15);
    running--;
    return items;
  });
  const first = batcher.submit(0);
  await sleep(1);
  const rest = Array.from({ length: 5 }, (_, i) => batcher.submit(i + 1));
  await Promise.all([first, ...rest]);
  t.equal(maxRunning, 1);
  t.same(sizes, [1, 5], 'the five that arrived while the first ran went together');
});

t.test('a failed batch rejects its own requests only; close rejects what waits', async (t) => {
  const batcher = new Batcher<number, number>(2, 50, async (items) => {
    await sleep(5);
    if (items.includes(-1)) throw new Error('device failure');
    return items;
  });
  const failing = [batcher.submit(-1), batcher.submit(2)];
  const next = batcher.submit(3);
  await t.rejects(failing[0]!, /device failure/);
  await t.rejects(failing[1]!, /device failure/);
  t.equal(await next, 3);
  const slow = new Batcher<number, number>(1, 0, async (items) => {
    await sleep(20);
    return items;
  });
  const running = slow.submit(1);
  const waiting = t.rejects(slow.submit(2), /closed/);
  await slow.close(new Error('closed'));
  t.equal(await running, 1, 'the running batch finishes');
  await waiting;
  await t.rejects(slow.submit(3), /closed/);
});
