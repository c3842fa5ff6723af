// build-addon.mjs — builds the addon from source with cmake-js (incrementally, so it always matches the
// sources) and asks the built addon itself whether it carries the CUDA kernels: what both the GPU bundle
// and the prebuilt binary need to know before they ship it.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Builds build/Release/cudnet.node under `root`; returns its path and whether its kernels are inside. */
export function buildAddon(root) {
  execFileSync(process.execPath, [join(root, 'node_modules/cmake-js/bin/cmake-js'), 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
  const addon = join(root, 'build/Release/cudnet.node');
  const probe = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(addon)}).cudaDiagnostics())`], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`the built addon does not load: ${probe.stderr.trim()}`);
  return { addon, kernels: JSON.parse(probe.stdout).kernels === true };
}
