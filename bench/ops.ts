// ops.ts — benchmark of the CPU GEMM (against OpenBLAS in the same run) and of AlexNet's and LeNet's convolutions.
// Run: `npm run bench -- ops` (through bench/run.ts), or on its own after `npm run build`:
//   node dist/bench/ops.js
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Tensor, device } from '../lib/index.js';
import { native } from '../lib/native.js';
import {
  conv2dBackwardBias, conv2dBackwardData, conv2dBackwardFilter, conv2dForward, type ConvOptions,
} from '../lib/ops/conv.js';

/** The benchmark entry points of native/binding/ops/bench.cpp. */
interface BenchEntries {
  benchFmaPeak(seconds: number): Promise<number>;
  benchGemm(transA: boolean, transB: boolean, M: number, N: number, K: number, warmup: number, repeats: number):
    Promise<{ threads: number; ours: number[]; openblas: number[] | null }>;
}
const entries = native as unknown as BenchEntries;

interface Summary { median: number; low: number; high: number }

/** Median and the spread (fastest, slowest) of repeated timings, in seconds. */
function summarize(seconds: number[]): Summary {
  const sorted = [...seconds].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], low: sorted[0], high: sorted[sorted.length - 1] };
}

const gflops = (flops: number, seconds: number) => flops / seconds / 1e9;
const spread = (s: Summary) => `±${(((s.high - s.low) / 2 / s.median) * 100).toFixed(0)}%`;

/** AlexNet's im2col GEMMs (per group), and fc6 forward: x[128, 9216] * W^T with W [4096, 9216]. */
const gemmShapes = [
  { name: 'conv1', transA: false, transB: false, M: 96, N: 3025, K: 363 },
  { name: 'conv2/group', transA: false, transB: false, M: 128, N: 729, K: 1200 },
  { name: 'conv3', transA: false, transB: false, M: 384, N: 169, K: 2304 },
  { name: 'fc6', transA: false, transB: true, M: 128, N: 4096, K: 9216 },
];

async function benchGemm(peak: number): Promise<void> {
  console.log('\nSGEMM (row-major C = op(A) op(B)), median of repeated runs, OpenBLAS timed in the same run:');
  for (const s of gemmShapes) {
    const flops = 2 * s.M * s.N * s.K;
    const repeats = Math.max(7, Math.min(50, Math.round(2e10 / flops)));
    const result = await entries.benchGemm(s.transA, s.transB, s.M, s.N, s.K, 3, repeats);
    const ours = summarize(result.ours);
    const oursRate = gflops(flops, ours.median);
    let line = `  ${s.name.padEnd(12)} ${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'} M=${s.M} N=${s.N} K=${s.K}`.padEnd(46) +
      ` ours ${oursRate.toFixed(1).padStart(6)} GFLOP/s ${spread(ours).padStart(4)} (${((oursRate / peak) * 100).toFixed(0)}% of peak)`;
    if (result.openblas) {
      const theirs = summarize(result.openblas);
      const theirRate = gflops(flops, theirs.median);
      line += `   OpenBLAS ${theirRate.toFixed(1).padStart(6)} GFLOP/s ${spread(theirs).padStart(4)}   ratio ${(oursRate / theirRate).toFixed(2)}`;
    } else {
      line += '   OpenBLAS: libopenblas.so.0 not found';
    }
    console.log(line);
  }
}

interface Layer { name: string; C: number; H: number; K: number; kernel: number; options: ConvOptions }

/** AlexNet's convolutions on their real input sizes (227x227x3 images). */
const alexnet: Layer[] = [
  { name: 'conv1', C: 3, H: 227, K: 96, kernel: 11, options: { stride: 4 } },
  { name: 'conv2', C: 96, H: 27, K: 256, kernel: 5, options: { pad: 2, group: 2 } },
  { name: 'conv3', C: 256, H: 13, K: 384, kernel: 3, options: { pad: 1 } },
  { name: 'conv4', C: 384, H: 13, K: 384, kernel: 3, options: { pad: 1, group: 2 } },
  { name: 'conv5', C: 384, H: 13, K: 256, kernel: 3, options: { pad: 1, group: 2 } },
];

/** LeNet's convolutions at batch 64 (28x28x1 images): small outputs, lowered several images to a GEMM. */
const lenet: Layer[] = [
  { name: 'conv1', C: 1, H: 28, K: 20, kernel: 5, options: {} },
  { name: 'conv2', C: 20, H: 12, K: 50, kernel: 5, options: {} },
];

function randomTensor(shape: number[]): Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = Math.sin(i * 12.9898) * 0.5;
  return Tensor.from(values, shape, 'cpu');
}

/** Seconds per call of `run`, timed through the public ops API and awaiting the device each time. */
async function timeOp(run: () => void, repeats: number): Promise<Summary> {
  const cpu = device('cpu');
  for (let r = 0; r < 2; r++) run();
  await cpu.synchronize();
  const seconds: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    run();
    await cpu.synchronize();
    seconds.push((performance.now() - start) / 1000);
  }
  return summarize(seconds);
}

async function benchConvolutions(peak: number, network: string, layers: Layer[], batch: number): Promise<void> {
  console.log(`\n${network} convolutions, batch ${batch}, through lib/ops (median; fwd+bwd = forward + data + filter + bias):`);
  let totalFlops = 0, totalSeconds = 0;
  for (const layer of layers) {
    const channels = layer.C / (layer.options.group ?? 1);
    const x = randomTensor([batch, layer.C, layer.H, layer.H]);
    const w = randomTensor([layer.K, channels, layer.kernel, layer.kernel]);
    const b = randomTensor([layer.K]);
    const y = conv2dForward(x, w, b, layer.options);
    const dy = randomTensor([...y.shape]), dx = Tensor.empty(x.shape, 'cpu');
    const dw = Tensor.zeros(w.shape, 'cpu'), db = Tensor.zeros([layer.K], 'cpu');
    const [, , outH, outW] = y.shape;
    const flops = 2 * batch * layer.K * outH * outW * channels * layer.kernel * layer.kernel;
    const repeats = Math.max(7, Math.min(50, Math.round(2e9 / flops)));
    const forward = await timeOp(() => conv2dForward(x, w, b, layer.options, y), repeats);
    const backward = await timeOp(() => {
      conv2dBackwardData(w, dy, dx, layer.options);
      conv2dBackwardFilter(x, dy, dw, layer.options);
      conv2dBackwardBias(dy, db);
    }, repeats);
    const both = forward.median + backward.median;
    console.log(`  ${layer.name}  forward ${(forward.median * 1e3).toFixed(2).padStart(7)} ms ` +
      `${gflops(flops, forward.median).toFixed(1).padStart(6)} GFLOP/s ${spread(forward).padStart(4)}   ` +
      `backward ${(backward.median * 1e3).toFixed(2).padStart(7)} ms ${gflops(2 * flops, backward.median).toFixed(1).padStart(6)} GFLOP/s ` +
      `${spread(backward).padStart(4)}   fwd+bwd ${gflops(3 * flops, both).toFixed(1).padStart(6)} GFLOP/s ` +
      `(${((gflops(3 * flops, both) / peak) * 100).toFixed(0)}% of peak)`);
    if (layer.name !== 'conv1') (totalFlops += 3 * flops), (totalSeconds += both);
    for (const tensor of [x, w, b, y, dy, dx, dw, db]) tensor.dispose();
  }
  const rate = gflops(totalFlops, totalSeconds);
  console.log(`  conv2.. fwd+bwd together: ${rate.toFixed(1)} GFLOP/s = ${((rate / peak) * 100).toFixed(0)}% of peak`);
}

/** Prints the machine, the FMA peak, the GEMM shapes against OpenBLAS, and AlexNet's convolutions. */
export async function run(): Promise<void> {
  const cpu = device('cpu');
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical cores; cudnet device: ${cpu.description}`);
  const peak = await entries.benchFmaPeak(1.0);
  console.log(`FP32 FMA peak (all threads of the CPU device): ${peak.toFixed(1)} GFLOP/s`);
  await benchGemm(peak);
  await benchConvolutions(peak, 'AlexNet', alexnet, 16);
  await benchConvolutions(peak, 'LeNet', lenet, 64);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
