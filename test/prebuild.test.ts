// prebuild.test.ts — the prebuilt addon `npm install` uses instead of compiling: made by `npm run prebuilds`
// (never by npm's `prebuild` pre-hook of `build`), loaded by node-gyp-build from a package that has no
// build folder, carrying the CUDA kernels, and needing no more of the system than its stated floor:
// glibc 2.34 and no libstdc++ symbol version (libstdc++ is linked in).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { native } from '../lib/native.js';

const root = new URL('..', import.meta.url).pathname;
const GLIBC_FLOOR = [2, 34];
const kernels = (JSON.parse((native as unknown as { cudaDiagnostics(): string }).cudaDiagnostics()) as { kernels: boolean }).kernels;

t.test("no script is named 'prebuild', which npm would run before every `npm run build`", async (t) => {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  t.notOk('prebuild' in scripts);
  t.equal(scripts.prebuilds, 'node scripts/prebuild.mjs');
  t.equal(scripts.prepack, 'node scripts/prebuild.mjs --if-missing', 'npm pack makes it when it is missing');
});

t.test('npm run prebuilds writes node.napi.node, which node-gyp-build loads, with the kernels inside', async (t) => {
  const packageRoot = mkdtempSync(join(tmpdir(), 'cudnet-prebuilt-'));
  t.teardown(() => rmSync(packageRoot, { recursive: true, force: true }));
  const made = spawnSync(process.execPath, [join(root, 'scripts/prebuild.mjs'), '--out', join(packageRoot, 'prebuilds')], { cwd: root, encoding: 'utf8' });
  if (!kernels) {
    t.equal(made.status, 1, 'an addon without kernels is refused');
    t.match(made.stderr, /built without CUDA kernels \(nvcc was not found\)/);
    return;
  }
  t.equal(made.status, 0, made.stderr);
  const file = join(packageRoot, 'prebuilds/linux-x64/node.napi.node');
  t.ok(statSync(file).size < statSync(join(root, 'build/Release/cudnet.node')).size, 'stripped');
  const addon = createRequire(import.meta.url)('node-gyp-build')(packageRoot) as { cudaDiagnostics(): string };
  t.equal(JSON.parse(addon.cudaDiagnostics()).kernels, true, 'node-gyp-build found it, and the kernels are in it');

  const symbols = spawnSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  t.equal(symbols.status, 0);
  const glibc = [...symbols.stdout.matchAll(/\(GLIBC_(\d+)\.(\d+)(?:\.\d+)?\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  const newest = glibc.reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a), [2, 0]);
  t.ok(newest[0] < GLIBC_FLOOR[0] || (newest[0] === GLIBC_FLOOR[0] && newest[1] <= GLIBC_FLOOR[1]),
    `the newest glibc symbol version it needs (${newest.join('.')}) is within the floor ${GLIBC_FLOOR.join('.')}`);
  t.notMatch(symbols.stdout, /GLIBCXX_|CXXABI_/, 'no libstdc++ symbol version: it is linked in');

  const again = spawnSync(process.execPath, [join(root, 'scripts/prebuild.mjs'), '--if-missing', '--out', join(packageRoot, 'prebuilds')], { cwd: root, encoding: 'utf8' });
  t.equal(again.status, 0);
  t.match(again.stdout, /is there \(delete it to build it again\)/, '--if-missing keeps it');
});
