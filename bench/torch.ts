// torch.ts — `npm run bench -- torch`: LeNet (batch 64) and AlexNet (batch 16) training iterations on the
// CPU, timed by cudnet and by PyTorch (Debian's python3-torch, when installed) in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../lib/cli/args.js';
import { TIME_FLAGS, timeNetwork, type TimeReport } from '../lib/cli/time.js';
import { packageRoot } from '../lib/index.js';

interface TorchTimes { forwardMs: number; backwardMs: number; updateMs: number; iterationMs: number; forwardBackwardMs: number }

async function cudnetTimes(network: string, batchSize: number, iterations: number): Promise<TimeReport> {
  const { flags } = parseFlags(['--network', network, '--batch-size', String(batchSize), '--iterations', String(iterations), '--device', 'cpu'], TIME_FLAGS);
  return timeNetwork(flags);
}

/** PyTorch's timings from bench/pytorch_lenet_alexnet.py, or why there are none. */
function torchTimes(python: string, threads: number): { torch: string; lenet: TorchTimes; alexnet: TorchTimes } | string {
  if (!existsSync(python)) return `${python} not found`;
  const script = join(packageRoot(), 'bench', 'pytorch_lenet_alexnet.py');
  const result = spawnSync(python, [script, String(threads)], { encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) return `PyTorch did not run: ${(result.stderr || result.error?.message || '').trim().split('\n').at(-1)}`;
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

function row(label: string, ours: number, theirs: number | undefined): string {
  const ratio = theirs === undefined ? '' : `   PyTorch ${theirs.toFixed(2).padStart(8)} ms   cudnet/PyTorch ${(ours / theirs).toFixed(2)}`;
  return `  ${label.padEnd(40)} cudnet ${ours.toFixed(2).padStart(8)} ms${ratio}`;
}

export async function run(args: string[]): Promise<void> {
  const python = args[0] ?? '/usr/bin/python3';
  const threads = cpus().length;
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${threads} logical cores; medians after warm-up`);
  const lenet = await cudnetTimes('lenet', 64, 50);
  const alexnet = await cudnetTimes('alexnet', 16, 5);
  const torch = torchTimes(python, threads);
  const theirs = typeof torch === 'string' ? undefined : torch;
  console.log(theirs ? `PyTorch ${theirs.torch}, ${threads} threads, same run` : `PyTorch: ${torch as string}`);
  console.log(row('LeNet b64 forward+backward', lenet.iterationForwardMs + lenet.iterationBackwardMs, theirs?.lenet.forwardBackwardMs));
  console.log(row('LeNet b64 train step (fwd+bwd+update)', lenet.iterationMs, theirs?.lenet.iterationMs));
  console.log(row('AlexNet b16 forward+backward', alexnet.iterationForwardMs + alexnet.iterationBackwardMs, theirs?.alexnet.forwardBackwardMs));
  console.log(row('AlexNet b16 train step (fwd+bwd+update)', alexnet.iterationMs, theirs?.alexnet.iterationMs));
}
