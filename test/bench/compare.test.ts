// compare.test.ts — `cudnet bench compare`: a planted 2x slowdown is flagged, a 1% change is not.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runBenchCli, type BenchOutput } from '../../lib/bench/cli.js';
import { compareReports, compareTimings } from '../../lib/bench/compare.js';
import { networkFromName } from '../../lib/bench/network.js';
import type { BenchReport } from '../../lib/bench/report.js';
import { runBenchmark } from '../../lib/bench/run.js';
import { summarize, type TimingSummary } from '../../lib/bench/stats.js';

const folder = mkdtempSync(join(tmpdir(), 'cudnet-compare-'));
t.teardown(() => rmSync(folder, { recursive: true, force: true }));

/** Timings around `median` with a 4% scatter, as a quiet machine gives. */
function steady(median: number): TimingSummary {
  return summarize([0.96, 0.98, 1, 1, 1.02, 1.04].map((f) => f * median));
}

function scaled(summary: TimingSummary, factor: number): TimingSummary {
  const { runs, ...times } = summary;
  return { ...(Object.fromEntries(Object.entries(times).map(([key, value]) => [key, value * factor])) as Omit<TimingSummary, 'runs'>), runs };
}

t.test('the threshold: combined relative IQR, at least 5%', async (t) => {
  t.equal(compareTimings(steady(1), steady(2)).flagged, true, '2x with 4% spreads');
  t.equal(compareTimings(steady(1), steady(1.01)).flagged, false, '1%');
  t.equal(compareTimings(steady(1), steady(1.04)).flagged, false, '4% is under the 5% floor');
  const noisy = summarize([0.5, 0.8, 1, 1.2, 1.5]);
  t.equal(compareTimings(noisy, scaled(noisy, 1.3)).flagged, false, '30% inside a 40%+40% spread');
  t.ok(Math.abs(compareTimings(steady(1), steady(2)).ratio - 2) < 1e-12, 'ratio = after / before');
});

t.test('a real LeNet report against a copy with one layer twice as slow and one 1% slower', async (t) => {
  const before = await runBenchmark(networkFromName('lenet', 'TRAIN'), {
    device: 'cpu', batchSizes: [2], iterations: 3, warmup: 1, precision: 'fp32', algorithms: false, quickPeak: true,
  });
  // Steady timings everywhere, so only the planted changes can stand out of the spread.
  for (const layer of before.runs[0].layers) {
    layer.forward = steady(1);
    layer.backward = layer.backward && steady(2);
  }
  before.runs[0].iteration = steady(10);
  const after = structuredClone(before) as BenchReport;
  const conv2 = after.runs[0].layers.find((layer) => layer.name === 'conv2')!;
  conv2.forward = scaled(conv2.forward, 2);
  conv2.backward = scaled(conv2.backward!, 2);
  const ip1 = after.runs[0].layers.find((layer) => layer.name === 'ip1')!;
  ip1.forward = scaled(ip1.forward, 1.01);
  ip1.backward = scaled(ip1.backward!, 1.01);

  const [run] = compareReports(before, after);
  const flagged = run.layers.filter((layer) => layer.forward.flagged || layer.backward?.flagged).map((layer) => layer.name);
  t.same(flagged, ['conv2'], 'only the 2x slowdown is flagged');
  const ip1Change = run.layers.find((layer) => layer.name === 'ip1')!;
  t.ok(Math.abs(ip1Change.forward.ratio - 1.01) < 1e-9, 'the 1% change is measured, not flagged');

  const a = join(folder, 'a.json'), b = join(folder, 'b.json');
  writeFileSync(a, JSON.stringify(before));
  writeFileSync(b, JSON.stringify(after));
  let out = '';
  const output: BenchOutput = { out: (text) => void (out += `${text}\n`), err: () => {} };
  t.equal(await runBenchCli(['compare', a, b], output), 0);
  t.comment(out);
  t.match(out, 'cpu, batch 2: 1 layer(s) changed beyond the measured spread (marked !)');
  t.match(out, /conv2\s+Convolution\s+1\.000 -> 2\.000\s+x2\.00 !/);
  t.match(out, /ip1\s+InnerProduct\s+1\.000 -> 1\.010\s+x1\.01\s/);
});

t.test('compare refuses files that are not reports', async (t) => {
  const bogus = join(folder, 'bogus.json');
  writeFileSync(bogus, '{"hello": 1}');
  let err = '';
  const output: BenchOutput = { out: () => {}, err: (text) => void (err += text) };
  t.equal(await runBenchCli(['compare', bogus, bogus], output), 1);
  t.match(err, `${bogus} is not a cudnet bench report (expected "format": "cudnet-bench/1"; write one with --json)`);
  t.equal(await runBenchCli(['compare', bogus], output), 2, 'one file is a usage error');
});
