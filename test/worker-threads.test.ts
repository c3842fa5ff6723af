// worker-threads.test.ts — the addon loaded in worker threads that come and go leaves the main thread's tensors and ops working.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Tensor } from '../lib/index.js';
import { reluForward } from '../lib/ops/activation.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A worker that loads the addon, makes and uses a buffer of its own, then ends. */
function workerUsingTheAddon(): Promise<number> {
  const code = `
    const { createRequire } = require('node:module');
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = createRequire(workerData.root + '/package.json')('node-gyp-build')(workerData.root);
    const buffer = new addon.NativeBuffer('cpu', 8);
    buffer.write(new Float32Array([1, -2, 3, -4, 5, -6, 7, -8]), 0);
    parentPort.postMessage(buffer.count);
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { root } });
    let count = -1;
    worker.once('message', (value: number) => { count = value; });
    worker.once('error', reject);
    worker.once('exit', () => resolve(count));
  });
}

t.test('tensors and ops keep working after worker threads that loaded the addon have ended', async (t) => {
  const before = Tensor.from(new Float32Array([1, -1, 2, -2]), [4]);
  for (let i = 0; i < 3; i++) t.equal(await workerUsingTheAddon(), 8, `worker ${i + 1} made a buffer of its own`);
  const after = Tensor.from(new Float32Array([-3, 3, -5, 5]), [4]);
  t.same(Array.from(await reluForward(before, Tensor.zeros([4])).data()), [1, 0, 2, 0], 'a tensor made before the workers');
  t.same(Array.from(await reluForward(after, Tensor.zeros([4])).data()), [0, 3, 0, 5], 'a tensor made after them');
});
