// time.test.ts — `cudnet time --json`: every layer timed forward and backward, the solver update, and the whole
// training iteration (forward + backward + update) beside the sum.
import t from 'tap';
import { runCli } from '../../lib/cli/main.js';
import { captureStreams } from './fixtures/capture.js';

t.test('cudnet time --json reports per-layer and whole-iteration milliseconds', async (t) => {
  const streams = captureStreams();
  const code = await runCli(['time', '--network', 'lenet', '--batch-size', '8', '--iterations', '2', '--device', 'cpu', '--json'], streams);
  t.equal(code, 0, streams.err());
  const report = JSON.parse(streams.out());
  t.match(report, { network: 'lenet', device: 'cpu', batchSize: 8, iterations: 2 });
  t.same(report.layers.map((layer: { name: string }) => layer.name), ['mnist', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'loss']);
  for (const layer of report.layers) t.ok(layer.forwardMs >= 0 && layer.backwardMs >= 0, `${layer.name} timed`);
  const fields = ['forwardMs', 'backwardMs', 'layerSumMs', 'updateMs', 'synchronizeMs', 'iterationMs', 'iterationForwardMs', 'iterationBackwardMs', 'iterationUpdateMs'];
  for (const field of fields) t.ok(report[field] > 0, `${field} > 0`);
  t.ok(Math.abs(report.layerSumMs - report.forwardMs - report.backwardMs) < 1e-9, 'layerSumMs = forward + backward');
  // With 2 iterations the median is the mean, so the whole iteration is exactly the sum of its three phases.
  const phases = report.iterationForwardMs + report.iterationBackwardMs + report.iterationUpdateMs;
  t.ok(Math.abs(report.iterationMs - phases) < 1e-9, 'iterationMs = forward + backward + update');
});

t.test('cudnet time prints a table', async (t) => {
  const streams = captureStreams();
  t.equal(await runCli(['time', '--batch-size', '4', '--iterations', '1', '--device', 'cpu'], streams), 0);
  t.match(streams.out(), /lenet, batch 4, 1 iterations, cpu[\s\S]*conv1\s+Convolution[\s\S]*update\s+SGD\s+\d+\.\d{3}\n[\s\S]*sum of layers[\s\S]*includes one synchronize:\s+\d+\.\d{3} ms alone\)\n[\s\S]*whole iteration/);
});

t.test('a prototxt with a Data layer needs --input-shape', async (t) => {
  const streams = captureStreams();
  t.equal(await runCli(['time', '--network', 'models/lenet_train_val.prototxt', '--iterations', '1', '--device', 'cpu'], streams), 2);
  t.match(streams.err(), /has a Data layer: give its image shape with --input-shape <C>x<H>x<W>/);
});
