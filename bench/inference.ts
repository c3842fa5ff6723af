// inference.ts — AlexNet (random weights) served through loadModel: images/s at batch 16 and single-image latency, with the machine printed.
//
//   node dist/bench/inference.js [--device cpu] [--rounds 10] [--repeats 30]
//
// Bars (CPU): >= 200 images/s at batch 16, <= 15 ms for one image. onnxruntime-node is the baseline
// in the same run when it can be imported (it is not a dependency: `ONNXRUNTIME_NODE_INSTALL=skip
// npm install --no-save onnxruntime-node`) and Python with torch can write the same AlexNet as ONNX
// (bench/alexnet_onnx.py; `--python`, default /usr/bin/python3); otherwise it is skipped with a note.
// Beside each figure, the worst event-loop delay while it was measured.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { builtinModelPath } from '../lib/caffe/index.js';
import { device as resolveDevice, type DeviceName } from '../lib/device.js';
import { loadModel, type Model } from '../lib/inference/index.js';
import { buildDeployNet } from '../lib/inference/net-factory.js';

interface Spread {
  median: number;
  min: number;
  p90: number;
  max: number;
}

function spread(samples: number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), min: sorted[0]!, p90: at(0.9), max: sorted[sorted.length - 1]! };
}

const format = (s: Spread, unit: string) =>
  `median ${s.median.toFixed(2)} ${unit} (min ${s.min.toFixed(2)}, p90 ${s.p90.toFixed(2)}, max ${s.max.toFixed(2)})`;

/** A seeded uniform generator for the random weights (mulberry32). */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** AlexNet's deploy net with random weights (scaled by fan-in so activations stay finite), as .caffemodel bytes. */
async function alexnetWeights(deploy: string, deviceName: DeviceName): Promise<Uint8Array> {
  const net = buildDeployNet(deploy, resolveDevice(deviceName), 'alexnet_deploy.prototxt');
  const random = uniform(1);
  for (const blobs of net.params.values()) {
    for (const blob of blobs) {
      const fanIn = blob.shape.slice(1).reduce((a, b) => a * b, 1);
      const bound = Math.sqrt(3 / fanIn);
      blob.data.write(Float32Array.from({ length: blob.data.size }, () => (random() * 2 - 1) * bound));
    }
  }
  const bytes = await net.toCaffemodel();
  net.dispose();
  return bytes;
}

/** `run` timed `count` times after `warmup` untimed runs: milliseconds each, or `items` per second when given. */
async function timed(run: () => Promise<unknown>, count: number, warmup: number, items?: number): Promise<Spread> {
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await run();
    const ms = performance.now() - start;
    samples.push(items === undefined ? ms : items / (ms / 1000));
  }
  return spread(samples);
}

/** Single-image latency: classify one preprocessed input at a time on a batch-1 model. */
const latency = (model: Model, input: Float32Array, repeats: number) => timed(() => model.classify(input), repeats, 3);

/** Throughput: rounds of `batch` concurrent calls, each round one full batch; images/s per round. */
const throughput = (model: Model, inputs: (Float32Array | Buffer)[], rounds: number) =>
  timed(() => Promise.all(inputs.map((input) => model.classify(input))), rounds, 1, inputs.length);

async function randomJpeg(seed: number): Promise<Buffer> {
  const random = uniform(seed);
  const pixels = Buffer.alloc(256 * 256 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return sharp(pixels, { raw: { width: 256, height: 256, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** fn's result and the worst event-loop delay (ms) while it ran. */
async function withLoopDelay<T>(fn: () => Promise<T>): Promise<{ result: T; worstDelayMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const result = await fn();
  histogram.disable();
  return { result, worstDelayMs: histogram.max / 1e6 };
}

interface OrtModule {
  InferenceSession: { create(file: string, options: object): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  env?: { versions?: { common?: string } };
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, unknown>>;
  release?(): Promise<void>;
}

/** onnxruntime-node (2 threads) on the same AlexNet, batch 16 and one image; lines to print. */
async function onnxBaseline(python: string, rounds: number, repeats: number): Promise<string[]> {
  let ort: OrtModule;
  try {
    ort = (await import('onnxruntime-node' as string)) as OrtModule;
  } catch {
    return ['onnxruntime-node is not installed (not a dependency): baseline skipped'];
  }
  if (!existsSync(python)) return [`onnxruntime-node baseline skipped: ${python} not found (it writes the ONNX file)`];
  const folder = await mkdtemp(path.join(os.tmpdir(), 'cudnet-onnx-'));
  try {
    const file = path.join(folder, 'alexnet.onnx');
    const script = fileURLToPath(new URL('../../bench/alexnet_onnx.py', import.meta.url));
    const made = spawnSync(python, [script, file], { encoding: 'utf8', timeout: 300_000 });
    if (made.status !== 0 || !existsSync(file))
      return [`onnxruntime-node baseline skipped: ${python} could not write AlexNet as ONNX (${(made.stderr || made.error?.message || '').trim().split('\n').pop()})`];
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const random = uniform(3);
    const feed = (batch: number) => ({ data: new ort.Tensor('float32', Float32Array.from({ length: batch * 3 * 227 * 227 }, () => random() * 255 - 128), [batch, 3, 227, 227]) });
    const batch16 = feed(16), batch1 = feed(1);
    const throughputRun = await withLoopDelay(() => timed(() => session.run(batch16), rounds, 2, 16));
    const latencyRun = await withLoopDelay(() => timed(() => session.run(batch1), repeats, 3));
    await session.release?.();
    const version = ort.env?.versions?.common ?? '';
    return [
      `onnxruntime-node ${version} (2 threads), same AlexNet as ONNX, batch 16: ${format(throughputRun.result, 'images/s')}; worst event-loop delay ${throughputRun.worstDelayMs.toFixed(1)} ms`,
      `onnxruntime-node one image (batch 1): ${format(latencyRun.result, 'ms')}; worst event-loop delay ${latencyRun.worstDelayMs.toFixed(1)} ms`,
    ];
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export async function run(args: string[] = []): Promise<void> {
  const { values } = parseArgs({
    args, options: {
      device: { type: 'string', default: 'cpu' }, rounds: { type: 'string', default: '10' }, repeats: { type: 'string', default: '30' },
      python: { type: 'string', default: '/usr/bin/python3' },
    },
  });
  const deviceName = values.device as DeviceName;
  const target = resolveDevice(deviceName);
  console.log(`machine: ${os.cpus()[0]?.model} x ${os.cpus().length} threads, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`);
  console.log(`device: ${target.name} — ${target.description}`);
  const deploy = await readFile(builtinModelPath('alexnet_deploy.prototxt'), 'utf8');
  const weights = await alexnetWeights(deploy, deviceName);
  const labels = Array.from({ length: 1000 }, (_, i) => `class ${i}`);
  const source = { deploy: Buffer.from(deploy), weights, labels };

  const batched = await loadModel(source, { device: target, batchSize: 16, maxWaitMs: 2 });
  const random = uniform(2);
  const inputs = Array.from({ length: 16 }, () => Float32Array.from({ length: 3 * 227 * 227 }, () => random() * 255 - 128));
  const images = await Promise.all(Array.from({ length: 16 }, (_, i) => randomJpeg(10 + i)));
  const rounds = Number(values.rounds);
  const preprocessed = await withLoopDelay(() => throughput(batched, inputs, rounds));
  console.log(`AlexNet batch 16, preprocessed inputs: ${format(preprocessed.result, 'images/s')}  [bar >= 200]; worst event-loop delay ${preprocessed.worstDelayMs.toFixed(1)} ms`);
  const fromJpeg = await throughput(batched, images, rounds);
  console.log(`AlexNet batch 16, 256x256 JPEG bytes (decode + resize + mean on the way): ${format(fromJpeg, 'images/s')}`);
  await batched.dispose();

  const single = await loadModel(source, { device: target, batchSize: 1, maxWaitMs: 0 });
  const oneImage = await withLoopDelay(() => latency(single, inputs[0]!, Number(values.repeats)));
  console.log(`AlexNet one image (batch 1): ${format(oneImage.result, 'ms')}  [bar <= 15 ms]; worst event-loop delay ${oneImage.worstDelayMs.toFixed(1)} ms`);
  await single.dispose();
  for (const line of await onnxBaseline(values.python!, rounds, Number(values.repeats))) console.log(line);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run(process.argv.slice(2));
