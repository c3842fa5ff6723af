// device.cpp — device registry, buffers and memory accounting.
#include "device.h"

#include <map>
#include <mutex>

#include "../cpu/cpu_backend.h"
#include "../cuda/cuda_backend.h"
#include "error.h"

namespace cudnet {

Device::Device(std::string name, std::unique_ptr<Backend> backend)
    : name_(std::move(name)), backend_(std::move(backend)), stream_(std::make_unique<Stream>(*backend_)) {}

Device::~Device() { stream_.reset(); }

Buffer::Buffer(std::shared_ptr<Device> device, size_t count)
    : device_(std::move(device)), count_(count), data_(nullptr) {
  if (count_ > 0) data_ = static_cast<float*>(device_->backend().allocate(bytes()));
  device_->bytesInUse += static_cast<int64_t>(bytes());
  device_->buffersAlive += 1;
}

Buffer::~Buffer() {
  if (data_) device_->backend().release(data_, bytes());
  device_->bytesInUse -= static_cast<int64_t>(bytes());
  device_->buffersAlive -= 1;
}

namespace {
std::mutex registryMutex;
std::map<std::string, std::shared_ptr<Device>>& registry() {
  static auto* devices = new std::map<std::string, std::shared_ptr<Device>>();  // lives for the process
  return *devices;
}

int parseCudaOrdinal(const std::string& name) {
  if (name == "cuda") return 0;
  if (name.rfind("cuda:", 0) != 0) return -1;
  std::string digits = name.substr(5);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoi(digits);
}
}  // namespace

std::shared_ptr<Device> openDevice(const std::string& requested) {
  std::string name = requested == "cuda" ? "cuda:0" : requested;
  std::lock_guard<std::mutex> lock(registryMutex);
  auto found = registry().find(name);
  if (found != registry().end()) return found->second;
  std::shared_ptr<Device> device;
  if (name == "cpu") {
    device = std::make_shared<Device>("cpu", std::make_unique<cpu::CpuBackend>());
  } else {
    int ordinal = parseCudaOrdinal(name);
    if (ordinal < 0)
      throw Error("INVALID_ARGUMENT", "Expected 'cpu', 'cuda' or 'cuda:N' for device but received '" + requested + "'");
    device = std::make_shared<Device>(name, cuda::createBackend(ordinal));
  }
  registry()[name] = device;
  return device;
}

std::vector<std::shared_ptr<Device>> openedDevices() {
  std::lock_guard<std::mutex> lock(registryMutex);
  std::vector<std::shared_ptr<Device>> devices;
  for (auto& entry : registry()) devices.push_back(entry.second);
  return devices;
}

std::vector<std::string> availableDevices(std::string* whyNoCuda) {
  std::vector<std::string> names{"cpu"};
  int count = cuda::deviceCount(whyNoCuda);
  for (int i = 0; i < count; ++i) names.push_back("cuda:" + std::to_string(i));
  return names;
}

}  // namespace cudnet
