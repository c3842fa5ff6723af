// prebuild.mjs — `npm run prebuilds`: the prebuilt addon that `npm install` uses instead of compiling,
// prebuilds/linux-x64/node.napi.node (the name node-gyp-build looks for: any Node with N-API 8). It is
// built from source here with the CUDA kernels embedded (nvcc is required: a prebuilt addon without
// kernels would silently give users no GPU), linked with libstdc++ inside (glibc 2.34 is all it needs),
// and stripped. `--if-missing` (npm's prepack) keeps an existing one.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from './build-addon.mjs';

const USAGE = `Usage: npm run prebuilds [-- --if-missing] [-- --out <folder>]

Builds the addon with its CUDA kernels (cmake, g++ and nvcc needed) and writes
<folder>/linux-x64/node.napi.node (default folder: prebuilds), stripped.`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const outIndex = args.indexOf('--out');
const folder = resolve(outIndex >= 0 ? args[outIndex + 1] ?? '' : join(root, 'prebuilds'));
const unknown = args.filter((arg, i) => arg !== '--if-missing' && arg !== '--out' && i !== outIndex + 1);
if (unknown.length > 0 || (outIndex >= 0 && !args[outIndex + 1])) {
  console.error(`prebuild: unexpected arguments ${unknown.join(' ') || '--out without a folder'}\n\n${USAGE}`);
  process.exit(2);
}
const target = join(folder, `${process.platform}-${process.arch}`, 'node.napi.node');
const fail = (message) => {
  console.error(`prebuild: ${message}`);
  process.exit(1);
};

if (args.includes('--if-missing') && existsSync(target)) {
  console.log(`prebuild: ${target} is there (delete it to build it again)`);
  process.exit(0);
}
if (process.platform !== 'linux' || process.arch !== 'x64') fail(`cudnet's addon is built for linux-x64, not ${process.platform}-${process.arch}`);

let built;
try {
  built = buildAddon(root);
} catch (error) {
  fail(error.message);
}
const { addon, kernels } = built;
if (!kernels) fail('the addon was built without CUDA kernels (nvcc was not found): a prebuilt addon must carry them');

mkdirSync(dirname(target), { recursive: true });
copyFileSync(addon, target);
const strip = spawnSync('strip', ['--strip-unneeded', target], { encoding: 'utf8' });
if (strip.status !== 0) fail(`strip failed: ${strip.stderr || strip.error}`);
console.log(`prebuild: ${target} (${(statSync(target).size / 2 ** 20).toFixed(1)} MiB, CUDA kernels inside)`);
