// report.test.ts — the GPU check's parsers and report on the outputs they read, including the shapes only
// a GPU produces (cuDNN's algorithm lists, TF32 timings), so a GPU run cannot be the first to see them.
import t from 'tap';
import {
  agreementFigure, algorithmPicks, jsonDocument, lastJsonLine, opAgreement, parsePytorchTiming, parseTimeReport, ratios, reportMarkdown,
  summarizeTrainingLog, type Report,
} from '../../scripts/gpu-check-report.js';

t.test('cudnet time --json is read whole, indented as it is printed', async (t) => {
  const printed = `${JSON.stringify({
    network: 'alexnet', device: 'cuda:0', precision: 'tf32', batchSize: 128, iterations: 20, layers: [],
    iterationMs: 61.5, iterationForwardMs: 20.25, iterationBackwardMs: 38.75, iterationUpdateMs: 2.5,
  }, null, 2)}\n`;
  t.same(parseTimeReport(printed), { device: 'cuda:0', precision: 'tf32', batchSize: 128, forwardBackwardMs: 59, trainStepMs: 61.5 });
  t.same(jsonDocument(`a warning first\n${printed}`), JSON.parse(printed), 'lines before the document are skipped');
  t.throws(() => parseTimeReport('{\n  "batchSize": 1\n}\n'), /no number iterationMs/);
  t.throws(() => jsonDocument('no json here'), /no JSON in the output/);
});

t.test("the training log gives the accuracy, the time and the memory after both nets ran", async (t) => {
  const memory = (bytes: number) => ({ bytes, cachedBytes: 100 });
  const lines = [
    { type: 'train', epoch: 0.5, iter: 99, loss: 0.5, time: 1, memory: memory(1000) },
    { type: 'val', epoch: 1, iter: 199, accuracy: 0.95, time: 2, memory: memory(1008) },
    { type: 'train', epoch: 1.5, iter: 299, loss: 0.2, time: 3, memory: memory(1008) },
    { type: 'val', epoch: 2, iter: 399, accuracy: 0.975, time: 4, memory: memory(1008) },
    { type: 'done', epoch: 2, iter: 400, accuracy: 0.975, time: 4.5 },
  ].map((record) => JSON.stringify(record)).join('\n');
  const flat = summarizeTrainingLog(`${lines}\n`);
  t.same(flat.accuracies, [0.95, 0.975]);
  t.equal(flat.finalAccuracy, 0.975);
  t.equal(flat.seconds, 4.5);
  t.same(flat.memory, { firstBytes: 1100, peakBytes: 1108, grewBytes: 0 }, "the validation net's first outputs are not growth");
  const grown = summarizeTrainingLog(`${lines}\n${JSON.stringify({ type: 'train', epoch: 3, iter: 500, time: 5, memory: memory(5000) })}\n`);
  t.equal(grown.memory?.grewBytes, 3992, 'growth after both nets ran is counted');
  t.throws(() => summarizeTrainingLog('{"type":"train"}\nnot json\n'), /log\.jsonl line 2 is not JSON/);
  t.equal(summarizeTrainingLog('').memory, undefined);
});

t.test("cuDNN's algorithm lists: cudnet's pick beside the fastest, with the reason they differ", async (t) => {
  const entry = (name: string, milliseconds: number | null, extra: Record<string, unknown> = {}) => ({
    algorithm: 0, name, status: milliseconds === null ? 'CUDNN_STATUS_NOT_SUPPORTED' : 'CUDNN_STATUS_SUCCESS', milliseconds,
    workspaceBytes: 0, mathType: 3, deterministic: true, picked: false, ...extra,
  });
  const bench = {
    runs: [{
      algorithms: {
        kind: 'cuda',
        convolutions: [{
          layer: 'conv1', shape: 'x 128x3x227x227', tf32: false, workspaceLimitBytes: 1 << 30,
          forward: [entry('IMPLICIT_PRECOMP_GEMM', 1.5, { mathType: 1 }), entry('GEMM', 2.0, { picked: true }), entry('FFT', null)],
          backwardData: [entry('ALGO_1', 3.0, { picked: true }), entry('ALGO_0', 4.0)],
          backwardFilter: [entry('FFT', 1.0, { workspaceBytes: 2 ** 31 }), entry('ALGO_0', 5.0, { deterministic: false }), entry('ALGO_1', 6.0, { picked: true })],
        }],
      },
    }],
  };
  const { kind, picks } = algorithmPicks(bench);
  t.equal(kind, 'cuda');
  t.same(picks.map((p) => [p.layer, p.direction, p.picked, p.fastest, p.why]), [
    ['conv1', 'forward', 'GEMM', 'IMPLICIT_PRECOMP_GEMM', 'the fastest uses tensor-core (TF32) math, refused in fp32'],
    ['conv1', 'backwardData', 'ALGO_1', 'ALGO_1', 'the fastest'],
    ['conv1', 'backwardFilter', 'ALGO_1', 'FFT', 'the fastest needs more workspace than the limit'],
  ]);
  t.same(algorithmPicks({ runs: [{ algorithms: { kind: 'cpu', note: 'one algorithm' } }] }), { kind: 'cpu', picks: [], note: 'one algorithm' });
  t.throws(() => algorithmPicks({ runs: [{}] }), /no algorithms/);
});

t.test('the PyTorch line, the per-op agreement and the ratios', async (t) => {
  const line = JSON.stringify({ torch: '2.9.0+cu130', cudnn: 91300, device: 'NVIDIA H100 80GB HBM3',
    timings: { fp32: { forwardBackwardMs: 70, trainStepMs: 80 }, tf32: { forwardBackwardMs: 40, trainStepMs: 50 } } });
  const pytorch = parsePytorchTiming(`some warning\n${line}\n`);
  t.equal(pytorch.timings.tf32.trainStepMs, 50);
  t.same(lastJsonLine(`{"a":1}\n{"b":2}\n`), { b: 2 });
  t.throws(() => parsePytorchTiming('{"torch":"2","timings":{"fp32":{}}}'), /lacks trainStepMs/);
  const cudnet = [
    { device: 'cuda:0', precision: 'fp32', batchSize: 128, forwardBackwardMs: 60, trainStepMs: 64 },
    { device: 'cuda:0', precision: 'tf32', batchSize: 128, forwardBackwardMs: 45, trainStepMs: 55 },
  ];
  t.same(ratios(cudnet, pytorch), { fp32: 0.8, tf32: 1.1 });
  t.same(ratios(cudnet, undefined), {});
  const agreement = opAgreement({ device: 'cuda:0', standIn: false, agreement: { conv: { y: 2e-6, dx: 5e-6 }, pool: { mask: 0, y: null } } });
  t.same(agreement.ops.map((op) => [op.name, op.output, op.relativeError]),
    [['pool', 'y', Infinity], ['conv', 'dx', 5e-6], ['conv', 'y', 2e-6], ['pool', 'mask', 0]], 'worst first; a NaN result is the worst');
  t.equal(agreement.precision, 'fp32', 'a report without a precision is fp32');
  const tf32 = { device: 'cuda:0', standIn: false, precision: 'tf32', agreement: { conv: { y: 8e-4 } } };
  t.equal(agreementFigure(tf32, 'tf32').withinBar, true, 'TF32 is held to 1e-3');
  t.equal(agreementFigure(tf32, 'fp32').withinBar, false, 'fp32 to 1e-5');
  t.same(agreementFigure({ ...tf32, standIn: true, precision: 'fp32' }, 'tf32').precision, 'fp32', 'a CPU standing in says it computed fp32');
});

t.test('the Markdown report shows every step and figure', async (t) => {
  const report: Report = {
    date: '2026-12-08T00:00:00.000Z', mode: 'gpu', node: 'v20.20.2', versions: { cuDNN: '9.13.0', GPU: 'NVIDIA H100' },
    steps: [{ name: 'tests', status: 'ok', seconds: 12.5, summary: 'all passed | 0 failed' }],
    figures: {
      agreement: { device: 'cuda:0', standIn: false, precision: 'fp32', worst: [{ name: 'conv', output: 'dx', relativeError: 5e-6 }], count: 2, withinBar: true },
      agreementTf32: { device: 'cuda:0', standIn: false, precision: 'tf32', worst: [{ name: 'conv', output: 'y', relativeError: 2e-3 }], count: 2, withinBar: false },
      lenet: { records: 5, accuracies: [0.98], finalAccuracy: 0.98, seconds: 4.5, memory: { firstBytes: 2 ** 20, peakBytes: 2 ** 21, grewBytes: 0 } },
      alexnet: {
        cudnet: [{ device: 'cuda:0', precision: 'fp32', batchSize: 128, forwardBackwardMs: 60, trainStepMs: 64 }],
        pytorch: { torch: '2.9.0', device: 'H100', timings: { fp32: { forwardBackwardMs: 70, trainStepMs: 80 } } }, ratios: { fp32: 0.8 },
      },
      algorithms: { kind: 'cuda', picks: [{ layer: 'conv1', direction: 'forward', picked: 'GEMM', pickedMs: 2, fastest: 'GEMM', fastestMs: 2, why: 'the fastest' }] },
    },
    ok: true,
  };
  const markdown = reportMarkdown(report);
  t.match(markdown, /^# cudnet GPU check\n/);
  t.match(markdown, /- cuDNN: 9\.13\.0/);
  t.match(markdown, /\| tests \| ok \| 12\.5 \| all passed \/ 0 failed \|/, 'a | inside a cell cannot break the table');
  t.match(markdown, /## Agreement with the CPU, fp32 \(2 outputs, all within 1e-5; worst first\)\n\n\| case[^\n]*\n[^\n]*\n\| conv \| dx \| 5\.00e-6 \|/);
  t.match(markdown, /## Agreement with the CPU, tf32 \(2 outputs, NOT all within 1e-3; worst first\)[\s\S]*\| conv \| y \| 2\.00e-3 \|/);
  t.match(markdown, /final held-out accuracy 0\.98, 4\.5 s; memory 1\.0 MiB at the first record, peak 2\.0 MiB, growth 0\.0 MiB/);
  t.match(markdown, /\| PyTorch 2\.9\.0 H100 \| fp32 \| 128 \| 70\.00 \| 80\.00 \|/);
  t.match(markdown, /train step, fp32: cudnet \/ PyTorch = 0\.800/);
  t.match(markdown, /\| conv1 \| forward \| GEMM \| 2\.00 \| GEMM \| 2\.00 \| the fastest \|/);
  t.match(markdown, /Result: every step ok or skipped/);
  t.match(reportMarkdown({ ...report, mode: 'rehearsal', ok: false, figures: {} }), /rehearsal: the CPU stands in[\s\S]*Result: FAILED/);
});
