// cuda_backend.cpp — opening a GPU (context, stream, cuDNN/cuBLAS handles, kernels), memory, and the free
// functions deviceCount / createBackend / diagnosticsJson / convolutionAlgorithmsJson.
#include "cuda_backend.h"

#include <cstdlib>
#include <optional>
#include <sstream>
#include <vector>

#include "../core/byte_size.h"
#include "loader.h"
#include "ops/conv_plan.h"
#include "status.h"

namespace cudnet::cuda {

namespace {

constexpr size_t kScratchBytes = 1024 * sizeof(double) + 256;

// Our kernels are built by nvcc 13, and a CUDA 13 image needs a driver for CUDA 13.0 or newer (the R580
// driver branch); an older driver would refuse the module with a status that does not say why.
constexpr int kRequiredDriverVersion = 13000;

std::string cudaVersionText(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

// cuInit once per process; its failure (no device, driver/library mismatch) is part of "why not".
struct DriverState {
  int count = 0;
  int version = 0;      // the CUDA version the driver supports, e.g. 13000 for 13.0
  std::string problem;  // "" when the driver started
};

// The driver's CUDA version, asked before anything else: cuDriverGetVersion works before cuInit.
std::string driverVersionProblem(const api::DriverApi& driver, int& version) {
  api::CUresult result = driver.cuDriverGetVersion(&version);
  if (result != api::CUDA_SUCCESS) {
    return "the NVIDIA driver does not say which CUDA it supports (cuDriverGetVersion returned " +
           driverStatusName(result) + ")";
  }
  if (version >= kRequiredDriverVersion) return "";
  return "the NVIDIA driver supports CUDA " + cudaVersionText(version) + "; cudnet's kernels need a driver for CUDA " +
         cudaVersionText(kRequiredDriverVersion) + " or newer (R580+)";
}

const DriverState& driverState() {
  static DriverState state;
  static std::once_flag once;
  std::call_once(once, [] {
    const Libraries& libs = libraries();
    if (!libs.driverReport.usable()) return;
    state.problem = driverVersionProblem(libs.driver, state.version);
    if (!state.problem.empty()) return;
    api::CUresult result = libs.driver.cuInit(0);
    if (result != api::CUDA_SUCCESS) {
      state.problem = result == api::CUDA_ERROR_NO_DEVICE
                          ? "no CUDA device: the NVIDIA driver found no GPU (CUDA_ERROR_NO_DEVICE)"
                          : "the NVIDIA driver failed to start (cuInit returned " + driverStatusName(result) + ")";
      return;
    }
    if (libs.driver.cuDeviceGetCount(&state.count) != api::CUDA_SUCCESS || state.count == 0) {
      state.count = 0;
      state.problem = "no CUDA device: the NVIDIA driver reports 0 GPUs";
    }
  });
  return state;
}

std::string jsonString(const std::string& text) {
  std::ostringstream out;
  out << '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out << '\\' << c;
    } else if (c == '\n') {
      out << "\\n";
    } else if (c < 0x20) {
      static const char* hex = "0123456789abcdef";
      out << "\\u00" << hex[c >> 4] << hex[c & 15];
    } else {
      out << c;
    }
  }
  out << '"';
  return out.str();
}

std::string reportJson(const LibraryReport& report) {
  std::ostringstream out;
  out << "{\"name\":" << jsonString(report.name) << ",\"usable\":" << (report.usable() ? "true" : "false")
      << ",\"loadedFrom\":" << jsonString(report.loadedFrom) << ",\"problem\":" << jsonString(report.problem)
      << ",\"attempts\":[";
  for (size_t i = 0; i < report.attempts.size(); ++i) {
    out << (i ? "," : "") << "{\"path\":" << jsonString(report.attempts[i].path)
        << ",\"error\":" << jsonString(report.attempts[i].error) << "}";
  }
  out << "]}";
  return out.str();
}

constexpr const char* kWorkspaceVariable = "CUDNET_CUDNN_WORKSPACE_MB";
constexpr size_t kMebibyte = size_t(1) << 20;
constexpr size_t kDefaultWorkspaceBytes = 1024 * kMebibyte;

// CUDNET_CUDNN_WORKSPACE_MB: MiB ("512"), or a size with its unit ("1G", "1.5GiB", "256MB"); unset or
// empty means 1 GiB. Anything else is refused: read as a plain number, "1G" would silently be 1 MiB.
size_t workspaceLimitFromEnvironment() {
  const char* text = std::getenv(kWorkspaceVariable);
  if (text == nullptr || *text == '\0') return kDefaultWorkspaceBytes;
  std::optional<size_t> bytes = parseByteSize(text, kMebibyte);
  if (!bytes) {
    throw Error("INVALID_ARGUMENT", std::string(kWorkspaceVariable) + "=\"" + text +
                                        "\" is not a size: give a number of MiB (512) or a number with a unit "
                                        "(K, M, G or T, as 256M, 1.5G or 2GiB)");
  }
  return *bytes;
}

// The limit as diagnostics report it: {"bytes":N} or {"bytes":null,"problem":"..."}.
std::string workspaceLimitJson() {
  try {
    return "{\"bytes\":" + std::to_string(workspaceLimitFromEnvironment()) + ",\"problem\":\"\"}";
  } catch (const Error& error) {
    return "{\"bytes\":null,\"problem\":" + jsonString(error.what()) + "}";
  }
}

std::string versionText(size_t cudnnVersion) {
  return std::to_string(cudnnVersion / 10000) + "." + std::to_string(cudnnVersion / 100 % 100) + "." +
         std::to_string(cudnnVersion % 100);
}

int cublasVersion(const api::CublasApi& cublas) {
  int major = 0, minor = 0, patch = 0;
  cublas.cublasGetProperty(api::MAJOR_VERSION, &major);
  cublas.cublasGetProperty(api::MINOR_VERSION, &minor);
  cublas.cublasGetProperty(api::PATCH_LEVEL, &patch);
  return major * 10000 + minor * 100 + patch;
}

std::string describeDevice(const api::DriverApi& driver, api::CUdevice device) {
  char name[256] = {0};
  driver.cuDeviceGetName(name, sizeof(name) - 1, device);
  int major = 0, minor = 0, processors = 0;
  driver.cuDeviceGetAttribute(&major, api::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  driver.cuDeviceGetAttribute(&minor, api::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  driver.cuDeviceGetAttribute(&processors, api::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
  return std::string(name) + " (sm_" + std::to_string(major) + std::to_string(minor) + ", " +
         std::to_string(processors) + " SMs)";
}

}  // namespace

// ---- discovery ----------------------------------------------------------------------------------

int deviceCount(std::string* whyNot) {
  const Libraries& libs = libraries();
  const DriverState& driver = driverState();
  std::vector<std::string> missing;
  std::vector<const LibraryReport*> failed;
  if (!libs.driverReport.usable()) {
    missing.push_back("no NVIDIA driver (libcuda.so.1)");
    failed.push_back(&libs.driverReport);
  } else if (!driver.problem.empty()) {
    missing.push_back(driver.problem);
  }
  if (!libs.cudnnReport.usable()) {
    missing.push_back("no cuDNN 9 (libcudnn.so.9)");
    failed.push_back(&libs.cudnnReport);
  }
  if (!libs.cublasReport.usable()) {
    missing.push_back("no cuBLAS (libcublas.so.13 or libcublas.so.12)");
    failed.push_back(&libs.cublasReport);
  }
#ifdef CUDNET_NO_KERNELS
  missing.push_back("this addon was built without CUDA kernels (nvcc was not found at build time)");
#endif
  if (missing.empty()) return driver.count;
  if (whyNot != nullptr) {
    std::ostringstream text;
    text << "CUDA is unavailable: ";
    for (size_t i = 0; i < missing.size(); ++i) text << (i ? "; " : "") << missing[i];
    text << ".";
    for (const LibraryReport* report : failed) text << "\n  " << report->summary();
    text << "\n  Set CUDNET_CUDA_PATH to the folders holding these libraries (colon-separated) if they are "
            "installed elsewhere.";
    *whyNot = text.str();
  }
  return 0;
}

std::unique_ptr<Backend> createBackend(int ordinal) { return std::make_unique<CudaBackend>(ordinal); }

std::string diagnosticsJson() {
  const Libraries& libs = libraries();
  std::string whyNot;
  const int count = deviceCount(&whyNot);
  std::ostringstream out;
  int driverVersion = 0;
  if (libs.driverReport.usable()) libs.driver.cuDriverGetVersion(&driverVersion);
  out << "{\"deviceCount\":" << count << ",\"whyNot\":" << jsonString(whyNot) << ",\"driver\":{\"version\":"
      << driverVersion << ",\"library\":" << reportJson(libs.driverReport) << "},\"cudnn\":{";
  if (libs.cudnnReport.usable()) {
    out << "\"version\":" << jsonString(versionText(libs.cudnn.cudnnGetVersion()))
        << ",\"cudartVersion\":" << libs.cudnn.cudnnGetCudartVersion() << ",";
  }
  out << "\"sublibraries\":[";
  for (size_t i = 0; i < libs.cudnnSublibraries.size(); ++i) {
    out << (i ? "," : "") << jsonString(libs.cudnnSublibraries[i]);
  }
  out << "],\"library\":" << reportJson(libs.cudnnReport) << "},\"cublas\":{";
  if (libs.cublasReport.usable()) out << "\"version\":" << cublasVersion(libs.cublas) << ",";
  out << "\"library\":" << reportJson(libs.cublasReport) << "},\"devices\":[";
  for (int i = 0; i < count; ++i) {
    api::CUdevice device = 0;
    libs.driver.cuDeviceGet(&device, i);
    out << (i ? "," : "") << jsonString(describeDevice(libs.driver, device));
  }
#ifdef CUDNET_NO_KERNELS
  out << "],\"kernels\":false";
#else
  out << "],\"kernels\":true";
#endif
  out << ",\"cudnnWorkspaceLimit\":" << workspaceLimitJson() << ",\"folders\":[";
  for (size_t i = 0; i < libs.folders.size(); ++i) out << (i ? "," : "") << jsonString(libs.folders[i]);
  out << "]}";
  return out.str();
}

std::string convolutionAlgorithmsJson(Backend& backend, const Conv2dParams& p) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (cuda == nullptr) {
    throw Error("INVALID_ARGUMENT", "convolution algorithms are a CUDA notion; " + backend.name() + " has none");
  }
  return cuda->convolutionAlgorithmsJson(p);
}

// ---- the backend -------------------------------------------------------------------------------

CudaBackend::CudaBackend(int ordinal) : ordinal_(ordinal) {
  std::string whyNot;
  const int count = deviceCount(&whyNot);
  if (count == 0) throw Error("CUDA_UNAVAILABLE", whyNot);
  if (ordinal < 0 || ordinal >= count) {
    throw Error("CUDA_UNAVAILABLE", "there is no CUDA device " + std::to_string(ordinal) + " (this machine has " +
                                        std::to_string(count) + ")");
  }
  workspaceLimit_ = workspaceLimitFromEnvironment();  // a refused value stops the open before anything is held
  const Libraries& libs = libraries();
  checkDriver(libs.driver.cuDeviceGet(&device_, ordinal), "cuDeviceGet");
  checkDriver(libs.driver.cuDevicePrimaryCtxRetain(&context_, device_), "retaining the GPU's primary context");
  try {
    createHandles();
  } catch (...) {
    releaseResources();  // the destructor does not run for a constructor that throws
    throw;
  }
}

void CudaBackend::createHandles() {
  const Libraries& libs = libraries();
  checkDriver(libs.driver.cuCtxSetCurrent(context_), "cuCtxSetCurrent");
  checkDriver(libs.driver.cuStreamCreate(&stream_, api::CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  kernels_ = std::make_unique<KernelModule>();
  checkCudnn(libs.cudnn.cudnnCreate(&cudnn_), "cudnnCreate");
  checkCudnn(libs.cudnn.cudnnSetStream(cudnn_, stream_), "cudnnSetStream");
  checkCublas(libs.cublas.cublasCreate_v2(&cublas_), "cublasCreate");
  checkCublas(libs.cublas.cublasSetStream_v2(cublas_, stream_), "cublasSetStream");
  checkCublas(libs.cublas.cublasSetPointerMode_v2(cublas_, api::CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
  applyMathModes();
  allocator_ = std::make_unique<CachingAllocator>([this] { bindToCurrentThread(); }, [this] { synchronize(); });
  scratch_ = allocator_->allocate(kScratchBytes);
  size_t totalBytes = 0, freeBytes = 0;
  checkDriver(libs.driver.cuMemGetInfo_v2(&freeBytes, &totalBytes), [&] { return "asking " + name() + "'s memory size"; });
  const int cublas = cublasVersion(libs.cublas);
  description_ = describeDevice(libs.driver, device_) + ", " + std::to_string(totalBytes >> 20) +
                 " MiB, driver CUDA " + cudaVersionText(driverState().version) + ", cuDNN " +
                 versionText(libs.cudnn.cudnnGetVersion()) + ", cuBLAS " + versionText(static_cast<size_t>(cublas));
}

CudaBackend::~CudaBackend() { releaseResources(); }

// Gives back everything in reverse order of creation; never throws (also runs for a failed open).
void CudaBackend::releaseResources() noexcept {
  const Libraries& libs = libraries();
  if (context_ == nullptr) return;
  libs.driver.cuCtxSetCurrent(context_);
  if (stream_ != nullptr) libs.driver.cuStreamSynchronize(stream_);
  plans_.clear();
  if (workspace_ != nullptr) libs.driver.cuMemFree_v2(reinterpret_cast<uintptr_t>(workspace_));
  workspace_ = nullptr;
  if (scratch_ != nullptr && allocator_) allocator_->release(scratch_, kScratchBytes);
  scratch_ = nullptr;
  allocator_.reset();
  kernels_.reset();
  if (cublas_ != nullptr) libs.cublas.cublasDestroy_v2(cublas_);
  if (cudnn_ != nullptr) libs.cudnn.cudnnDestroy(cudnn_);
  if (stream_ != nullptr) libs.driver.cuStreamDestroy_v2(stream_);
  cublas_ = nullptr;
  cudnn_ = nullptr;
  stream_ = nullptr;
  libs.driver.cuDevicePrimaryCtxRelease_v2(device_);
  context_ = nullptr;
}

void CudaBackend::bindToCurrentThread() {
  checkDriver(libraries().driver.cuCtxSetCurrent(context_), [&] { return "making " + name() + " current"; });
}

// float32 by default: cuDNN restricted to FMA kernels and cuBLAS to its default (no TF32) math, so
// results agree with the CPU. TF32 uses cuDNN's default math, which permits TF32 on Ampere and newer
// (what PyTorch's allow_tf32 does); ALLOW_CONVERSION is avoided because it also permits FP16 down-conversion.
void CudaBackend::applyMathModes() {
  const Libraries& libs = libraries();
  checkCublas(libs.cublas.cublasSetMathMode(cublas_, tf32_ ? api::CUBLAS_TF32_TENSOR_OP_MATH : api::CUBLAS_DEFAULT_MATH),
              "cublasSetMathMode");
}

void CudaBackend::setTf32(bool enabled) {
  tf32_ = enabled;
  applyMathModes();  // convolution plans are keyed by the mode, so each mode keeps its own choices
}

// ---- memory --------------------------------------------------------------------------------------

void* CudaBackend::allocate(size_t bytes) { return allocator_->allocate(bytes); }

void CudaBackend::release(void* pointer, size_t bytes) { allocator_->release(pointer, bytes); }

void CudaBackend::copyFromHost(void* destination, const void* source, size_t bytes) {
  if (bytes == 0) return;
  checkDriver(libraries().driver.cuMemcpyHtoDAsync_v2(reinterpret_cast<uintptr_t>(destination), source, bytes, stream_),
              [&] { return "copying " + std::to_string(bytes) + " bytes to " + name(); });
  // The source is host memory the caller frees as soon as this returns (a write's copy of the values
  // lives only as long as its stream task), and the driver promises to be done with pageable memory
  // only for the synchronous copy; an asynchronous one may still be reading it. So wait for the copy.
  // This runs on the device's stream thread (native/core/stream.cpp), never on the event loop, and
  // staging through pinned memory would need cuMemHostAlloc, which the loader does not resolve.
  synchronize();
}

void CudaBackend::copyToHost(void* destination, const void* source, size_t bytes) {
  if (bytes == 0) return;
  checkDriver(libraries().driver.cuMemcpyDtoHAsync_v2(destination, reinterpret_cast<uintptr_t>(source), bytes, stream_),
              [&] { return "copying " + std::to_string(bytes) + " bytes from " + name(); });
  synchronize();
}

void CudaBackend::synchronize() {
  checkDriver(libraries().driver.cuStreamSynchronize(stream_), [&] { return "waiting for " + name(); });
}

size_t CudaBackend::cachedBytes() const { return allocator_->cachedBytes(); }

void CudaBackend::emptyCache() { allocator_->emptyCache(); }

size_t CudaBackend::reservedBytes() const { return allocator_->reservedBytes() + workspaceBytes_; }

// Grows the single cuDNN workspace to `bytes`. Growth happens while algorithms are first chosen (the
// first iteration); queued work may still use the old block, so the stream is drained before freeing it.
void* CudaBackend::workspace(size_t bytes) {
  if (bytes <= workspaceBytes_) return workspace_;
  const api::DriverApi& driver = libraries().driver;
  synchronize();
  if (workspace_ != nullptr) driver.cuMemFree_v2(reinterpret_cast<uintptr_t>(workspace_));
  workspace_ = nullptr;
  workspaceBytes_ = 0;
  api::CUdeviceptr block = 0;
  api::CUresult result = driver.cuMemAlloc_v2(&block, bytes);
  if (result == api::CUDA_ERROR_OUT_OF_MEMORY) {
    allocator_->emptyCache();
    result = driver.cuMemAlloc_v2(&block, bytes);
  }
  if (result == api::CUDA_ERROR_OUT_OF_MEMORY) {
    throw Error("OUT_OF_MEMORY", "CUDA device out of memory allocating a " + std::to_string(bytes) +
                                     "-byte cuDNN workspace (lower CUDNET_CUDNN_WORKSPACE_MB)");
  }
  checkDriver(result, "allocating the cuDNN workspace");
  workspace_ = reinterpret_cast<void*>(static_cast<uintptr_t>(block));
  workspaceBytes_ = bytes;
  return workspace_;
}

}  // namespace cudnet::cuda
