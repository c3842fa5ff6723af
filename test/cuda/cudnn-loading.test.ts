// cudnn-loading.test.ts — cuDNN 9 as it is installed in the field, with fake libraries built here: a pip
// wheel whose shim aborts the process when asked anything before its sub-libraries are loaded; a
// folder mixing two releases, refused with one message naming the sub-library and both versions; a
// missing sub-library; and the Python prefixes (pyenv, lib64) searched for NVIDIA's wheels.
import { mkdirSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import t from 'tap';
import {
  CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH, buildCudnn, compilerMissing, diagnosticsInChild, temporaryFolder,
} from '../helpers/fake-cuda-libraries.js';

const skip = compilerMissing() || false;
const sublibraries = ['libcudnn_adv.so.9', 'libcudnn_cnn.so.9', 'libcudnn_engines_precompiled.so.9',
  'libcudnn_graph.so.9', 'libcudnn_heuristic.so.9', 'libcudnn_ops.so.9'];

/** A pip wheel's cuDNN folder (site-packages/nvidia/cudnn/lib) under a fresh temporary folder. */
const wheelFolder = (name: string) => join(temporaryFolder(name), 'site-packages/nvidia/cudnn/lib');

t.test('a pip wheel: sub-libraries are loaded before the shim is asked its version', { skip }, async (t) => {
  const folder = wheelFolder('wheel');
  buildCudnn(folder);
  const { result, diagnostics } = diagnosticsInChild({ CUDNET_CUDA_PATH: folder });
  t.equal(result.signal, null, `the process is not aborted (${result.stderr.trim()})`);
  t.equal(result.status, 0);
  const cudnn = diagnostics?.cudnn;
  t.equal(cudnn?.library.loadedFrom, join(folder, 'libcudnn.so.9'));
  t.equal(cudnn?.library.problem, '');
  t.equal(cudnn?.library.usable, true, 'every symbol the loader resolves is found');
  t.equal(cudnn?.version, '9.1.0', "cuDNN's version is read");
  t.same((cudnn?.sublibraries ?? []).map((path: string) => basename(path)).sort(), sublibraries,
    'every sub-library beside the shim is listed');
  t.ok((cudnn?.sublibraries ?? []).every((path: string) => path.startsWith(folder + '/')));
});

t.test('a folder mixing releases: one message names the sub-library and both versions', { skip }, async (t) => {
  const folder = wheelFolder('mixed');
  buildCudnn(folder, {
    versionedFiles: true,
    sublibraries: { cnn: { version: 90000, status: CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH } },
  });
  const { result, diagnostics } = diagnosticsInChild({ CUDNET_CUDA_PATH: folder });
  t.equal(result.status, 0, result.stderr);
  const problem: string = diagnostics?.cudnn.library.problem ?? '';
  t.equal(diagnostics?.cudnn.library.usable, false, 'cuDNN is refused');
  t.equal(problem,
    `its sub-library ${folder}/libcudnn_cnn.so.9 (cuDNN 9.0.0) does not match ${folder}/libcudnn.so.9 (cuDNN 9.1.0): ` +
    'cudnnCnnVersionCheck returned CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH; cuDNN releases are mixed, so install ' +
    'every libcudnn*.so.9 from one release');
  const whyNot: string = diagnostics?.whyNot ?? '';
  t.match(whyNot, /no cuDNN 9 \(libcudnn\.so\.9\)/);
  t.equal(whyNot.split(problem).length - 1, 1, 'the reason CUDA is unavailable carries the message once');
  t.notMatch(problem, /graph|libcudnn_ops/, 'the sub-libraries that match are not blamed');
});

t.test('a missing sub-library is reported, not fatal', { skip }, async (t) => {
  const complete = wheelFolder('complete');
  buildCudnn(complete);
  // The shim alone in a folder of its own: libcudnn_graph.so.9 is nowhere the loader looks.
  const folder = wheelFolder('shim-only');
  mkdirSync(folder, { recursive: true });
  symlinkSync(join(complete, 'libcudnn.so.9'), join(folder, 'libcudnn.so.9'));
  const { result, diagnostics } = diagnosticsInChild({ CUDNET_CUDA_PATH: folder });
  t.equal(result.signal, null, `the process is not aborted (${result.stderr.trim()})`);
  t.equal(diagnostics?.cudnn.library.problem,
    `its sub-library libcudnn_graph.so.9 is neither in ${folder} nor on the loader path`);
  t.match(diagnostics?.cudnn.library.attempts.at(-1),
    { path: 'libcudnn_graph.so.9 (default loader path)', error: /cannot open shared object file/ });
});

t.test("NVIDIA's wheels are looked for under pyenv versions and lib64 prefixes", { skip }, async (t) => {
  const root = temporaryFolder('prefixes');
  const home = join(root, 'home');
  const made = (path: string) => (mkdirSync(path, { recursive: true }), path);
  const homePyenv = made(join(home, '.pyenv/versions/3.12.4/lib/python3.12/site-packages/nvidia/cudnn/lib'));
  const pyenvRoot = join(root, 'pyenv');
  const rootPyenv = made(join(pyenvRoot, 'versions/3.11.9/lib/python3.11/site-packages/nvidia/cu13/lib'));
  const virtualenv = join(root, 'venv');
  const lib64 = made(join(virtualenv, 'lib64/python3.12/site-packages/nvidia/cublas/lib'));
  // A prefix whose lib64 is a link to lib (as Fedora's virtualenvs have): its folder is searched once.
  const conda = join(root, 'conda');
  const linked = made(join(conda, 'lib/python3.10/site-packages/nvidia/cudnn/lib'));
  symlinkSync('lib', join(conda, 'lib64'));
  const { result, diagnostics } = diagnosticsInChild({
    HOME: home, PYENV_ROOT: pyenvRoot, VIRTUAL_ENV: virtualenv, CONDA_PREFIX: conda,
  });
  t.equal(result.status, 0, result.stderr);
  const folders: string[] = diagnostics?.folders ?? [];
  t.ok(folders.includes(homePyenv), 'a version under ~/.pyenv');
  t.ok(folders.includes(rootPyenv), 'a version under $PYENV_ROOT');
  t.ok(folders.includes(lib64), 'lib64/python3.x/site-packages');
  t.equal(folders.filter((folder) => folder.endsWith('python3.10/site-packages/nvidia/cudnn/lib')).length, 1,
    'lib and its lib64 link are one folder');
  t.ok(folders.includes(linked));
});
