// loader.h — finds and opens libcuda, cuDNN and cuBLAS with dlopen on first use, resolves the symbols of
// api/*.h, and records every path it tried and why each failed, so "no GPU" always explains itself.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "api/cublas.h"
#include "api/cudnn.h"
#include "api/driver.h"

namespace cudnet::cuda {

// One dlopen try: the path (or bare soname for the default loader path) and dlerror() when it failed.
struct LoadAttempt {
  std::string path;
  std::string error;  // empty when it loaded
};

// What happened to one library: where it was found, or every attempt and the first missing symbol.
struct LibraryReport {
  explicit LibraryReport(std::string libraryName = "") : name(std::move(libraryName)) {}
  std::string name;        // e.g. "cuDNN"
  std::string loadedFrom;  // full path of the file that loaded ("" when none)
  std::vector<LoadAttempt> attempts;
  std::string problem;  // why it is unusable ("" when usable): missing symbol, old version, sub-library
  bool usable() const { return !loadedFrom.empty() && problem.empty(); }
  std::string summary() const;  // one paragraph: the problem and every attempt
};

struct Libraries {
  api::DriverApi driver;
  api::CudnnApi cudnn;
  api::CublasApi cublas;
  LibraryReport driverReport{"CUDA driver (libcuda.so.1)"};
  LibraryReport cudnnReport{"cuDNN 9 (libcudnn.so.9)"};
  LibraryReport cublasReport{"cuBLAS (libcublas.so.13 or .12)"};
  std::vector<std::string> cudnnSublibraries;  // paths of the libcudnn_*.so.9 loaded beside the shim
  std::vector<std::string> folders;            // every folder searched, in order
};

// Opens the libraries once per process (thread-safe) and never throws; check the reports.
const Libraries& libraries();

// The folders searched, in order: CUDNET_CUDA_PATH (colon-separated; searched before the default
// loader path so that it overrides), then — after the default loader path — the CUDA toolkit, the
// distribution's library folder, conda, and the NVIDIA Python wheels' folders under every python3
// site-packages found by globbing (lib/ and lib64/ of the system, ~/.local, virtualenv, conda and pyenv
// prefixes and of each python3 on PATH; no python is run). The first entry of `overrides` count is
// returned through `overrideCount`.
std::vector<std::string> searchFolders(size_t* overrideCount = nullptr);

}  // namespace cudnet::cuda
