// fake-cuda-libraries.ts — stand-ins for libcuda.so.1, cuDNN 9 (the shim and its sub-libraries) and cuBLAS,
// compiled with the system C compiler into a temporary folder, so that the loader's handling of real
// layouts (pip wheels, tarballs, old drivers) is tested on machines without a GPU. Each fake exports a
// stub returning 0 (success) for every symbol the loader resolves — the list is read from
// native/cuda/loader.cpp, so it follows the loader — plus the few functions a test gives a body.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const loaderSource = new URL('../../native/cuda/loader.cpp', import.meta.url);

/** Why fakes cannot be built here ('' when they can): they need a C compiler. */
export function compilerMissing(): string {
  const result = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? '' : 'no C compiler (cc) to build the fake CUDA libraries';
}

/** A fresh temporary folder for one test's libraries, removed when the test process exits. */
export function temporaryFolder(name: string): string {
  const folder = mkdtempSync(join(tmpdir(), `cudnet-${name}-`));
  process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** Every symbol one resolve function of the loader (resolveDriver, resolveCudnn, resolveCublas) looks up. */
export function resolvedSymbols(resolver: 'resolveDriver' | 'resolveCudnn' | 'resolveCublas'): string[] {
  const source = readFileSync(loaderSource, 'utf8');
  const start = source.indexOf(`void ${resolver}(`);
  if (start < 0) throw new Error(`${resolver} is not in native/cuda/loader.cpp`);
  const body = source.slice(start, source.indexOf('\n}\n', start));
  const symbols = [...body.matchAll(/CUDNET_RESOLVE\(\w+, \w+, (\w+), \w+\)|resolve\(\w+, "(\w+)"/g)]
    .map((match) => match[1] ?? match[2]);
  if (symbols.length === 0) throw new Error(`found no symbols in ${resolver}`);
  return [...new Set(symbols)];
}

export interface FakeLibrary {
  /** The file to write, e.g. libcudnn_cnn.so.9.1.0 (a soname link to it is made when they differ). */
  file: string;
  soname: string;
  /** Symbols that get a `long name(void) { return 0; }` stub unless `functions` defines them. */
  stubs?: string[];
  /** Full C definitions, by symbol. */
  functions?: Record<string, string>;
  /** Sonames of fakes already built in the same folder that this one links against (DT_NEEDED). */
  needs?: string[];
}

/**
 * Compiles one fake into `folder` with no RUNPATH (as in NVIDIA's pip wheels), so a library it needs
 * is found only when already loaded. Returns the path of its soname.
 */
export function buildLibrary(folder: string, library: FakeLibrary): string {
  mkdirSync(folder, { recursive: true });
  const defined = library.functions ?? {};
  const stubs = (library.stubs ?? []).filter((name) => !(name in defined)).map((name) => `long ${name}(void) { return 0; }`);
  const source = ['#define _GNU_SOURCE', '#include <dlfcn.h>', '#include <stdio.h>', '#include <stdlib.h>', '#include <string.h>',
    ...Object.values(defined), ...stubs, `int cudnetFakeMarker_${library.soname.replace(/\W/g, '_')} = 1;`].join('\n');
  const sourcePath = join(folder, `${library.file}.c`);
  writeFileSync(sourcePath, source + '\n');
  const links = (library.needs ?? []).flatMap((soname) => [`-l:${soname}`]);
  execFileSync('cc', ['-shared', '-fPIC', '-o', join(folder, library.file), sourcePath,
    `-Wl,-soname,${library.soname}`, '-L', folder, ...links, '-ldl']);
  if (library.file !== library.soname) symlinkSync(library.file, join(folder, library.soname));
  return join(folder, library.soname);
}

/** CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH in cuDNN 9's numbering (cudnn_graph.h). */
export const CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH = 1002;

export interface FakeCudnnOptions {
  /** cudnnGetVersion's answer: 90100 is 9.1.0. */
  version?: number;
  /** Name files with the full version and link the sonames to them, as tarballs do (pip wheels do not). */
  versionedFiles?: boolean;
  /** Per sub-library ('cnn', 'ops', ...): its release and its version check's status. */
  sublibraries?: Record<string, { version?: number; status?: number }>;
}

const versionText = (version: number) =>
  `${Math.floor(version / 10000)}.${Math.floor(version / 100) % 100}.${version % 100}`;

/**
 * cuDNN 9 laid out in `folder`: the shim libcudnn.so.9 and its sub-libraries. Like the real
 * dispatcher, the shim's cudnnGetVersion dlopens libcudnn_graph.so.9 by soname and aborts the process
 * when that fails; without RUNPATH it succeeds only if the sub-library is already loaded.
 */
export function buildCudnn(folder: string, options: FakeCudnnOptions = {}): void {
  const version = options.version ?? 90100;
  const fileName = (soname: string, release: number) =>
    options.versionedFiles ? `${soname}.${versionText(release).slice(2)}` : soname;
  const sublibrary = (name: string, check: string | null, needs: string[]) => {
    const soname = `libcudnn_${name}.so.9`;
    const settings = options.sublibraries?.[name] ?? {};
    const functions: Record<string, string> = {};
    if (check) functions[check] = `int ${check}(void) { return ${settings.status ?? 0}; }`;
    buildLibrary(folder, { file: fileName(soname, settings.version ?? version), soname, functions, needs });
  };
  // graph first: the others link against it, as in the real release.
  sublibrary('graph', 'cudnnGraphVersionCheck', []);
  sublibrary('ops', 'cudnnOpsVersionCheck', ['libcudnn_graph.so.9']);
  sublibrary('cnn', 'cudnnCnnVersionCheck', ['libcudnn_graph.so.9', 'libcudnn_ops.so.9']);
  sublibrary('adv', 'cudnnAdvVersionCheck', ['libcudnn_graph.so.9', 'libcudnn_ops.so.9']);
  sublibrary('engines_precompiled', null, ['libcudnn_graph.so.9']);
  sublibrary('heuristic', null, ['libcudnn_graph.so.9']);
  buildLibrary(folder, {
    file: fileName('libcudnn.so.9', version),
    soname: 'libcudnn.so.9',
    stubs: resolvedSymbols('resolveCudnn'),
    functions: {
      cudnnGetVersion: `size_t cudnnGetVersion(void) {
  if (dlopen("libcudnn_graph.so.9", RTLD_NOW | RTLD_GLOBAL) == NULL) {
    fprintf(stderr, "Could not load library libcudnn_graph.so.9. Error: %s\\n", dlerror());
    fprintf(stderr, "Invalid handle. Cannot load symbol cudnnGetVersion\\n");
    abort();
  }
  return ${version};
}`,
      cudnnGetCudartVersion: 'size_t cudnnGetCudartVersion(void) { return 13000; }',
    },
  });
}

/** cuBLAS 13.0.0 as libcublas.so.13; with `faultingGemm`, each GEMM leaves a fault in the fake driver. */
export function buildCublas(folder: string, { faultingGemm = false } = {}): void {
  buildLibrary(folder, {
    file: 'libcublas.so.13',
    soname: 'libcublas.so.13',
    stubs: resolvedSymbols('resolveCublas'),
    functions: {
      cublasGetProperty: 'int cublasGetProperty(int type, int *value) { *value = type == 0 ? 13 : 0; return 0; }',
      cublasSgemm_v2: `int cublasSgemm_v2(void) {
  void (*fault)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "fakeDriverFault");
  if (${faultingGemm ? 1 : 0} && fault != NULL) fault();
  return 0;
}`,
    },
  });
}

export interface FakeDriverOptions {
  /** cuDriverGetVersion's answer: 13000 is CUDA 13.0. */
  version: number;
  /** Every kernel launch leaves a fault (CUDA_ERROR_ILLEGAL_ADDRESS) that the next wait reports, as a
   * kernel writing out of bounds does. */
  faultingKernels?: boolean;
  /** Every cuBLAS GEMM does the same (buildGpuFolder's cuBLAS). */
  faultingGemm?: boolean;
  /** A wait reports a fault once and clears it, as a recoverable error would (by default it stays, as a
   * real illegal address does). */
  faultsOnce?: boolean;
  /** cuMemGetInfo_v2's status (0 by default). */
  memoryInfoStatus?: number;
}

/** libcuda.so.1 with one GPU, "Fake GPU", 8 GiB. */
export function buildDriver(folder: string, options: FakeDriverOptions): void {
  buildLibrary(folder, {
    file: 'libcuda.so.1',
    soname: 'libcuda.so.1',
    stubs: resolvedSymbols('resolveDriver'),
    functions: {
      cuDriverGetVersion: `int cuDriverGetVersion(int *version) { *version = ${options.version}; return 0; }`,
      cuDeviceGetCount: 'int cuDeviceGetCount(int *count) { *count = 1; return 0; }',
      cuDeviceGetName: 'int cuDeviceGetName(char *name, int length, int device) { strncpy(name, "Fake GPU", length); return 0; }',
      cuMemGetInfo_v2: `int cuMemGetInfo_v2(size_t *free, size_t *total) {
  *free = *total = (size_t)8 << 30;
  return ${options.memoryInfoStatus ?? 0};
}`,
      cuMemAlloc_v2: `int cuMemAlloc_v2(unsigned long long *pointer, size_t bytes) {
  static unsigned long long next = 1 << 20;
  *pointer = next;
  next += (bytes + 4095) / 4096 * 4096;
  return 0;
}`,
      cuLaunchKernel: `static int fault = 0;
void fakeDriverFault(void) { fault = 1; }
int cuLaunchKernel(void) {
  if (${options.faultingKernels ? 1 : 0}) fault = 1;
  return 0;
}`,
      cuStreamSynchronize: `int cuStreamSynchronize(void *stream) {
  int status = fault ? 700 : 0;
  if (${options.faultsOnce ? 1 : 0}) fault = 0;
  return status;
}`,
      cuGetErrorName: `int cuGetErrorName(int error, const char **text) {
  if (error != 700) return 1;
  *text = "CUDA_ERROR_ILLEGAL_ADDRESS";
  return 0;
}`,
      cuGetErrorString: `int cuGetErrorString(int error, const char **text) {
  if (error != 700) return 1;
  *text = "an illegal memory access was encountered";
  return 0;
}`,
    },
  });
}

/** A folder holding a fake driver (see FakeDriverOptions), cuDNN 9.1.0 and cuBLAS 13: a whole GPU setup. */
export function buildGpuFolder(name: string, driver: FakeDriverOptions): string {
  const folder = temporaryFolder(name);
  buildDriver(folder, driver);
  buildCudnn(folder);
  buildCublas(folder, { faultingGemm: driver.faultingGemm });
  return folder;
}

export interface ChildResult {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `body` (an async function body) in a fresh Node process — the loader runs once per process —
 * with `env` added to a copy of this one's environment, minus the loader-path variables that would let
 * real CUDA libraries in. The body sees `native`, the addon, and with `library` also `cudnet`, the
 * library's index module (slower to load). Whatever the body returns is printed as JSON on stdout.
 */
export function runChild(body: string, env: Record<string, string>, { library = false } = {}): ChildResult {
  const index = new URL('../../lib/index.js', import.meta.url).href;
  const native = new URL('../../lib/native.js', import.meta.url).href;
  const script = `const cudnet = ${library ? `await import('${index}')` : 'undefined'};
const { native } = await import('${native}');
const result = await (async () => { ${body} })();
process.stdout.write(JSON.stringify(result));`;
  const childEnv: Record<string, string> = { ...process.env, ...env } as Record<string, string>;
  delete childEnv.LD_LIBRARY_PATH;
  delete childEnv.LD_PRELOAD;
  const result = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], {
    env: childEnv,
    encoding: 'utf8',
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** The addon's cudaDiagnostics() JSON, as a child process with `env` sees it. */
export function diagnosticsInChild(env: Record<string, string>): { result: ChildResult; diagnostics: any } {
  const result = runChild('return JSON.parse(native.cudaDiagnostics());', env);
  let diagnostics: any = null;
  try {
    diagnostics = JSON.parse(result.stdout);
  } catch {
    diagnostics = null;
  }
  return { result, diagnostics };
}
