// algorithms.test.ts — --algorithms: cudnet's pick among cuDNN's timed list, and on a GPU every convolution's lists.
import t from 'tap';
import { markPicked } from '../../lib/bench/algorithms.js';
import { networkFromFragment } from '../../lib/bench/network.js';
import { runBenchmark } from '../../lib/bench/run.js';
import { cudaUnavailableReason, devices } from '../../lib/device.js';

const entry = (algorithm: number, overrides: Partial<Parameters<typeof markPicked>[0][number]> = {}) => ({
  algorithm, name: `ALGO_${algorithm}`, status: 'CUDNN_STATUS_SUCCESS', milliseconds: algorithm + 1, workspaceBytes: 0,
  mathType: 3, deterministic: true, ...overrides,
});

t.test('the pick follows native/cuda/ops/conv_choice.h: first that ran, fits, keeps fp32 math, deterministic when asked', async (t) => {
  const list = [
    entry(6, { status: 'CUDNN_STATUS_NOT_SUPPORTED', milliseconds: null }),
    entry(5, { workspaceBytes: 2 ** 31 }),
    entry(4, { mathType: 2 }),
    entry(1, { mathType: 1 }),
    entry(0),
  ];
  t.same(markPicked(list, 2 ** 30, false).map((e) => e.picked), [false, false, false, false, true], 'fp32: tensor-op math skipped');
  t.same(markPicked(list, 2 ** 30, true).map((e) => e.picked), [false, false, false, true, false], 'tf32: tensor-op math allowed');
  t.same(markPicked(list, 2 ** 32, false).map((e) => e.picked), [false, true, false, false, false], 'a larger workspace limit');
  const nondeterministicFirst = [entry(0, { deterministic: false }), entry(1)];
  t.same(markPicked(nondeterministicFirst, 2 ** 30, false).map((e) => e.picked), [true, false], 'any algorithm by default');
  t.same(markPicked(nondeterministicFirst, 2 ** 30, false, true).map((e) => e.picked), [false, true],
    'deterministic: only deterministic algorithms');
});

const gpu = devices().find((name) => name.startsWith('cuda:'));
t.test('on a GPU: every algorithm of a convolution with time and workspace, one picked per direction',
  { skip: gpu ? false : `no usable GPU: ${cudaUnavailableReason() || 'none found'}` }, async (t) => {
    for (const precision of ['fp32', 'tf32'] as const) {
      const report = await runBenchmark(networkFromFragment('Convolution num_output:64 kernel_size:3 pad:1', [[4, 32, 28, 28]]), {
        device: gpu!, batchSizes: [4], iterations: 2, warmup: 1, precision, algorithms: true, quickPeak: true,
      });
      const algorithms = report.runs[0].algorithms;
      t.equal(algorithms?.kind, 'cuda');
      if (algorithms?.kind !== 'cuda') return;
      const [convolution] = algorithms.convolutions;
      t.equal(convolution.tf32, precision === 'tf32', `${precision}: the mode the timings ran in`);
      for (const direction of ['forward', 'backwardData', 'backwardFilter'] as const) {
        const list = convolution[direction];
        t.ok(list.length > 0, `${direction}: algorithms listed`);
        t.equal(list.filter((e) => e.picked).length, 1, `${direction}: one picked`);
        t.ok(list.every((e) => typeof e.workspaceBytes === 'number'), `${direction}: workspace bytes`);
      }
      t.ok(report.machine.gpus[0].cudnn, 'the cuDNN version is in the report');
    }
  });
