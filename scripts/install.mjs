// install.mjs — `npm install` step: use a prebuilt addon when one matches, else build it with cmake-js.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
if (existsSync(prebuilt) && readdirSync(prebuilt).some((name) => name.endsWith('.node'))) {
  console.log(`cudnet: using the prebuilt addon in ${prebuilt}`);
  process.exit(0);
}

// cmake-js is a dependency: beside us in a clone, or hoisted into the consumer's node_modules.
let cmakeJs;
try {
  cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
} catch {
  cmakeJs = undefined;
}
if (!cmakeJs || !existsSync(cmakeJs)) {
  console.error('cudnet: no prebuilt addon for this platform and cmake-js is not installed; cannot build the addon');
  process.exit(1);
}
console.log('cudnet: building the native addon (CPU backend, CUDA loader and kernels where nvcc is found)');
const parallel = String(Math.max(1, (await import('node:os')).availableParallelism()));
const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build', '--parallel', parallel], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error('cudnet: building the native addon failed (see above). It needs cmake >= 3.18 and g++ >= 9.');
  process.exit(result.status ?? 1);
}
