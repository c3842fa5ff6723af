// kernels-on-host.test.ts — every CUDA kernel of kernels/*.cu checked without a GPU: g++ compiles the
// kernels unchanged with test/native/cuda_on_host.h (each block's threads as real threads, blocks in
// turn), and test/native's program runs them with native/cuda's launch geometry against plain
// references, plus the convolution algorithm rule of native/cuda/ops/conv_choice.h. The program is
// compiled once per version of its sources (a cache folder keyed by their hash), so `npm test` needs no
// build step; each of its report lines is one assertion here.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const compiler = process.env.CXX ?? 'g++';
// -O1 keeps the compile short; AddressSanitizer turns a kernel's read or write past a buffer into a
// failure instead of a silent wrong number (it adds about a third to the compile, UBSan would double it).
const flags = ['-std=c++17', '-O1', '-pthread', '-fsanitize=address',
  `-I${join(root, 'native')}`, `-I${join(root, 'kernels')}`];
const programSources = ['main.cpp', 'elementwise_on_host.cpp', 'layers_on_host.cpp', 'conv_choice_on_host.cpp'];

/** Every file the program may include: test/native, kernels/ and the native headers. */
async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (folder: string, keep: (name: string) => boolean) => {
    for (const entry of await readdir(join(root, folder), { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path, keep);
      else if (keep(entry.name)) files.push(path);
    }
  };
  await walk('test/native', () => true);
  await walk('kernels', () => true);
  await walk('native/core', (name) => name.endsWith('.h'));
  await walk('native/cuda', (name) => name.endsWith('.h'));
  return files.sort();
}

/** The cache folder for this compiler, these flags and these sources. */
async function cacheFolder(): Promise<string> {
  const hash = createHash('sha256');
  hash.update((await run(compiler, ['--version'])).stdout).update(flags.join(' '));
  for (const file of await sourceFiles()) hash.update(file).update(await readFile(join(root, file)));
  return join(tmpdir(), 'cudnet-kernels-on-host', hash.digest('hex').slice(0, 16));
}

/** Compiles the program (the four files in parallel) unless this version is cached; returns its path and seconds. */
async function compileProgram(): Promise<{ program: string; seconds: number | null }> {
  const folder = await cacheFolder();
  const program = join(folder, 'kernels-on-host');
  if (existsSync(program)) return { program, seconds: null };
  const started = performance.now();
  const work = join(folder, `build-${process.pid}`);
  await mkdir(work, { recursive: true });
  try {
    const objects = await Promise.all(programSources.map(async (source) => {
      const object = join(work, source.replace(/\.cpp$/, '.o'));
      await run(compiler, [...flags, '-c', join(root, 'test/native', source), '-o', object], { maxBuffer: 1 << 24 });
      return object;
    }));
    await run(compiler, [...flags, ...objects, '-o', join(work, 'kernels-on-host')], { maxBuffer: 1 << 24 });
    await rename(join(work, 'kernels-on-host'), program);  // atomic: a concurrent run sees all or nothing
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { program, seconds: (performance.now() - started) / 1000 };
}

interface Check {
  passed: boolean;
  kernel: string;
  what: string;
  error: string;
  tolerance: string;
  problem: string;
}

const LINE = /^(PASS|FAIL) (\w+): (.*); max error (\S+) \(tolerance (\S+)\)(?:: (.*))?$/;

function parseChecks(output: string): Check[] {
  return output.split('\n').flatMap((line) => {
    const match = LINE.exec(line);
    if (!match) return [];
    const [, status, kernel, what, error, tolerance, problem] = match;
    return [{ passed: status === 'PASS', kernel, what, error, tolerance, problem: problem ?? '' }];
  });
}

/** The kernel names of kernels/*.cu, and those native/cuda/kernels.cpp loads. */
async function kernelNames(): Promise<{ defined: string[]; loaded: string[] }> {
  const defined: string[] = [];
  for (const file of await readdir(join(root, 'kernels'))) {
    if (!file.endsWith('.cu')) continue;
    const text = await readFile(join(root, 'kernels', file), 'utf8');
    for (const match of text.matchAll(/extern "C" __global__ void (\w+)\(/g)) defined.push(match[1]);
  }
  const table = (await readFile(join(root, 'native/cuda/kernels.cpp'), 'utf8')).match(/kNames\[\] = \{([^}]*)\}/)?.[1] ?? '';
  const loaded = Array.from(table.matchAll(/"(\w+)"/g), (match) => match[1]);
  return { defined: defined.sort(), loaded: loaded.sort() };
}

const compiled = await compileProgram();
const result = await run(compiled.program, [], { timeout: 300_000, maxBuffer: 1 << 24 }).catch(
  (error: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '', code: error.code }));
const checks = parseChecks(result.stdout);

t.test('the host program ran every check and none failed', async (t) => {
  t.comment(compiled.seconds === null ? 'program cached' : `compiled in ${compiled.seconds.toFixed(1)} s`);
  t.equal(result.stderr, '', 'nothing on stderr (an AddressSanitizer report lands there)');
  t.match(result.stdout, /\n0 failed\n$/, 'the program reports no failure and ran to its end');
  t.ok(checks.length > 80, `${checks.length} checks`);
});

t.test('each check passes', async (t) => {
  for (const check of checks) {
    t.ok(check.passed, `${check.kernel}: ${check.what} — max error ${check.error}, tolerance ${check.tolerance}` +
      (check.problem ? ` — ${check.problem}` : ''));
  }
});

t.test('every kernel of kernels/*.cu is checked, and it is the set native/cuda/kernels.cpp loads', async (t) => {
  const { defined, loaded } = await kernelNames();
  t.same(defined, loaded, 'kernels.cpp names exactly the kernels the .cu files define');
  t.ok(defined.length >= 30, `${defined.length} kernels`);
  for (const kernel of defined) {
    const own = checks.filter((check) => check.kernel === kernel);
    t.ok(own.length > 0 && own.every((check) => check.passed), `${kernel}: ${own.length} passing check(s)`);
  }
});

/** The one check whose description matches `what`. */
function checkNamed(kernel: string, what: RegExp): Check | undefined {
  return checks.find((check) => check.kernel === kernel && what.test(check.what));
}

t.test('softmax loss and accuracy report the first label outside [0, channels) with the CPU message', async (t) => {
  for (const label of ['10', '-1', 'nan', '10000000000']) {
    const message = new RegExp(`"label ${label} at position 260 is outside \\[0, 10\\)"`);
    t.equal(checkNamed('cudnetSoftmaxLossForward', new RegExp(`${message.source}.*: the first is reported, the loss`))?.passed, true,
      `loss forward, label ${label}`);
    t.equal(checkNamed('cudnetSoftmaxLossForward', new RegExp(`${message.source}.*normalizer launch`))?.passed, true,
      `the normalizer launch of the backward op, label ${label}`);
    t.equal(checkNamed('cudnetAccuracy', message)?.passed, true, `accuracy, label ${label}`);
  }
  t.equal(checkNamed('cudnetSoftmaxLossBackward', /match no channel/)?.passed, true, 'the backward kernel reads in bounds');
});

t.test('accuracy with every label ignored is 0, not NaN', async (t) => {
  t.equal(checkNamed('cudnetAccuracy', /^every label ignored gives 0$/)?.passed, true);
});

t.test('the convolution algorithm rule: float32 runs FMA math, deterministic picks only deterministic results', async (t) => {
  const rule = checks.filter((check) => check.kernel === 'pickAlgorithm' || check.kernel === 'searchMathType');
  t.ok(rule.length >= 10, `${rule.length} checks`);
  for (const what of [/^float32: skips the failure/, /^float32, deterministic: the first deterministic/,
    /^TF32, deterministic/, /larger workspace limit/, /nothing deterministic within the limit/]) {
    t.equal(checkNamed('pickAlgorithm', what)?.passed, true, what.source);
  }
  t.equal(checkNamed('searchMathType', /FMA/)?.passed, true, 'the search math type');
});
