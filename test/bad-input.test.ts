// bad-input.test.ts — what cannot be done is refused with a CudnetError and a stable code, before any work is
// queued, and never by aborting the process: tensors too large to read back, bad offsets, strides and indices.
import t, { type Test } from 'tap';
import { CudnetError, MAX_READ_ELEMENTS, Tensor, ops } from '../lib/index.js';
import { native } from '../lib/native.js';
import { runChild } from './helpers/fake-cuda-libraries.js';

/** Asserts that `fn` throws (or rejects with) a CudnetError with `code` and `message`. */
async function refuses(t: Test, fn: () => unknown, code: string, message: string | RegExp): Promise<void> {
  try {
    await fn();
    t.fail(`expected ${code}`);
  } catch (error) {
    t.ok(error instanceof CudnetError, `a CudnetError (${(error as Error).message})`);
    t.match(error, { code, message });
  }
}

t.test('a tensor of more than 2^32 elements is created but refused by data() with TOO_LARGE', async (t) => {
  t.equal(MAX_READ_ELEMENTS, 2 ** 32);
  // In a child process, so that an abort fails this test rather than the runner. The host memory of a
  // tensor is not touched until written, so the 16 GiB cost nothing here.
  const body = `
    let big;
    try {
      big = cudnet.Tensor.empty([2 ** 32 + 1]);
    } catch (error) {
      if (error.code === 'OUT_OF_MEMORY') return { noMemory: error.message };  // strict overcommit
      throw error;
    }
    const outcome = (promise) => promise.then(() => 'resolved', (error) => ({
      cudnetError: error instanceof cudnet.CudnetError, code: error.code, message: error.message }));
    const viaTensor = await outcome(big.data());
    const pendingOps = native.memory().cpu.pendingOps;
    const viaAddon = await outcome(Promise.resolve().then(() => big.buffer.read(0, 2 ** 32 + 1)));
    const justUnder = await outcome(big.view([2, 3]).data());
    return { viaTensor, pendingOps, viaAddon, justUnder };`;
  const result = runChild(body, {}, { library: true });
  t.equal(result.signal, null, 'no signal');
  t.equal(result.status, 0, `the child exits normally: ${result.stderr.slice(0, 300)}`);
  const outcome = JSON.parse(result.stdout || '{}');
  if (outcome.noMemory) return t.skip(`this machine will not reserve 16 GiB for the tensor: ${outcome.noMemory}`, () => {});
  t.same(outcome.viaTensor, {
    cudnetError: true, code: 'TOO_LARGE',
    message: 'data: a tensor of shape 4294967297 (4294967297 elements) cannot be read back: a Float32Array holds at ' +
      'most 4294967296 elements',
  });
  t.equal(outcome.pendingOps, 0, 'nothing was queued');
  t.same(outcome.viaAddon, { cudnetError: false, code: 'TOO_LARGE',
    message: 'a read of 4294967297 values does not fit a Float32Array (at most 4294967296 elements)' },
  'the addon refuses it too, with an exception rather than a fatal error');
  t.equal(outcome.justUnder, 'resolved', 'a small view of the same storage reads');
});

t.test('a shape of more than 2^53 elements is TOO_LARGE', async (t) => {
  await refuses(t, () => Tensor.empty([2 ** 30, 2 ** 30, 2 ** 30]), 'TOO_LARGE',
    'Tensor.empty: shape 1073741824x1073741824x1073741824 has more than 2^53 elements');
});

t.test('write offsets are non-negative integers', async (t) => {
  const tensor = Tensor.zeros([4]);
  for (const [offset, shown] of [[-1, '-1'], [0.5, '0.5'], [Number.NaN, 'NaN'], [2 ** 60, '1152921504606847000']] as const)
    await refuses(t, () => tensor.write(Float32Array.of(1), offset), 'INVALID_ARGUMENT',
      `Expected a non-negative integer for offset but received ${shown}`);
  await refuses(t, () => tensor.write(Float32Array.of(1, 2), 3), 'SHAPE_MISMATCH',
    'write: 2 values at offset 3 do not fit a tensor of shape 4');
  t.same(Array.from(await tensor.data()), [0, 0, 0, 0], 'nothing was written');
});

t.test('copyBlocks: counts, offsets and strides are non-negative safe integers; huge strides run past the end', async (t) => {
  const source = Tensor.from([1, 2, 3, 4, 5, 6], [6]), destination = Tensor.zeros([6]);
  const copy = (numbers: Partial<Record<string, number>>) => () => {
    const n = { count: 2, block: 1, sourceOffset: 0, sourceStride: 2, destinationOffset: 0, destinationStride: 1, ...numbers };
    ops.copyBlocks(n.count, n.block, source, n.sourceOffset, n.sourceStride, destination, n.destinationOffset,
      n.destinationStride);
  };
  await refuses(t, copy({ sourceStride: -1 }), 'INVALID_ARGUMENT',
    'copyBlocks: Expected a non-negative safe integer for sourceStride but received -1');
  await refuses(t, copy({ destinationOffset: 1.5 }), 'INVALID_ARGUMENT',
    'copyBlocks: Expected a non-negative safe integer for destinationOffset but received 1.5');
  await refuses(t, copy({ count: Number.NaN }), 'INVALID_ARGUMENT',
    'copyBlocks: Expected a non-negative safe integer for count but received NaN');
  await refuses(t, copy({ sourceStride: 2 ** 64 }), 'INVALID_ARGUMENT',
    'copyBlocks: Expected a non-negative safe integer for sourceStride but received 18446744073709552000');
  await refuses(t, copy({ sourceStride: 2 ** 52 }), 'SHAPE_MISMATCH', 'copyBlocks: the blocks run past the end of a tensor');
  copy({})();
  t.same(Array.from(await destination.data()), [1, 3, 0, 0, 0, 0], 'good arguments copy');
});

t.test('eltwise max: the bottom index is an integer in [0, 2^24]', async (t) => {
  const x = Tensor.from([1, 2], [2]), y = Tensor.zeros([2]), mask = Tensor.zeros([2]);
  for (const [index, shown] of [[-1, '-1'], [0.5, '0.5'], [2 ** 31, '2147483648']] as const) {
    await refuses(t, () => ops.maxAccumulate(index, x, y, mask), 'INVALID_ARGUMENT',
      `eltwise max: Expected an integer in [0, 16777216] for index but received ${shown}`);
    await refuses(t, () => ops.maxSelectBackward(index, mask, x, y), 'INVALID_ARGUMENT',
      `eltwise max backward: Expected an integer in [0, 16777216] for index but received ${shown}`);
  }
});

t.test('what the addon itself refuses reaches the caller as a CudnetError', async (t) => {
  const tensor = Tensor.zeros([4]);
  await refuses(t, () => native.fill(tensor.buffer, -1, 0), 'INVALID_ARGUMENT', 'Expected a non-negative integer for n');
  await refuses(t, () => native.maxAccumulate(1, 2 ** 31, tensor.buffer, tensor.buffer, tensor.buffer), 'INVALID_ARGUMENT',
    'Expected an integer in [0, 16777216] for index');
  await refuses(t, () => native.synchronize(7 as never), 'INVALID_ARGUMENT', 'Expected a device name');
  // (count - 1) * stride overflows 64 bits: refused, not wrapped around to a small span.
  await refuses(t, () => native.copyBlocks(2049, 1, tensor.buffer, 0, 2 ** 53, tensor.buffer, 0, 1), 'SHAPE_MISMATCH',
    'copyBlocks: the source blocks run past the end of any tensor');
  await refuses(t, () => native.copyBlocks(3, 1, tensor.buffer, 0, 2 ** 40, tensor.buffer, 0, 1), 'SHAPE_MISMATCH',
    'copyBlocks: source holds 4 elements but the op needs 2199023255553');
  t.same(Array.from(await tensor.data()), [0, 0, 0, 0]);
});
