// device.h — a device: its backend, its stream, its memory accounting; and the buffers that live on it.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "stream.h"

namespace cudnet {

class Device {
 public:
  Device(std::string name, std::unique_ptr<Backend> backend);
  ~Device();

  const std::string& name() const { return name_; }
  Backend& backend() { return *backend_; }
  Stream& stream() { return *stream_; }

  // Bytes and buffers alive on this device (allocated and not yet released).
  std::atomic<int64_t> bytesInUse{0};
  std::atomic<int64_t> buffersAlive{0};

 private:
  std::string name_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Stream> stream_;
};

// A block of device memory holding `count` floats. Shared by the tensors that view it and by
// the queued ops that use it, so it is released only when the last of them lets go.
class Buffer {
 public:
  Buffer(std::shared_ptr<Device> device, size_t count);  // throws OUT_OF_MEMORY
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  float* data() const { return data_; }
  size_t count() const { return count_; }
  size_t bytes() const { return count_ * sizeof(float); }
  Device& device() const { return *device_; }
  const std::shared_ptr<Device>& devicePointer() const { return device_; }

  // The error a failed op left in this buffer's elements (see Stream); only the device's stream thread
  // reads or writes it.
  BufferFailure failure;

 private:
  std::shared_ptr<Device> device_;
  size_t count_;
  float* data_;
};

using BufferRef = std::shared_ptr<Buffer>;

// Opens (once) and returns a device by name: "cpu" or "cuda:N". Throws Error with a message
// that says what is missing when the device cannot be used.
std::shared_ptr<Device> openDevice(const std::string& name);

// The devices opened so far (for memory reports).
std::vector<std::shared_ptr<Device>> openedDevices();

// Names of the devices that can be opened: "cpu" first, then "cuda:0", ...
std::vector<std::string> availableDevices(std::string* whyNoCuda);

}  // namespace cudnet
