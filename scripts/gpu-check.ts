// gpu-check.ts — the GPU check (`npm run gpu:check -- <report-folder>`): prints what the machine has
// (nvidia-smi, driver, where cuDNN/cuBLAS were found and their versions, Node), runs the CUDA tests,
// trains LeNet on MNIST, times AlexNet against PyTorch on the same card, and writes report.json and
// report.md. Every step has a time limit; a step that cannot run says why instead of faking a result.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cudaUnavailableReason, devices } from '../lib/index.js';
import { native } from '../lib/native.js';

type Status = 'pass' | 'fail' | 'not available';
interface Step { name: string; status: Status; seconds: number; summary: string; detail?: unknown }

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');  // dist/scripts → package root
const reportFolder = resolve(process.argv[2] ?? 'gpu-report');
const steps: Step[] = [];

/** Runs a command with a time limit; never throws. */
function run(command: string, args: string[], timeoutSeconds: number, env: NodeJS.ProcessEnv = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd: root, encoding: 'utf8', timeout: timeoutSeconds * 1000, maxBuffer: 256 << 20, env: { ...process.env, ...env },
  });
  return {
    ok: result.status === 0, status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '',
    error: result.error ? String(result.error) : '', seconds: (Date.now() - started) / 1000,
  };
}

async function step(name: string, body: () => Promise<Omit<Step, 'name' | 'seconds'>> | Omit<Step, 'name' | 'seconds'>) {
  const started = Date.now();
  console.log(`\n=== ${name}`);
  let outcome: Omit<Step, 'name' | 'seconds'>;
  try {
    outcome = await body();
  } catch (error) {
    outcome = { status: 'fail', summary: `threw: ${(error as Error).message}` };
  }
  const record = { name, seconds: (Date.now() - started) / 1000, ...outcome };
  steps.push(record);
  console.log(`--- ${name}: ${record.status} (${record.seconds.toFixed(1)} s) ${record.summary}`);
  return record;
}

const tail = (text: string, lines = 40) => text.trim().split('\n').slice(-lines).join('\n');

// ---- what the machine has ----------------------------------------------------------------------------
function environment(): Omit<Step, 'name' | 'seconds'> {
  const smi = run('nvidia-smi', [], 30);
  console.log(smi.ok ? smi.stdout : `nvidia-smi: ${smi.error || smi.stderr}`);
  const driver = run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], 30);
  const addon = native as unknown as { cudaDiagnostics?: () => string };
  const diagnostics = addon.cudaDiagnostics ? JSON.parse(addon.cudaDiagnostics()) : null;
  const detail = {
    node: process.version, gpu: driver.stdout.trim(), devices: devices(), cudaUnavailable: cudaUnavailableReason(),
    diagnostics: diagnostics ?? 'the addon does not export cudaDiagnostics() yet',
  };
  console.log(`Node ${process.version}; devices: ${devices().join(', ')}`);
  if (diagnostics) {
    console.log(`driver CUDA ${diagnostics.driver.version}: ${diagnostics.driver.library.loadedFrom}`);
    console.log(`cuDNN ${diagnostics.cudnn.version ?? '-'}: ${diagnostics.cudnn.library.loadedFrom || 'not found'}`);
    console.log(`cuBLAS ${diagnostics.cublas.version ?? '-'}: ${diagnostics.cublas.library.loadedFrom || 'not found'}`);
  }
  if (cudaUnavailableReason()) console.log(cudaUnavailableReason());
  const usable = devices().some((name) => name.startsWith('cuda:'));
  return { status: usable ? 'pass' : 'fail', summary: usable ? driver.stdout.trim() : 'no usable CUDA device', detail };
}

// ---- our declarations against the real headers, where g++ and cuDNN's include/ exist ------------------
/** site-packages folders: the usual prefixes, and whatever python3 reports when it is there. */
function sitePackages(): string[] {
  const folders: string[] = [];
  for (const base of ['/usr/lib', '/usr/local/lib', `${process.env.HOME}/.local/lib`]) {
    if (!existsSync(base)) continue;
    for (const python of readdirSync(base).filter((name) => name.startsWith('python3'))) {
      for (const kind of ['site-packages', 'dist-packages']) folders.push(join(base, python, kind));
    }
  }
  const reported = run('python3', ['-c', 'import site; print("\\n".join(site.getsitepackages() + [site.getusersitepackages()]))'], 30);
  if (reported.ok) folders.push(...reported.stdout.split('\n').map((line) => line.trim()).filter(Boolean));
  return [...new Set(folders)].filter((folder) => existsSync(folder));
}

/** include/ folders of the NVIDIA wheels (nvidia/cudnn/include, nvidia/cu13/include, ...). */
function wheelIncludeFolders(): string[] {
  const folders: string[] = [];
  for (const site of sitePackages()) {
    const nvidia = join(site, 'nvidia');
    if (!existsSync(nvidia)) continue;
    for (const name of readdirSync(nvidia)) folders.push(join(nvidia, name, 'include'));
  }
  return folders;
}

function conformance(): Omit<Step, 'name' | 'seconds'> {
  const source = join(root, 'native/cuda/api/conformance/conformance_check.cc');
  const includeRoots = ['/usr/local/cuda/include', ...wheelIncludeFolders(), '/usr/include'];
  const folders = includeRoots.filter((folder) => existsSync(folder));
  if (!existsSync(source) || !folders.some((f) => existsSync(join(f, 'cuda.h'))))
    return { status: 'not available', summary: 'needs g++, the conformance source and cuda.h' };
  const result = run('g++', ['-std=c++17', '-fsyntax-only', `-I${join(root, 'native')}`, ...folders.map((f) => `-I${f}`), source], 120);
  const cudnn = folders.some((f) => existsSync(join(f, 'cudnn.h')));
  const cublas = folders.some((f) => existsSync(join(f, 'cublas_api.h')));
  return {
    status: result.ok ? 'pass' : 'fail',
    summary: `driver${cudnn ? ' + cuDNN' : ''}${cublas ? ' + cuBLAS' : ''} headers ${result.ok ? 'match' : 'DIFFER'}`,
    detail: { includeFolders: folders, output: tail(result.stderr + result.error) },
  };
}

// ---- tests: the whole tap suite in a checkout; the compiled CUDA tests in a bundle ----------------------
function tests(): Omit<Step, 'name' | 'seconds'> {
  const tap = join(root, 'node_modules/.bin/tap');
  const bundled = join(root, 'dist/test/cuda');  // compiled by gpu-bundle, run with its small tap stand-in
  let result;
  if (existsSync(tap)) {
    result = run(tap, ['--reporter=terse'], 300);
  } else if (existsSync(bundled)) {
    const files = readdirSync(bundled).filter((f) => f.endsWith('.test.js')).map((f) => join(bundled, f));
    const runs = files.map((file) => run(process.execPath, [file], 240));
    result = { ok: runs.every((r) => r.ok), status: runs.find((r) => !r.ok)?.status ?? 0,
      stdout: runs.map((r) => r.stdout).join('\n'), stderr: runs.map((r) => r.stderr).join('\n') };
  } else {
    return { status: 'not available', summary: 'no tap and no compiled tests' };
  }
  console.log(tail(result.stdout + result.stderr, 60));
  const failed = /(^|\n)\s*not ok /.test(result.stdout);
  return { status: result.ok && !failed ? 'pass' : 'fail', summary: result.ok ? 'all tests passed' : `exit ${result.status}`,
    detail: tail(result.stdout + result.stderr, 200) };
}

// ---- LeNet on MNIST, 10 epochs on the GPU --------------------------------------------------------------
function training(): Omit<Step, 'name' | 'seconds'> {
  const cli = join(root, 'dist/lib/cli/main.js');
  if (!existsSync(cli)) return { status: 'not available', summary: 'the training command (dist/lib/cli/main.js) is not built yet' };
  const output = mkdtempSync(join(tmpdir(), 'cudnet-lenet-'));
  const result = run(process.execPath, [cli, 'train', '--device', 'cuda', '--epochs', '10', '--output', output], 240);
  const records = result.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => {
    try { return JSON.parse(line) as Record<string, unknown>; } catch { return null; }
  }).filter((r): r is Record<string, unknown> => r !== null);
  const accuracy = records.map((r) => r.accuracy ?? r.testAccuracy).filter((v) => typeof v === 'number') as number[];
  // A training run must not grow GPU memory after its first iteration.
  const memory = records.map((r) => r.gpuMemoryBytes ?? r.deviceBytes ?? r.reservedBytes).filter((v) => typeof v === 'number') as number[];
  const grew = memory.length > 2 && Math.max(...memory.slice(1)) > memory[1];
  const last = accuracy.at(-1);
  const ok = result.ok && last !== undefined && !grew;
  return {
    status: ok ? 'pass' : 'fail',
    summary: `${records.length} log records; final accuracy ${last ?? 'none'}; memory ${memory.length ? (grew ? 'GREW after iteration 1' : 'flat after iteration 1') : 'not logged'}`,
    detail: { records: records.slice(-20), stderr: tail(result.stderr) },
  };
}

// ---- AlexNet, batch 128, float32: cudnet and PyTorch on the same card ----------------------------------
function medianOf(record: unknown): number | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const r = record as Record<string, unknown>;
  for (const key of ['medianMs', 'median', 'iterationMs', 'milliseconds']) if (typeof r[key] === 'number') return r[key] as number;
  for (const value of Object.values(r)) {
    const nested = medianOf(value);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

function cudnetTime(): Omit<Step, 'name' | 'seconds'> {
  const cli = join(root, 'dist/lib/cli/main.js');
  if (!existsSync(cli)) return { status: 'not available', summary: 'the time command (dist/lib/cli/main.js) is not built yet' };
  const result = run(process.execPath, [cli, 'time', '--network', 'alexnet', '--batch-size', '128', '--device', 'cuda', '--json'], 180);
  const line = result.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  const parsed = line ? JSON.parse(line) : null;
  const median = medianOf(parsed);
  return { status: result.ok && median !== undefined ? 'pass' : 'fail', summary: `median iteration ${median ?? '?'} ms`,
    detail: { result: parsed, median, stderr: tail(result.stderr) } };
}

const PYTORCH_ALEXNET = String.raw`
import json, statistics, sys, torch, torch.nn as nn
def alexnet():  # Caffe's bvlc_alexnet (groups 2, LRN), as cudnet builds it
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(True), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(True), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(True), nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(True), nn.MaxPool2d(3, 2, ceil_mode=True), nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, 1000))
def time(tf32):
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    model = alexnet().cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(128, 3, 227, 227, device='cuda'); labels = torch.randint(0, 1000, (128,), device='cuda')
    loss_fn = nn.CrossEntropyLoss()
    def iteration():
        optimizer.zero_grad(set_to_none=False)
        loss_fn(model(x), labels).backward()
        optimizer.step()
    for _ in range(10): iteration()
    times = []
    for _ in range(30):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record(); iteration(); end.record(); torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return {'medianMs': statistics.median(times), 'minMs': min(times), 'maxMs': max(times)}
print(json.dumps({'torch': torch.__version__, 'cudnn': torch.backends.cudnn.version(), 'device': torch.cuda.get_device_name(),
                  'float32': time(False), 'tf32': time(True)}))
`;

function pytorchTime(): Omit<Step, 'name' | 'seconds'> {
  const probe = run('python3', ['-c', 'import torch; assert torch.cuda.is_available()'], 60);
  if (!probe.ok) return { status: 'not available', summary: 'python3 with CUDA PyTorch is not on this machine' };
  const result = run('python3', ['-c', PYTORCH_ALEXNET], 240);
  const line = result.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!result.ok || !line) return { status: 'fail', summary: 'the PyTorch timing failed', detail: tail(result.stderr) };
  const parsed = JSON.parse(line);
  return { status: 'pass', summary: `PyTorch ${parsed.torch}: float32 ${parsed.float32.medianMs.toFixed(1)} ms, TF32 ${parsed.tf32.medianMs.toFixed(1)} ms`, detail: parsed };
}

// ---- report -------------------------------------------------------------------------------------------
function writeReport(): void {
  mkdirSync(reportFolder, { recursive: true });
  const ours = (steps.find((s) => s.name === 'cudnet AlexNet time')?.detail as { median?: number } | undefined)?.median;
  const theirs = (steps.find((s) => s.name === 'PyTorch AlexNet time')?.detail as { float32?: { medianMs: number } } | undefined)?.float32?.medianMs;
  const ratio = ours !== undefined && theirs !== undefined ? ours / theirs : undefined;
  const report = { date: new Date().toISOString(), node: process.version, steps, alexnetRatioToPytorch: ratio ?? null };
  writeFileSync(join(reportFolder, 'report.json'), JSON.stringify(report, null, 2));
  const lines = ['# cudnet GPU check', '', `${report.date}, Node ${process.version}`, '', '| step | status | seconds | summary |', '|---|---|---|---|',
    ...steps.map((s) => `| ${s.name} | ${s.status} | ${s.seconds.toFixed(1)} | ${s.summary.replace(/\|/g, '/')} |`), '',
    ratio !== undefined ? `AlexNet batch 128 float32: cudnet / PyTorch = ${ratio.toFixed(3)} (below 1 is faster)` : 'AlexNet ratio: not measured'];
  writeFileSync(join(reportFolder, 'report.md'), lines.join('\n') + '\n');
  console.log('\n' + lines.join('\n'));
  console.log(`\nreport: ${join(reportFolder, 'report.json')} and report.md`);
}

await step('environment', environment);
await step('declarations conform to the real headers', conformance);
await step('tests on CUDA', tests);
await step('LeNet on MNIST, 10 epochs', training);
await step('cudnet AlexNet time', cudnetTime);
await step('PyTorch AlexNet time', pytorchTime);
writeReport();
process.exitCode = steps.some((s) => s.status === 'fail') ? 1 : 0;
