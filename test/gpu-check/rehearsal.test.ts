// rehearsal.test.ts — the GPU check end to end on this machine, as it runs on a bare GPU server: the bundle
// is built (`npm run gpu:bundle`), then its run.sh --rehearse runs with no node on PATH and a TMPDIR that
// does not exist (so Node is unpacked beside the bundle), the report folder given relative to the caller.
// Every step must say ok, or skipped for a reason that only a GPU (or PyTorch, or the real headers) lifts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import t from 'tap';
import type { Report } from '../../scripts/gpu-check-report.js';
import { native } from '../../lib/native.js';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'cudnet-rehearsal-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** A PATH of links to every program on this PATH except Node and its package managers. */
function pathWithoutNode(): string {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const hidden = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) continue;
    for (const name of readdirSync(folder)) {
      if (hidden.has(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(folder, name), join(bin, name));
    }
  }
  return bin;
}

const kernels = (JSON.parse((native as unknown as { cudaDiagnostics(): string }).cudaDiagnostics()) as { kernels: boolean }).kernels;

t.test('npm run gpu:bundle, then run.sh --rehearse with no node on PATH', async (t) => {
  const bundle = join(work, 'bundle');
  // The fastest compression: the test runs on every commit; the size bar holds at the default level too.
  const made = spawnSync(process.execPath, [join(root, 'scripts/gpu-bundle.mjs'), '--out', bundle, '--xz-level', '0', ...(kernels ? [] : ['--allow-no-kernels'])],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  t.equal(made.status, 0, `the bundle is made${made.status === 0 ? '' : `: ${made.stderr.slice(-2000)}`}`);
  if (made.status !== 0) return;
  const about = JSON.parse(readFileSync(join(bundle, 'bundle.json'), 'utf8')) as { bytes: number; glibc: string; kernels: boolean };
  t.ok(about.bytes < 64 * 2 ** 20, `the bundle is under 64 MiB (${(about.bytes / 2 ** 20).toFixed(1)} MiB)`);
  t.match(about.glibc, /^2\.\d+$/, 'the glibc it needs is recorded');
  t.notOk(existsSync(join(bundle, 'node_modules/sharp')) || existsSync(join(bundle, 'node_modules/lmdb')), 'sharp and lmdb stay out');
  t.match(readFileSync(join(bundle, 'run.sh'), 'utf8'), new RegExp(`glibc ${about.glibc.replace('.', '\\.')} or newer`), 'run.sh states what it needs');

  const caller = join(work, 'caller');
  mkdirSync(caller);
  const env = { PATH: pathWithoutNode(), HOME: work, TMPDIR: join(work, 'no-such-folder') };
  const help = spawnSync('sh', [join(bundle, 'run.sh'), '--help'], { cwd: caller, env, encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /sh run\.sh --rehearse \[report-folder\]/);
  const lookup = spawnSync('sh', ['-c', 'command -v node'], { env, encoding: 'utf8' });
  t.ok(lookup.status !== 0 && lookup.stdout === '', 'no node on the PATH the check runs with');

  const run = spawnSync('sh', [join(bundle, 'run.sh'), '--rehearse', 'report'], { cwd: caller, env, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 540_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  t.equal(run.status, 0, `run.sh --rehearse exits 0${run.status === 0 ? '' : `:\n${output.slice(-4000)}`}`);
  t.match(output, new RegExp(`Node ${process.version} in ${bundle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/cudnet-gpu-check\\.`), 'Node is unpacked beside the bundle when TMPDIR cannot be used');
  const reportFile = join(caller, 'report/report.json');
  t.ok(existsSync(reportFile), 'the report is written relative to the caller');
  t.ok(existsSync(join(caller, 'report/report.md')));
  if (!existsSync(reportFile)) return;
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
  t.equal(report.mode, 'rehearsal');
  t.equal(report.ok, true);
  const status = Object.fromEntries(report.steps.map((step) => [step.name, step]));
  for (const name of ['environment', 'tests (every op on the GPU, and against the CPU)', 'LeNet on MNIST, 10 epochs', 'cudnet AlexNet time, fp32'])
    t.equal(status[name]?.status, 'ok', `${name}: ${status[name]?.summary}`);
  for (const name of ['cudnet AlexNet time, tf32', 'cuDNN algorithm per layer'])
    t.match(status[name], { status: 'skipped', summary: /^skipped: no GPU/ }, `${name} is a GPU-only step`);
  const declarations = status['declarations conform to the real headers'];
  if (existsSync('/usr/local/cuda/include/cuda.h')) t.equal(declarations?.status, 'ok', `declarations: ${declarations?.summary}`);
  else t.match(declarations, { status: 'skipped', summary: /no cuda\.h/ });
  const pytorch = status['PyTorch AlexNet time'];
  const hasTorch = spawnSync('python3', ['-c', 'import torch']).status === 0;
  if (hasTorch) t.equal(pytorch?.status, 'ok', `PyTorch: ${pytorch?.summary}`);
  else t.match(pytorch, { status: 'skipped', summary: /PyTorch is not installed/ });

  t.ok(report.figures.agreement && report.figures.agreement.count > 100, 'every op of the cross-check is in the report');
  t.equal(report.figures.agreement?.standIn, true);
  t.ok((report.figures.lenet?.finalAccuracy ?? 0) >= 0.965, `LeNet accuracy ${report.figures.lenet?.finalAccuracy}`);
  t.equal(report.figures.lenet?.memory?.grewBytes, 0, 'memory is flat once both nets ran');
  t.equal(report.figures.alexnet?.cudnet[0]?.batchSize, 8);
  if (hasTorch) t.ok(report.figures.alexnet?.ratios.fp32 !== undefined, 'the PyTorch ratio is computed');
  t.match(report.versions, { node: process.version, 'CUDA kernels in the addon': kernels ? 'yes' : /^no/ });
  t.match(readFileSync(join(caller, 'report/report.md'), 'utf8'), /## Agreement with the CPU[\s\S]*## LeNet on MNIST[\s\S]*## AlexNet/);
  t.same(readdirSync(bundle).filter((name) => name.startsWith('cudnet-gpu-check.')), [], 'the scratch folder is removed');
});

t.test('gpu-bundle --help prints the usage and builds nothing; an unknown option is a usage error', async (t) => {
  const out = join(work, 'help-bundle');
  const help = spawnSync(process.execPath, [join(root, 'scripts/gpu-bundle.mjs'), '--help', '--out', out], { cwd: root, encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /^Usage: npm run gpu:bundle/);
  t.match(help.stdout, /--allow-no-kernels/);
  t.notOk(existsSync(out), 'nothing was built');
  const wrong = spawnSync(process.execPath, [join(root, 'scripts/gpu-bundle.mjs'), '--outt', out], { cwd: root, encoding: 'utf8' });
  t.equal(wrong.status, 2);
  t.match(wrong.stderr, /unknown argument "--outt"/);
  t.notOk(existsSync(out));
});
