// report.test.ts — `cudnet bench` on the CPU end to end: every JSON field for a small net, the HTML page, --algorithms on the CPU.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runBenchCli, type BenchOutput } from '../../lib/bench/cli.js';
import { CPU_ALGORITHM_NOTE } from '../../lib/bench/algorithms.js';
import { REPORT_FORMAT, type BenchReport } from '../../lib/bench/report.js';

const folder = mkdtempSync(join(tmpdir(), 'cudnet-bench-'));
t.teardown(() => rmSync(folder, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const output: BenchOutput = { out: (text) => void (out += `${text}\n`), err: (text) => void (err += `${text}\n`) };
  return { code: await runBenchCli(argv, output), out, err };
}

const TIMING_FIELDS = ['median', 'min', 'max', 'q1', 'q3', 'iqr', 'runs'];

t.test('LeNet on the CPU, two batch sizes: the JSON has every field', async (t) => {
  const json = join(folder, 'lenet.json'), html = join(folder, 'lenet.html');
  const result = await run(['--network', 'lenet', '--device', 'cpu', '--batch-sizes', '2,4', '--iterations', '3',
    '--warmup', '1', '--algorithms', '--json', json, '--html', html]);
  t.equal(result.code, 0, result.err);
  t.match(result.out, /conv1\s+Convolution\s+2x20x24x24/, 'the terminal table lists the layers');
  t.match(result.out, 'algorithms: ' + CPU_ALGORITHM_NOTE);
  t.match(result.out, /images\/s/);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
  t.equal(report.format, REPORT_FORMAT);
  t.ok(Date.parse(report.createdAt) > 0, 'createdAt is a date');
  t.same(report.command.slice(0, 3), ['bench', '--network', 'lenet']);
  t.same(report.settings, { network: 'lenet', phase: 'TRAIN', devices: ['cpu'], batchSizes: [2, 4], iterations: 3, warmup: 1,
    precision: 'fp32', algorithms: true });
  const { machine } = report;
  t.type(machine.cpu.model, 'string');
  t.ok(machine.cpu.cores >= 1, 'CPU cores');
  t.ok(machine.cpu.description.length > 0, 'the CPU device description');
  t.ok(machine.memoryBytes > 0 && machine.os.length > 0 && machine.node.startsWith('v'));
  t.same(machine.gpus, [], 'no GPU in a CPU-only run');
  t.match(machine.cudnet.version, /^\d+\.\d+\.\d+/);
  t.ok(machine.cudnet.commit === null || /^[0-9a-f]{40}$/.test(machine.cudnet.commit), 'the git commit, or null');
  t.equal(report.runs.length, 2, 'one run per batch size');
  for (const runReport of report.runs) {
    t.equal(runReport.device, 'cpu');
    t.equal(runReport.precision, 'fp32');
    t.ok(runReport.peak.gflops > 0 && runReport.peak.gbPerSecond > 0, 'peaks measured');
    t.type(runReport.peak.method.compute, 'string');
    t.same(Object.keys(runReport.iteration).sort(), [...TIMING_FIELDS].sort());
    t.ok(runReport.imagesPerSecond > 0);
    t.ok(runReport.layerTotals.forward > 0 && runReport.layerTotals.backward > 0);
    t.same(runReport.algorithms, { kind: 'cpu', note: CPU_ALGORITHM_NOTE });
    t.same(runReport.layers.map((layer) => layer.name), ['mnist', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'loss']);
    for (const layer of runReport.layers) {
      t.same(Object.keys(layer.forward).sort(), [...TIMING_FIELDS].sort(), `${layer.name} forward timing`);
      t.equal(layer.forward.runs, 3);
      t.ok(layer.forward.min <= layer.forward.median && layer.forward.median <= layer.forward.max);
      const hasBackward = layer.type !== 'Input';
      t.equal(layer.backward !== null, hasBackward, `${layer.name} backward timed where it runs`);
      for (const field of ['flops', 'bytes', 'gflops', 'gbPerSecond'] as const) {
        t.type(layer[field].forward, 'number', `${layer.name} ${field}.forward`);
        t.equal(layer[field].backward !== null, hasBackward, `${layer.name} ${field}.backward`);
      }
      t.type(layer.peakFraction.compute.forward, 'number');
      t.type(layer.peakFraction.memory.forward, 'number');
    }
  }
  const conv1 = report.runs[0].layers[1];
  t.equal(conv1.flops.forward, 2 * 2 * 20 * 24 * 24 * 1 * 5 * 5, 'conv1 forward FLOPs at batch 2');
  t.same(conv1.topShapes, [[2, 20, 24, 24]]);

  const page = readFileSync(html, 'utf8');
  t.match(page, /^<!DOCTYPE html>/);
  t.match(page, /<svg /, 'inline SVG');
  t.equal((page.match(/<svg /g) ?? []).length, 3, 'the throughput curves and one bar chart per run');
  t.notMatch(page, /<script|<link|src=/, 'nothing external, no scripts');
});

t.test('--phase test runs forward only (deploy)', async (t) => {
  const json = join(folder, 'lenet-test.json');
  const result = await run(['--network', 'lenet', '--phase', 'test', '--batch-sizes', '2', '--iterations', '2', '--warmup', '0',
    '--json', json]);
  t.equal(result.code, 0, result.err);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
  t.equal(report.settings.phase, 'TEST');
  t.ok(report.runs[0].layers.every((layer) => layer.backward === null), 'no backward in TEST');
  t.equal(report.runs[0].layers.at(-1)?.type, 'Softmax', 'the deploy net ends in its Softmax');
});

t.test('usage errors exit with 2 and say what is wrong', async (t) => {
  const none = await run([]);
  t.equal(none.code, 2);
  t.match(none.err, 'Give either --network');
  const typo = await run(['--network', 'lenet', '--iteration', '3']);
  t.equal(typo.code, 2);
  t.match(typo.err, 'Unknown option --iteration; did you mean --iterations?');
  const sizes = await run(['--network', 'lenet', '--batch-sizes', '1,x']);
  t.match(sizes.err, 'Expected positive integers separated by commas for --batch-sizes but received "1,x"');
  const device = await run(['--network', 'lenet', '--device', 'gpu']);
  t.equal(device.code, 2);
  t.match(device.err, 'Expected cpu, cuda:N or all for --device but received "gpu"');
  const help = await run(['--help']);
  t.equal(help.code, 0);
  t.match(help.out, 'cudnet bench compare <a.json> <b.json>');
});
