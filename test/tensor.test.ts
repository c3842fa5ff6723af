// tensor.test.ts — tensors: creation, reading, writing, views, disposal, memory accounting, bad input.
import t from 'tap';
import { Tensor, device, devices, memory, ops, type DeviceName } from '../lib/index.js';
import { native } from '../lib/native.js';
import { assertThrowsCode, forEachDevice, settleGarbage } from './helpers/index.js';

t.test('devices lists the CPU first; auto resolves to a usable device', async (t) => {
  t.equal(devices()[0], 'cpu');
  const auto = device('auto');
  t.ok(devices().includes(auto.name));
  t.match(device('cpu').description, /threads/);
});

t.test('the deterministic-convolution setting: recorded per device, reaches a GPU, checked', async (t) => {
  for (const name of devices()) {
    const target = device(name as DeviceName);
    t.equal(target.deterministic, false, `${name}: off by default (the fastest algorithms)`);
    await target.setDeterministic(true);
    t.equal(target.deterministic, true, `${name}: on`);
    await target.setDeterministic(false);
    t.equal(target.deterministic, false, `${name}: off again`);
  }
  await assertThrowsCode(t, () => device('cpu').setDeterministic('yes' as never), 'INVALID_ARGUMENT',
    'Expected true or false for enabled but received "yes"');
  // The native switch belongs to GPUs: the CPU's stream refuses it, which shows the entry is wired up.
  await assertThrowsCode(t, () => native.setCudaDeterministic('cpu', true), 'INVALID_ARGUMENT',
    'switching deterministic convolutions: deterministic convolution algorithms are a CUDA setting; cpu has only one algorithm per op');
});

t.test('bad device names are clear errors', async (t) => {
  await assertThrowsCode(t, () => device('gpu' as never), 'INVALID_ARGUMENT',
    `Expected 'cpu', 'cuda', 'cuda:N' or 'auto' for device but received "gpu"`);
});

forEachDevice(t, async (t, dev) => {
  t.test('from → data round trip, fill, clone, reshape view', async (t) => {
    const values = Float32Array.from({ length: 30 }, (_, i) => i * 0.5 - 3);
    const a = Tensor.from(values, [2, 3, 5], dev);
    t.same(Array.from(await a.data()), Array.from(values));
    const b = a.clone();
    a.fill(7);
    t.same(Array.from(await a.data()), new Array(30).fill(7));
    t.same(Array.from(await b.data()), Array.from(values), 'clone is independent');
    const view = b.reshape([6, 5]);
    t.same(view.shape, [6, 5]);
    view.fill(1);
    t.same((await b.data())[29], 1, 'a reshape shares storage');
    a.dispose();
    b.dispose();
  });

  t.test('view covers a prefix of a larger storage', async (t) => {
    const storage = Tensor.from(Float32Array.from({ length: 12 }, (_, i) => i), [12], dev);
    const view = storage.view([2, 3]);
    t.same(Array.from(await view.data()), [0, 1, 2, 3, 4, 5]);
    view.fill(-1);
    t.same(Array.from(await storage.data()).slice(0, 7), [-1, -1, -1, -1, -1, -1, 6]);
    await assertThrowsCode(t, () => storage.view([13]), 'SHAPE_MISMATCH', 'view: 13 needs 13 elements but the storage holds 12');
    storage.dispose();
  });

  t.test('write at an offset; zeros; 5-D', async (t) => {
    const z = Tensor.zeros([2, 1, 2, 1, 2], dev);
    z.write(Float32Array.of(5, 6), 3);
    t.same(Array.from(await z.data()), [0, 0, 0, 5, 6, 0, 0, 0]);
    z.dispose();
  });

  t.test('disposed tensors give clear errors and free memory at once', async (t) => {
    await settleGarbage(); // tensors earlier tests forgot are freed first, not while this one measures
    const before = memory()[dev]?.bytes ?? 0;
    const a = Tensor.zeros([1000], dev);
    t.equal((memory()[dev]?.bytes ?? 0) - before, 4000);
    // Until the queued fill has run it holds the buffer too (the next test covers that case): wait for it,
    // so that the dispose below is the last reference and frees at once.
    await a.data();
    a.dispose();
    t.equal((memory()[dev]?.bytes ?? 0) - before, 0);
    t.ok(a.disposed);
    await assertThrowsCode(t, () => a.data(), 'DISPOSED', 'data: tensor (shape 1000) was disposed and cannot be used');
    await assertThrowsCode(t, () => ops.scale(2, a), 'DISPOSED', /scale: x \(shape 1000\) was disposed/);
    a.dispose();
    t.pass('a second dispose is harmless');
  });

  t.test('dispose while an op that uses the tensor is queued is safe', async (t) => {
    const x = Tensor.zeros([1 << 20], dev, 1);
    const y = Tensor.zeros([1 << 20], dev);
    ops.axpy(2, x, y);
    x.dispose();
    const values = await y.data();
    t.equal(values[12345], 2);
    y.dispose();
  });
});

t.test('bad shapes and values', async (t) => {
  await assertThrowsCode(t, () => Tensor.empty([2, 0, 3]), 'INVALID_ARGUMENT',
    'Expected up to 5 positive integers for shape but received [2, 0, 3]');
  await assertThrowsCode(t, () => Tensor.empty([1, 2, 3, 4, 5, 6]), 'INVALID_ARGUMENT', /up to 5 positive integers/);
  await assertThrowsCode(t, () => Tensor.empty([2.5]), 'INVALID_ARGUMENT', /up to 5 positive integers/);
  await assertThrowsCode(t, () => Tensor.from([1, 2, 3], [2, 2]), 'SHAPE_MISMATCH',
    'Tensor.from: 3 values do not fill shape 2x2 (4 elements)');
  const a = Tensor.zeros([4]);
  await assertThrowsCode(t, () => a.reshape([3]), 'SHAPE_MISMATCH', 'reshape: cannot view 4 (4 elements) as 3');
  await assertThrowsCode(t, () => a.write(new Float32Array(5)), 'SHAPE_MISMATCH', /do not fit a tensor of shape 4/);
  await assertThrowsCode(t, () => a.fill(Infinity), 'INVALID_ARGUMENT', /for value but received Infinity/);
  a.dispose();
});

t.test('a forgotten tensor is freed by the garbage collector', async (t) => {
  await settleGarbage(); // tensors earlier tests forgot are collected first, so only ours is counted
  const before = memory().cpu.tensors;
  (() => { Tensor.zeros([1 << 16]); })();
  t.equal(memory().cpu.tensors, before + 1, 'the tensor is alive until collected');
  await settleGarbage();
  t.equal(memory().cpu.tensors, before, 'the finalizer freed it');
});
