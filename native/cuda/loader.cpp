// loader.cpp — dlopen search for libcuda/cuDNN/cuBLAS, symbol resolution, and the record of every try.
#include "loader.h"

#include <dlfcn.h>
#include <glob.h>
#include <link.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <set>
#include <sstream>

#include "status.h"

namespace cudnet::cuda {
namespace {

bool isDirectory(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::vector<std::string> globPaths(const std::string& pattern) {
  std::vector<std::string> matches;
  glob_t result{};
  if (glob(pattern.c_str(), 0, nullptr, &result) == 0) {
    for (size_t i = 0; i < result.gl_pathc; ++i) matches.emplace_back(result.gl_pathv[i]);
  }
  globfree(&result);
  return matches;
}

std::vector<std::string> splitColons(const char* text) {
  std::vector<std::string> parts;
  if (text == nullptr) return parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ':')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// The installs of pyenv ($PYENV_ROOT, by default ~/.pyenv): each version (and each pyenv-virtualenv,
// which pyenv lists there too) is a prefix of its own.
std::vector<std::string> pyenvVersions() {
  std::vector<std::string> roots;
  if (const char* root = std::getenv("PYENV_ROOT")) roots.emplace_back(root);
  if (const char* home = std::getenv("HOME")) roots.push_back(std::string(home) + "/.pyenv");
  std::vector<std::string> versions;
  for (const std::string& root : roots) {
    for (std::string& version : globPaths(root + "/versions/*")) versions.push_back(version);
  }
  return versions;
}

// The path with every link resolved, or the path itself when it does not exist.
std::string canonicalPath(const std::string& path) {
  char* resolved = realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return path;
  std::string result(resolved);
  std::free(resolved);
  return result;
}

// Every python3 site-packages (or dist-packages) we can find without running python: the system
// prefixes, the user's ~/.local, virtualenv/conda prefixes, every pyenv version, and the prefix of each
// python3 on PATH. Each prefix is searched under lib/ and lib64/ (Fedora and RHEL put the platform
// packages there, and so do virtualenvs made by their python).
std::vector<std::string> sitePackagesFolders() {
  std::vector<std::string> prefixes = {"/usr", "/usr/local", "/opt/conda"};
  if (const char* home = std::getenv("HOME")) prefixes.push_back(std::string(home) + "/.local");
  if (const char* venv = std::getenv("VIRTUAL_ENV")) prefixes.emplace_back(venv);
  if (const char* conda = std::getenv("CONDA_PREFIX")) prefixes.emplace_back(conda);
  for (const std::string& version : pyenvVersions()) prefixes.push_back(version);
  for (const std::string& folder : splitColons(std::getenv("PATH"))) {
    if (globPaths(folder + "/python3*").empty()) continue;
    size_t slash = folder.find_last_of('/');
    if (slash != std::string::npos && slash > 0) prefixes.push_back(folder.substr(0, slash));
  }
  std::vector<std::string> folders;
  std::set<std::string> seen;  // lib64 is often a link to lib: one folder, searched once
  for (const std::string& prefix : prefixes) {
    for (const char* lib : {"/lib/python3*/", "/lib64/python3*/"}) {
      for (const char* kind : {"site-packages", "dist-packages"}) {
        for (std::string& match : globPaths(prefix + lib + kind)) {
          if (seen.insert(canonicalPath(match)).second) folders.push_back(match);
        }
      }
    }
  }
  return folders;
}

// The library folders inside one site-packages that NVIDIA's wheels use (CUDA 13 groups the toolkit
// libraries under nvidia/cu13/lib; cuDNN keeps nvidia/cudnn/lib for every CUDA major).
std::vector<std::string> wheelFolders(const std::string& sitePackages) {
  std::vector<std::string> folders;
  for (const char* sub : {"nvidia/cudnn/lib", "nvidia/cu13/lib", "nvidia/cublas/lib", "nvidia/cu12/lib"}) {
    folders.push_back(sitePackages + "/" + sub);
  }
  return folders;
}

void addUnique(std::vector<std::string>& list, std::set<std::string>& seen, const std::string& folder) {
  if (seen.insert(folder).second) list.push_back(folder);
}

}  // namespace

std::vector<std::string> searchFolders(size_t* overrideCount) {
  std::vector<std::string> folders;
  std::set<std::string> seen;
  for (const std::string& folder : splitColons(std::getenv("CUDNET_CUDA_PATH"))) addUnique(folders, seen, folder);
  if (overrideCount != nullptr) *overrideCount = folders.size();
  for (const char* folder : {"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                             "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib"}) {
    addUnique(folders, seen, folder);
  }
  if (const char* conda = std::getenv("CONDA_PREFIX")) addUnique(folders, seen, std::string(conda) + "/lib");
  for (const std::string& sitePackages : sitePackagesFolders()) {
    for (const std::string& folder : wheelFolders(sitePackages)) {
      if (isDirectory(folder)) addUnique(folders, seen, folder);
    }
  }
  return folders;
}

std::string LibraryReport::summary() const {
  std::ostringstream text;
  text << name << ": ";
  if (usable()) {
    text << "loaded from " << loadedFrom;
    return text.str();
  }
  text << (problem.empty() ? "not found" : problem) << ". Tried:";
  for (const LoadAttempt& attempt : attempts) {
    text << "\n    " << attempt.path << (attempt.error.empty() ? " (loaded)" : " — " + attempt.error);
  }
  return text.str();
}

namespace {

std::string lastDlError() {
  const char* error = dlerror();
  return error != nullptr ? error : "unknown dlopen error";
}

// Full path of a loaded library (the default loader path hides it), from the link map.
std::string pathOf(void* handle, const std::string& fallback) {
  struct link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr &&
      map->l_name[0] != '\0') {
    return map->l_name;
  }
  return fallback;
}

std::string folderOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// dlerror() repeats the path before its reason ("<path>: cannot open ..."); keep only the reason.
std::string reasonOnly(const std::string& path, std::string error) {
  if (error.rfind(path + ": ", 0) == 0) error.erase(0, path.size() + 2);
  return error;
}

void* tryOpen(const std::string& path, LibraryReport& report, int flags = RTLD_NOW | RTLD_GLOBAL) {
  void* handle = dlopen(path.c_str(), flags);
  report.attempts.push_back({path.find('/') == std::string::npos ? path + " (default loader path)" : path,
                             handle != nullptr ? "" : reasonOnly(path, lastDlError())});
  return handle;
}

// Tries each soname in CUDNET_CUDA_PATH, then by bare name (the loader's own search), then in the
// other folders. `companion` (cuBLASLt for cuBLAS) is opened first from the same folder so that the
// main library's dependency resolves there too.
void* openFirst(const std::vector<std::string>& sonames, const std::vector<std::string>& folders,
                size_t overrideCount, LibraryReport& report,
                const std::vector<std::string>& companions = {}) {
  auto tryIn = [&](const std::string& folder, size_t which) -> void* {
    std::string prefix = folder.empty() ? "" : folder + "/";
    if (which < companions.size() && !folder.empty()) {
      std::string companion = prefix + companions[which];
      if (dlopen(companion.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) dlerror();
    }
    return tryOpen(prefix + sonames[which], report);
  };
  for (size_t which = 0; which < sonames.size(); ++which) {
    for (size_t i = 0; i < overrideCount; ++i) {
      if (void* handle = tryIn(folders[i], which)) return handle;
    }
    if (void* handle = tryIn("", which)) return handle;
    for (size_t i = overrideCount; i < folders.size(); ++i) {
      if (void* handle = tryIn(folders[i], which)) return handle;
    }
  }
  return nullptr;
}

template <typename Function>
bool resolve(void* handle, const char* symbol, Function& slot, LibraryReport& report) {
  dlerror();
  slot = reinterpret_cast<Function>(dlsym(handle, symbol));
  if (slot == nullptr && report.problem.empty()) {
    report.problem = std::string("symbol ") + symbol + " is missing (" + lastDlError() + ")";
  }
  return slot != nullptr;
}

#define CUDNET_RESOLVE(handle, table, symbol, report) resolve(handle, #symbol, (table).symbol, report)

void resolveDriver(void* handle, api::DriverApi& d, LibraryReport& r) {
  CUDNET_RESOLVE(handle, d, cuInit, r);
  CUDNET_RESOLVE(handle, d, cuDriverGetVersion, r);
  CUDNET_RESOLVE(handle, d, cuDeviceGetCount, r);
  CUDNET_RESOLVE(handle, d, cuDeviceGet, r);
  CUDNET_RESOLVE(handle, d, cuDeviceGetName, r);
  CUDNET_RESOLVE(handle, d, cuDeviceGetAttribute, r);
  CUDNET_RESOLVE(handle, d, cuDevicePrimaryCtxRetain, r);
  CUDNET_RESOLVE(handle, d, cuDevicePrimaryCtxRelease_v2, r);
  CUDNET_RESOLVE(handle, d, cuCtxSetCurrent, r);
  CUDNET_RESOLVE(handle, d, cuMemAlloc_v2, r);
  CUDNET_RESOLVE(handle, d, cuMemFree_v2, r);
  CUDNET_RESOLVE(handle, d, cuMemGetInfo_v2, r);
  CUDNET_RESOLVE(handle, d, cuMemcpyHtoDAsync_v2, r);
  CUDNET_RESOLVE(handle, d, cuMemcpyDtoHAsync_v2, r);
  CUDNET_RESOLVE(handle, d, cuMemcpyDtoDAsync_v2, r);
  CUDNET_RESOLVE(handle, d, cuMemsetD32Async, r);
  CUDNET_RESOLVE(handle, d, cuStreamCreate, r);
  CUDNET_RESOLVE(handle, d, cuStreamSynchronize, r);
  CUDNET_RESOLVE(handle, d, cuStreamDestroy_v2, r);
  CUDNET_RESOLVE(handle, d, cuModuleLoadData, r);
  CUDNET_RESOLVE(handle, d, cuModuleGetFunction, r);
  CUDNET_RESOLVE(handle, d, cuModuleUnload, r);
  CUDNET_RESOLVE(handle, d, cuLaunchKernel, r);
  CUDNET_RESOLVE(handle, d, cuEventCreate, r);
  CUDNET_RESOLVE(handle, d, cuEventRecord, r);
  CUDNET_RESOLVE(handle, d, cuEventSynchronize, r);
  CUDNET_RESOLVE(handle, d, cuEventDestroy_v2, r);
  CUDNET_RESOLVE(handle, d, cuGetErrorString, r);
  CUDNET_RESOLVE(handle, d, cuGetErrorName, r);
  // CUDA 13 headers call cuEventElapsedTime_v2 under the plain name; older drivers only have the plain one.
  if (dlsym(handle, "cuEventElapsedTime_v2") != nullptr) {
    CUDNET_RESOLVE(handle, d, cuEventElapsedTime_v2, r);
  } else {
    resolve(handle, "cuEventElapsedTime", d.cuEventElapsedTime_v2, r);
  }
}

void resolveCudnn(void* handle, api::CudnnApi& c, LibraryReport& r) {
  CUDNET_RESOLVE(handle, c, cudnnGetVersion, r);
  CUDNET_RESOLVE(handle, c, cudnnGetCudartVersion, r);
  CUDNET_RESOLVE(handle, c, cudnnGetErrorString, r);
  CUDNET_RESOLVE(handle, c, cudnnCreate, r);
  CUDNET_RESOLVE(handle, c, cudnnDestroy, r);
  CUDNET_RESOLVE(handle, c, cudnnSetStream, r);
  CUDNET_RESOLVE(handle, c, cudnnCreateTensorDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnSetTensor4dDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnDestroyTensorDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnCreateFilterDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnSetFilter4dDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnDestroyFilterDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnAddTensor, r);
  CUDNET_RESOLVE(handle, c, cudnnCreateConvolutionDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnDestroyConvolutionDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnSetConvolution2dDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnSetConvolutionGroupCount, r);
  CUDNET_RESOLVE(handle, c, cudnnSetConvolutionMathType, r);
  CUDNET_RESOLVE(handle, c, cudnnGetConvolutionForwardAlgorithmMaxCount, r);
  CUDNET_RESOLVE(handle, c, cudnnGetConvolutionBackwardDataAlgorithmMaxCount, r);
  CUDNET_RESOLVE(handle, c, cudnnGetConvolutionBackwardFilterAlgorithmMaxCount, r);
  CUDNET_RESOLVE(handle, c, cudnnFindConvolutionForwardAlgorithmEx, r);
  CUDNET_RESOLVE(handle, c, cudnnFindConvolutionBackwardDataAlgorithmEx, r);
  CUDNET_RESOLVE(handle, c, cudnnFindConvolutionBackwardFilterAlgorithmEx, r);
  CUDNET_RESOLVE(handle, c, cudnnGetConvolutionForwardWorkspaceSize, r);
  CUDNET_RESOLVE(handle, c, cudnnConvolutionForward, r);
  CUDNET_RESOLVE(handle, c, cudnnConvolutionBackwardData, r);
  CUDNET_RESOLVE(handle, c, cudnnConvolutionBackwardFilter, r);
  CUDNET_RESOLVE(handle, c, cudnnConvolutionBackwardBias, r);
  CUDNET_RESOLVE(handle, c, cudnnCreatePoolingDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnSetPooling2dDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnDestroyPoolingDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnPoolingForward, r);
  CUDNET_RESOLVE(handle, c, cudnnPoolingBackward, r);
  CUDNET_RESOLVE(handle, c, cudnnCreateLRNDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnSetLRNDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnDestroyLRNDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnLRNCrossChannelForward, r);
  CUDNET_RESOLVE(handle, c, cudnnLRNCrossChannelBackward, r);
  CUDNET_RESOLVE(handle, c, cudnnSoftmaxForward, r);
  CUDNET_RESOLVE(handle, c, cudnnSoftmaxBackward, r);
  CUDNET_RESOLVE(handle, c, cudnnCreateActivationDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnSetActivationDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnDestroyActivationDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnActivationForward, r);
  CUDNET_RESOLVE(handle, c, cudnnActivationBackward, r);
  CUDNET_RESOLVE(handle, c, cudnnCreateDropoutDescriptor, r);
  CUDNET_RESOLVE(handle, c, cudnnDestroyDropoutDescriptor, r);
}

void resolveCublas(void* handle, api::CublasApi& b, LibraryReport& r) {
  CUDNET_RESOLVE(handle, b, cublasCreate_v2, r);
  CUDNET_RESOLVE(handle, b, cublasDestroy_v2, r);
  CUDNET_RESOLVE(handle, b, cublasGetVersion_v2, r);
  CUDNET_RESOLVE(handle, b, cublasGetProperty, r);
  CUDNET_RESOLVE(handle, b, cublasSetStream_v2, r);
  CUDNET_RESOLVE(handle, b, cublasSetMathMode, r);
  CUDNET_RESOLVE(handle, b, cublasSetPointerMode_v2, r);
  CUDNET_RESOLVE(handle, b, cublasSgemm_v2, r);
}

#undef CUDNET_RESOLVE

// The cuDNN shim dlopens its sub-libraries lazily by soname, and one that fails to load aborts the
// process instead of returning an error. So we load every libcudnn_*.so.9 beside the shim ourselves
// (RTLD_GLOBAL, so the shim's later dlopen by soname finds them) and refuse cuDNN if any fails.
// Loading repeats until no progress, because sub-libraries depend on each other.
void preloadCudnnSublibraries(const std::string& shimPath, Libraries& libs) {
  std::vector<std::string> pending = globPaths(folderOf(shimPath) + "/libcudnn_*.so.9");
  bool progress = true;
  while (!pending.empty() && progress) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      if (dlopen(it->c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) {
        libs.cudnnSublibraries.push_back(*it);
        it = pending.erase(it);
        progress = true;
      } else {
        dlerror();
        ++it;
      }
    }
  }
  for (const std::string& path : pending) {
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    std::string error = handle != nullptr ? "" : lastDlError();
    libs.cudnnReport.attempts.push_back({path, error});
    if (libs.cudnnReport.problem.empty()) {
      libs.cudnnReport.problem = "its sub-library " + path + " cannot be loaded (" + error + ")";
    }
  }
}

// The sub-libraries of cuDNN 9 that answer a version check (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h,
// cudnn_adv.h), each exporting its own. cudnet calls into graph, ops and cnn, so those must be present;
// adv is checked when it is there.
struct CudnnSublibrary {
  const char* soname;
  const char* versionCheck;  // an api::cudnnVersionCheck_t
  bool required;
};
constexpr CudnnSublibrary kCudnnSublibraries[] = {
    {"libcudnn_graph.so.9", "cudnnGraphVersionCheck", true},
    {"libcudnn_ops.so.9", "cudnnOpsVersionCheck", true},
    {"libcudnn_cnn.so.9", "cudnnCnnVersionCheck", true},
    {"libcudnn_adv.so.9", "cudnnAdvVersionCheck", false},
};

// A sub-library the shim needs but that was not beside it may still be on the loader path, where the
// shim's own dlopen by soname would find it; if it is nowhere, cuDNN is refused before its first call.
void requireCudnnSublibraries(Libraries& libs) {
  for (const CudnnSublibrary& sublibrary : kCudnnSublibraries) {
    if (!sublibrary.required || dlopen(sublibrary.soname, RTLD_NOW | RTLD_NOLOAD) != nullptr) continue;
    dlerror();
    if (tryOpen(sublibrary.soname, libs.cudnnReport) != nullptr) continue;
    libs.cudnnReport.problem = std::string("its sub-library ") + sublibrary.soname + " is neither in " +
                               folderOf(libs.cudnnReport.loadedFrom) + " nor on the loader path";
    return;
  }
}

// "9.1.0" from a file named libcudnn_cnn.so.9.1.0 (links resolved, as tarballs and distribution
// packages install them); "" when the name carries only the major version, as in pip wheels.
std::string versionInFileName(const std::string& path) {
  std::string name = canonicalPath(path);
  name = name.substr(name.find_last_of('/') + 1);
  size_t suffix = name.find(".so.");
  if (suffix == std::string::npos) return "";
  std::string version = name.substr(suffix + 4);
  return version.find('.') == std::string::npos ? "" : version;
}

std::string cudnnVersionText(size_t version) {
  return std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
         std::to_string(version % 100);
}

// Why one sub-library failed its version check, naming it and both versions where they are known.
std::string sublibraryProblem(const CudnnSublibrary& sublibrary, const std::string& path, api::cudnnStatus_t status,
                              const Libraries& libs, size_t shimVersion) {
  std::string version = versionInFileName(path);
  std::string which = "its sub-library " + path + (version.empty() ? "" : " (cuDNN " + version + ")");
  std::string check = std::string(sublibrary.versionCheck) + " returned " + cudnnStatusName(status);
  if (status != api::CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH) return which + " cannot be used: " + check;
  return which + " does not match " + libs.cudnnReport.loadedFrom + " (cuDNN " + cudnnVersionText(shimVersion) +
         "): " + check + "; cuDNN releases are mixed, so install every libcudnn*.so.9 from one release";
}

// cuDNN 9's own cross-library check: each sub-library compares its version with those it depends on.
// A folder of mixed releases would otherwise fail later, op by op, with less telling statuses.
void checkCudnnSublibraryVersions(Libraries& libs, size_t shimVersion) {
  for (const CudnnSublibrary& sublibrary : kCudnnSublibraries) {
    void* handle = dlopen(sublibrary.soname, RTLD_NOW | RTLD_NOLOAD);  // the one the shim will use
    if (handle == nullptr) {
      dlerror();
      continue;  // an optional sub-library that is not installed
    }
    dlerror();
    auto check = reinterpret_cast<api::cudnnVersionCheck_t>(dlsym(handle, sublibrary.versionCheck));
    if (check == nullptr) continue;  // a release without this check has nothing to tell
    api::cudnnStatus_t status = check();
    if (status == api::CUDNN_STATUS_SUCCESS) continue;
    libs.cudnnReport.problem = sublibraryProblem(sublibrary, pathOf(handle, sublibrary.soname), status, libs,
                                                 shimVersion);
    return;
  }
}

void loadDriver(Libraries& libs, size_t overrideCount) {
  // Never libcuda.so: the toolkit's stubs/libcuda.so answers every call with CUDA_ERROR_STUB_LIBRARY.
  void* handle = openFirst({"libcuda.so.1"}, libs.folders, overrideCount, libs.driverReport);
  if (handle == nullptr) return;
  libs.driverReport.loadedFrom = pathOf(handle, "libcuda.so.1");
  resolveDriver(handle, libs.driver, libs.driverReport);
}

// The shim forwards even cudnnGetVersion to a sub-library that it finds by soname, and aborts the process
// when it cannot: so the sub-libraries are loaded first, and only then is the shim asked anything.
void loadCudnn(Libraries& libs, size_t overrideCount) {
  void* handle = openFirst({"libcudnn.so.9"}, libs.folders, overrideCount, libs.cudnnReport);
  if (handle == nullptr) return;
  libs.cudnnReport.loadedFrom = pathOf(handle, "libcudnn.so.9");
  preloadCudnnSublibraries(libs.cudnnReport.loadedFrom, libs);
  if (libs.cudnnReport.problem.empty()) requireCudnnSublibraries(libs);
  if (!libs.cudnnReport.problem.empty()) return;
  if (!resolve(handle, "cudnnGetVersion", libs.cudnn.cudnnGetVersion, libs.cudnnReport)) return;
  size_t version = libs.cudnn.cudnnGetVersion();
  if (version < 90000 || version >= 100000) {
    libs.cudnnReport.problem = "version " + std::to_string(version) + " is not cuDNN 9";
    return;
  }
  checkCudnnSublibraryVersions(libs, version);
  if (!libs.cudnnReport.problem.empty()) return;
  resolveCudnn(handle, libs.cudnn, libs.cudnnReport);
}

void loadCublas(Libraries& libs, size_t overrideCount) {
  void* handle = openFirst({"libcublas.so.13", "libcublas.so.12"}, libs.folders, overrideCount, libs.cublasReport,
                           {"libcublasLt.so.13", "libcublasLt.so.12"});
  if (handle == nullptr) return;
  libs.cublasReport.loadedFrom = pathOf(handle, "libcublas");
  resolveCublas(handle, libs.cublas, libs.cublasReport);
}

}  // namespace

const Libraries& libraries() {
  static Libraries libs;
  static std::once_flag once;
  std::call_once(once, [] {
    size_t overrideCount = 0;
    libs.folders = searchFolders(&overrideCount);
    loadDriver(libs, overrideCount);
    // cuBLAS (and its cuBLASLt) before cuDNN: cuDNN's sub-libraries may look cuBLASLt up by soname.
    loadCublas(libs, overrideCount);
    loadCudnn(libs, overrideCount);
  });
  return libs;
}

}  // namespace cudnet::cuda
