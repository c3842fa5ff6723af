// gpu-check.ts — the GPU check (`npm run gpu:check -- [--rehearse] <report-folder>`, or the bundle's run.sh):
// prints what the machine has (nvidia-smi, driver, CUDA, cuDNN, cuBLAS, GPU, Node), compiles our C API
// declarations against the real headers, runs the CUDA tests (every op against the CPU), trains LeNet on
// MNIST, times AlexNet (forward+backward and the whole train step, fp32 and TF32) beside PyTorch on the
// same card, lists the cuDNN algorithm picked per layer against the fastest, and writes report.json and
// report.md. --rehearse runs every step the same way with the CPU standing in for the GPU, so that every
// command and parser is exercised on machines without one; steps that only a GPU can answer say
// "skipped: no GPU" with the reason. Every step has a time limit and never fakes a result.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cudaUnavailableReason, devices } from '../lib/index.js';
import { native } from '../lib/native.js';
import {
  agreementFigure, algorithmPicks, jsonDocument, parsePytorchTiming, parseTimeReport, ratios, reportMarkdown,
  summarizeTrainingLog, type NetTiming, type PytorchTiming, type Report, type Status, type Step,
} from './gpu-check-report.js';

const USAGE = `Usage: gpu-check [--rehearse] [report-folder]

Runs cudnet's GPU check and writes report.json and report.md into report-folder (default: gpu-report).
  --rehearse  run every step with the CPU standing in for the GPU (for machines without one)
  --help      this text`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = args.filter((arg) => arg.startsWith('-') && arg !== '--rehearse');
if (unknown.length > 0) {
  console.error(`gpu-check: unknown option ${unknown.join(' ')}\n${USAGE}`);
  process.exit(2);
}
const rehearse = args.includes('--rehearse');
const reportFolder = resolve(args.find((arg) => !arg.startsWith('-')) ?? 'gpu-report');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');  // dist/scripts → package root
const cli = join(root, 'dist/lib/cli/main.js');
const target = rehearse ? 'cpu' : 'cuda:0';
/** AlexNet at batch 128 on a GPU; a rehearsal runs the same commands small, for the CPU's sake. */
const alexnet = rehearse ? { batch: 8, iterations: 2 } : { batch: 128, iterations: 20 };
const precisions = rehearse ? ['fp32'] : ['fp32', 'tf32'];
const noGpu = 'skipped: no GPU (rehearsal: the CPU stands in)';
const work = mkdtempSync(join(tmpdir(), 'cudnet-gpu-check-'));
const steps: Step[] = [];
const figures: Report['figures'] = {};
const versions: Record<string, string> = {};

/** Runs a command with a time limit; never throws. */
function run(command: string, commandArgs: string[], timeoutSeconds: number, env: NodeJS.ProcessEnv = {}) {
  const started = Date.now();
  const result = spawnSync(command, commandArgs, {
    cwd: root, encoding: 'utf8', timeout: timeoutSeconds * 1000, maxBuffer: 256 << 20, env: { ...process.env, ...env },
  });
  const timedOut = result.error !== undefined && /ETIMEDOUT/.test(String(result.error));
  return {
    ok: result.status === 0, status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '',
    error: timedOut ? `timed out after ${timeoutSeconds} s` : result.error ? String(result.error) : '',
    seconds: (Date.now() - started) / 1000,
  };
}
type Run = ReturnType<typeof run>;
const why = (result: Run) => result.error || `exit ${result.status}: ${tail(result.stderr || result.stdout, 3)}`;
const tail = (text: string, lines = 40) => text.trim().split('\n').slice(-lines).join('\n');

type Outcome = { status: Status; summary: string; detail?: unknown };

async function step(name: string, body: () => Promise<Outcome> | Outcome) {
  const started = Date.now();
  console.log(`\n=== ${name}`);
  let outcome: Outcome;
  try {
    outcome = await body();
  } catch (error) {
    outcome = { status: 'fail', summary: `threw: ${(error as Error).message}` };
  }
  const record = { name, seconds: (Date.now() - started) / 1000, ...outcome };
  steps.push(record);
  console.log(`--- ${name}: ${record.status} (${record.seconds.toFixed(1)} s) ${record.summary}`);
}

// ---- what the machine has ----------------------------------------------------------------------------
interface Diagnostics {
  deviceCount: number; whyNot: string; kernels: boolean; devices: string[];
  driver: { version: number; library: { loadedFrom: string } };
  cudnn: { version?: string; library: { loadedFrom: string } };
  cublas: { version?: number; library: { loadedFrom: string } };
}

function environment(): Outcome {
  const diagnostics = JSON.parse((native as unknown as { cudaDiagnostics(): string }).cudaDiagnostics()) as Diagnostics;
  const cudaVersion = (v: number) => v > 0 ? `${Math.floor(v / 1000)}.${Math.floor(v % 1000 / 10)}` : 'none';
  const cublas = diagnostics.cublas.version;
  versions.node = process.version;
  versions.cpu = `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`;
  versions['driver (CUDA version it supports)'] = `${cudaVersion(diagnostics.driver.version)} ${diagnostics.driver.library.loadedFrom || '(libcuda.so.1 not found)'}`;
  versions.cuDNN = `${diagnostics.cudnn.version ?? 'none'} ${diagnostics.cudnn.library.loadedFrom}`.trim();
  versions.cuBLAS = cublas ? `${Math.floor(cublas / 10000)}.${Math.floor(cublas / 100) % 100}.${cublas % 100} ${diagnostics.cublas.library.loadedFrom}` : 'none';
  versions.GPU = diagnostics.devices.join('; ') || 'none';
  versions['CUDA kernels in the addon'] = diagnostics.kernels ? 'yes' : 'no (built without nvcc)';
  const smi = run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], 30);
  if (smi.ok) versions['nvidia-smi'] = smi.stdout.trim();
  for (const [name, value] of Object.entries(versions)) console.log(`${name}: ${value}`);
  const gpus = devices().filter((name) => name.startsWith('cuda:'));
  if (rehearse) {
    return { status: 'ok', summary: `devices ${devices().join(', ')}; CUDA: ${gpus.length ? gpus.join(', ') : 'none: ' + cudaUnavailableReason().split('\n')[0]}`, detail: diagnostics };
  }
  if (gpus.length === 0) console.log(cudaUnavailableReason());
  return gpus.length > 0
    ? { status: 'ok', summary: `${gpus.join(', ')}: ${versions.GPU}`, detail: diagnostics }
    : { status: 'fail', summary: `no usable CUDA device: ${cudaUnavailableReason().split('\n')[0]}`, detail: diagnostics };
}

// ---- our declarations against the real headers ----------------------------------------------------------
/** site-packages folders: python3's own answer, and the usual prefixes (lib and lib64, pyenv). */
function sitePackages(): string[] {
  const folders: string[] = [];
  const home = process.env.HOME ?? '';
  const prefixes = ['/usr', '/usr/local', `${home}/.local`, process.env.VIRTUAL_ENV, process.env.CONDA_PREFIX,
    ...(existsSync(`${home}/.pyenv/versions`) ? readdirSync(`${home}/.pyenv/versions`).map((v) => `${home}/.pyenv/versions/${v}`) : [])];
  for (const prefix of prefixes) {
    for (const lib of ['lib', 'lib64']) {
      const base = `${prefix}/${lib}`;
      if (!prefix || !existsSync(base)) continue;
      for (const python of readdirSync(base).filter((name) => name.startsWith('python3')))
        for (const kind of ['site-packages', 'dist-packages']) folders.push(join(base, python, kind));
    }
  }
  const reported = run('python3', ['-c', 'import site; print("\\n".join(site.getsitepackages() + [site.getusersitepackages()]))'], 30);
  if (reported.ok) folders.push(...reported.stdout.split('\n').map((line) => line.trim()).filter(Boolean));
  return [...new Set(folders)].filter((folder) => existsSync(folder));
}

function includeFolders(): string[] {
  const folders = ['/usr/local/cuda/include'];
  for (const site of sitePackages()) {
    const nvidia = join(site, 'nvidia');
    if (existsSync(nvidia)) for (const name of readdirSync(nvidia)) folders.push(join(nvidia, name, 'include'));
  }
  return folders.filter((folder) => existsSync(folder));
}

function conformance(): Outcome {
  const script = join(root, 'tools/conformance/check.sh');
  if (!existsSync(script)) return { status: 'fail', summary: 'tools/conformance/check.sh is missing' };
  if (!run('g++', ['--version'], 30).ok) return { status: 'skipped', summary: 'skipped: no g++ on this machine to compile the check' };
  const folders = includeFolders();
  if (!folders.some((folder) => existsSync(join(folder, 'cuda.h'))))
    return { status: 'skipped', summary: `skipped: no cuda.h found (looked in ${folders.join(', ') || '/usr/local/cuda/include'})` };
  const result = run('bash', [script, ...folders], 180, { CUDNET_NATIVE: join(root, 'native') });
  console.log(tail(result.stdout + result.stderr, 30));
  const found = result.stdout.match(/checked: .*/g)?.join('; ') ?? '';
  const cudaLibrariesChecked = /cuDNN \d/.test(result.stdout) && /cuBLAS \d/.test(result.stdout);
  if (!result.ok) return { status: 'fail', summary: `our declarations DIFFER from the real headers: ${why(result)}`, detail: tail(result.stdout + result.stderr, 60) };
  if (!cudaLibrariesChecked && rehearse)
    return { status: 'ok', summary: `driver declarations match cuda.h; cuDNN and cuBLAS headers are not on this machine (${found || 'see detail'})`, detail: tail(result.stdout, 60) };
  return { status: cudaLibrariesChecked ? 'ok' : 'fail', summary: cudaLibrariesChecked ? `match: ${found}` : `cuDNN or cuBLAS headers not found: ${found}`, detail: tail(result.stdout, 60) };
}

// ---- tests: the whole tap suite in a checkout; the compiled CUDA tests in a bundle ----------------------
const bundledTests = join(root, 'dist/test');  // compiled by gpu-bundle, run with its small tap stand-in
const tap = join(root, 'node_modules/.bin/tap');

interface TestRun { ok: boolean; status: number | null; stdout: string; stderr: string }

/** Runs test files (all of test/cuda by default) with the bundle's tap stand-in, or tap in a checkout. */
function runTests(env: NodeJS.ProcessEnv, only?: string): TestRun | undefined {
  if (existsSync(bundledTests)) {
    const files = readdirSync(bundledTests, { recursive: true }).map(String)
      .filter((f) => f.endsWith('.test.js') && (!only || f.endsWith(`/${only}.test.js`))).sort();
    const runs = files.map((file) => {
      console.log(`--- ${file}`);
      return run(process.execPath, ['--expose-gc', join(bundledTests, file)], 300, env);
    });
    return { ok: runs.every((r) => r.ok), status: runs.find((r) => !r.ok)?.status ?? 0,
      stdout: runs.map((r) => r.stdout).join('\n'), stderr: runs.map((r) => r.stderr + (r.error ? `\n${r.error}` : '')).join('\n') };
  }
  if (existsSync(tap)) {
    const files = only ? [`test/cuda/${only}.test.ts`] : rehearse ? ['test/cuda', 'test/ops', 'test/tensor.test.ts'] : [];
    return run(tap, ['--reporter=terse', ...files], 480, env);
  }
  return undefined;
}

function tests(): Outcome {
  const standIn = rehearse ? { CUDNET_CROSS_CHECK_DEVICE: 'cpu' } : {};
  const fp32File = join(work, 'agreement-fp32.json');
  const tf32File = join(work, 'agreement-tf32.json');
  const result = runTests({ CUDNET_CROSS_CHECK_REPORT: fp32File, ...standIn });
  if (result === undefined) return { status: 'fail', summary: 'neither the bundled CUDA tests nor tap is here' };
  console.log(tail(result.stdout + result.stderr, 60));
  // The cross-check again with TF32 tensor cores allowed on the GPU side (bar 1e-3).
  const tf32 = runTests({ CUDNET_CROSS_CHECK_REPORT: tf32File, CUDNET_CROSS_CHECK_TF32: '1', ...standIn }, 'cross-check');
  if (tf32) console.log(tail(tf32.stdout + tf32.stderr, 10));
  const failed = (text: string) => /(^|\n)\s*not ok /.test(text);
  const skips = (result.stdout.match(/# SKIP/g) ?? []).length;
  const passed = (result.stdout.match(/^\s*ok /gm) ?? []).length;
  const notOk = (result.stdout.match(/^\s*not ok /gm) ?? []).length;
  if (existsSync(fp32File)) figures.agreement = agreementFigure(JSON.parse(readFileSync(fp32File, 'utf8')), 'fp32');
  if (existsSync(tf32File)) figures.agreementTf32 = agreementFigure(JSON.parse(readFileSync(tf32File, 'utf8')), 'tf32');
  const problems = [
    ...(result.ok && !failed(result.stdout) ? [] : [`exit ${result.status}${failed(result.stdout) ? ', a test failed' : ''}`]),
    ...(tf32 && tf32.ok && !failed(tf32.stdout) ? [] : ['the TF32 cross-check failed']),
    ...(figures.agreement ? [] : ['no per-op agreement written']),
    ...(figures.agreementTf32 ? [] : ['no TF32 per-op agreement written']),
  ];
  const worst = (figure: typeof figures.agreement) => figure?.worst[0]
    ? `${figure.worst[0].relativeError.toExponential(2)} (${figure.worst[0].name}: ${figure.worst[0].output})` : '-';
  return {
    status: problems.length === 0 ? 'ok' : 'fail',
    summary: `${problems.length === 0 ? 'all passed' : problems.join(', ')} (${passed} ok, ${notOk} not ok); worst op agreement fp32 ${worst(figures.agreement)}, ` +
      `tf32 ${worst(figures.agreementTf32)} over ${figures.agreement?.count ?? 0} outputs${skips ? `; ${skips} skipped` : ''}`,
    detail: tail(result.stdout + result.stderr, 200),
  };
}

// ---- LeNet on MNIST, 10 epochs ----------------------------------------------------------------------
function training(): Outcome {
  const output = join(work, 'lenet');
  const result = run(process.execPath, [cli, 'train', '--device', target, '--epochs', '10', '--output', output], 300);
  const logFile = join(output, 'log.jsonl');
  if (!existsSync(logFile)) return { status: 'fail', summary: `no log.jsonl: ${why(result)}`, detail: tail(result.stderr) };
  const summary = summarizeTrainingLog(readFileSync(logFile, 'utf8'));
  figures.lenet = summary;
  const accuracy = summary.finalAccuracy;
  const grew = summary.memory !== undefined && summary.memory.grewBytes > 0;
  const ok = result.ok && accuracy !== undefined && accuracy >= 0.965 && summary.memory !== undefined && !grew;
  return {
    status: ok ? 'ok' : 'fail',
    summary: `held-out accuracy ${accuracy?.toFixed(4) ?? 'none'} (bar 0.965) in ${summary.seconds?.toFixed(1) ?? '?'} s; memory ` +
      (summary.memory ? `${grew ? `GREW by ${summary.memory.grewBytes} bytes` : 'flat'} after the first record, peak ${(summary.memory.peakBytes / 2 ** 20).toFixed(1)} MiB` : 'not logged') +
      (result.ok ? '' : `; ${why(result)}`),
    detail: { ...summary, stderr: tail(result.stderr, 20) },
  };
}

// ---- AlexNet: cudnet and PyTorch on the same device, the same batch ---------------------------------------
const cudnetTimings: NetTiming[] = [];

function cudnetTime(precision: string): Outcome {
  const result = run(process.execPath, [cli, 'time', '--network', 'alexnet', '--batch-size', String(alexnet.batch),
    '--iterations', String(alexnet.iterations), '--device', target, '--precision', precision, '--json'], 300);
  if (!result.ok) return { status: 'fail', summary: why(result), detail: tail(result.stderr) };
  const timing = parseTimeReport(result.stdout);
  cudnetTimings.push(timing);
  return { status: 'ok', summary: `batch ${timing.batchSize}: forward+backward ${timing.forwardBackwardMs.toFixed(1)} ms, train step ${timing.trainStepMs.toFixed(1)} ms`, detail: jsonDocument(result.stdout) };
}

const PYTORCH_ALEXNET = String.raw`
import json, statistics, sys, time, torch, torch.nn as nn
device_name, batch, iterations, precisions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(',')
cuda = device_name == 'cuda'
def alexnet():  # Caffe's bvlc_alexnet (groups 2, LRN), as cudnet builds it
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(True), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(True), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(True), nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(True), nn.MaxPool2d(3, 2, ceil_mode=True), nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, 1000))
def timed(body):
    if cuda:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record(); body(); end.record(); torch.cuda.synchronize()
        return start.elapsed_time(end)
    start = time.perf_counter(); body(); return (time.perf_counter() - start) * 1000
def measure(tf32):
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
    device = torch.device(device_name)
    model = alexnet().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, 227, 227, device=device); labels = torch.randint(0, 1000, (batch,), device=device)
    loss_fn = nn.CrossEntropyLoss()
    def forward_backward():
        optimizer.zero_grad(set_to_none=False)
        loss_fn(model(x), labels).backward()
    def train_step():
        forward_backward(); optimizer.step()
    for _ in range(max(2, iterations // 3)): train_step()
    both = [timed(forward_backward) for _ in range(iterations)]
    steps = [timed(train_step) for _ in range(iterations)]
    return {'forwardBackwardMs': statistics.median(both), 'trainStepMs': statistics.median(steps),
            'trainStepMinMs': min(steps), 'trainStepMaxMs': max(steps)}
print(json.dumps({'torch': torch.__version__, 'cudnn': torch.backends.cudnn.version() if cuda else None,
                  'device': torch.cuda.get_device_name() if cuda else 'cpu (%d threads)' % torch.get_num_threads(),
                  'timings': {p: measure(p == 'tf32') for p in precisions}}))
`;

let pytorch: PytorchTiming | undefined;

function pytorchTime(): Outcome {
  const probe = run('python3', ['-c', rehearse ? 'import torch' : 'import torch; assert torch.cuda.is_available()'], 120);
  if (!probe.ok) {
    const reason = /ModuleNotFoundError|No module named/.test(probe.stderr) ? 'PyTorch is not installed' : rehearse ? 'python3 with PyTorch is not on this machine' : 'PyTorch cannot use the GPU here';
    return { status: rehearse ? 'skipped' : 'fail', summary: `${rehearse ? 'skipped: ' : ''}${reason} (${tail(probe.stderr || probe.error, 1)})` };
  }
  const result = run('python3', ['-c', PYTORCH_ALEXNET, rehearse ? 'cpu' : 'cuda', String(alexnet.batch), String(alexnet.iterations), precisions.join(',')], 300);
  if (!result.ok) return { status: 'fail', summary: `the PyTorch timing failed: ${why(result)}`, detail: tail(result.stderr) };
  pytorch = parsePytorchTiming(result.stdout);
  const figures = Object.entries(pytorch.timings).map(([p, t]) => `${p} train step ${t.trainStepMs.toFixed(1)} ms`).join(', ');
  return { status: 'ok', summary: `PyTorch ${pytorch.torch} on ${pytorch.device}, batch ${alexnet.batch}: ${figures}`, detail: pytorch };
}

// ---- cuDNN's algorithms: cudnet's pick against the fastest listed ----------------------------------------
function algorithms(): Outcome {
  const file = join(work, 'algorithms.json');
  const result = run(process.execPath, [cli, 'bench', '--network', 'alexnet', '--device', target, '--batch-sizes', String(alexnet.batch),
    '--iterations', '2', '--warmup', '1', '--algorithms', '--json', file], 300);
  if (!result.ok || !existsSync(file)) return { status: 'fail', summary: `cudnet bench --algorithms failed: ${why(result)}`, detail: tail(result.stderr) };
  const picks = algorithmPicks(JSON.parse(readFileSync(file, 'utf8')));
  figures.algorithms = picks;
  if (picks.kind === 'cpu') return { status: rehearse ? 'skipped' : 'fail', summary: `${rehearse ? noGpu : 'no GPU'}: ${picks.note}` };
  const differ = picks.picks.filter((p) => p.why !== 'the fastest');
  return { status: 'ok', summary: `${picks.picks.length} picks; ${differ.length} differ from the fastest listed${differ.length ? ` (${[...new Set(differ.map((d) => d.why))].join('; ')})` : ''}`, detail: picks };
}

// ---- report -------------------------------------------------------------------------------------------
function writeReport(): boolean {
  if (cudnetTimings.length > 0) figures.alexnet = { cudnet: cudnetTimings, pytorch, ratios: ratios(cudnetTimings, pytorch) };
  const ok = steps.every((s) => s.status !== 'fail');
  const report: Report = { date: new Date().toISOString(), mode: rehearse ? 'rehearsal' : 'gpu', node: process.version, versions, steps, figures, ok };
  mkdirSync(reportFolder, { recursive: true });
  writeFileSync(join(reportFolder, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = reportMarkdown(report);
  writeFileSync(join(reportFolder, 'report.md'), markdown);
  console.log(`\n${markdown}\nreport: ${join(reportFolder, 'report.json')} and report.md`);
  return ok;
}

await step('environment', environment);
await step('declarations conform to the real headers', conformance);
await step('tests (every op on the GPU, and against the CPU)', tests);
await step('LeNet on MNIST, 10 epochs', training);
for (const precision of precisions) await step(`cudnet AlexNet time, ${precision}`, () => cudnetTime(precision));
if (rehearse) steps.push({ name: 'cudnet AlexNet time, tf32', status: 'skipped', seconds: 0, summary: `${noGpu}: a CPU computes in fp32` });
await step('PyTorch AlexNet time', pytorchTime);
await step('cuDNN algorithm per layer', algorithms);
const ok = writeReport();
rmSync(work, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;
