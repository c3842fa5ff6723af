// overhead.test.ts — the harness adds little: a layer's time in `cudnet bench` against the same op timed alone.
import t from 'tap';
import { device } from '../../lib/device.js';
import { Net } from '../../lib/net/index.js';
import { conv2dForward } from '../../lib/ops/conv.js';
import { Tensor } from '../../lib/tensor.js';
import { measureNet, patternValues } from '../../lib/bench/measure.js';
import { networkFromFragment } from '../../lib/bench/network.js';
import { summarize } from '../../lib/bench/stats.js';

const SHAPE = [8, 16, 32, 32];
const ITERATIONS = 15, WARMUP = 3;

/** The forward convolution timed alone, through lib/ops, each call to a device synchronize (as the harness does). */
async function convolutionAlone(): Promise<number> {
  const cpu = device('cpu');
  const x = Tensor.from(patternValues(8 * 16 * 32 * 32), SHAPE, cpu);
  const w = Tensor.from(patternValues(32 * 16 * 3 * 3), [32, 16, 3, 3], cpu), b = Tensor.zeros([32], cpu);
  const y = Tensor.empty([8, 32, 32, 32], cpu);
  const times: number[] = [];
  for (let r = 0; r < WARMUP + ITERATIONS; r++) {
    const start = performance.now();
    conv2dForward(x, w, b, { pad: 1 }, y);
    await cpu.synchronize();
    if (r >= WARMUP) times.push(performance.now() - start);
  }
  for (const tensor of [x, w, b, y]) tensor.dispose();
  return summarize(times).median;
}

t.test('a convolution in the harness takes about as long as the op alone', async (t) => {
  const network = networkFromFragment('Convolution num_output:32 kernel_size:3 pad:1', [SHAPE]);
  const net = Net.fromParameter(network.build(SHAPE[0]), { phase: 'TRAIN', device: 'cpu' });
  t.teardown(() => net.dispose());
  const measured = await measureNet(net, { iterations: ITERATIONS, warmup: WARMUP });
  const harness = measured.layers.find((layer) => layer.type === 'Convolution')!.forward.median;
  const alone = await convolutionAlone();
  t.comment(`convolution 8x16x32x32 -> 8x32x32x32 forward: harness ${harness.toFixed(3)} ms, alone ${alone.toFixed(3)} ms`);
  // Loose: the machine may be shared, and the harness adds a reshape and a Promise per call.
  t.ok(harness <= 3 * alone + 1, `harness ${harness.toFixed(3)} ms within 3x + 1 ms of ${alone.toFixed(3)} ms alone`);
  t.ok(measured.layers.find((layer) => layer.type === 'Convolution')!.backward !== null,
    'force_backward: the lone layer runs backward');
});
