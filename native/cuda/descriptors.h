// descriptors.h — owning RAII types for cuDNN descriptors: a descriptor is owned before it is
// configured, so a failing Set* call cannot leak it. Shapes are NCHW float32 throughout.
#pragma once
#include <string>
#include <utility>

#include "loader.h"
#include "status.h"

namespace cudnet::cuda {

// Owns one cuDNN descriptor of type Handle, destroyed with the matching Destroy call.
template <typename Handle>
class Descriptor {
 public:
  using Destroy = api::cudnnStatus_t (*)(Handle);
  Descriptor() = default;
  Descriptor(api::cudnnStatus_t (*create)(Handle*), Destroy destroy, const char* what) : destroy_(destroy) {
    checkCudnn(create(&handle_), what);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  Descriptor(Descriptor&& other) noexcept { *this = std::move(other); }
  Descriptor& operator=(Descriptor&& other) noexcept {
    std::swap(handle_, other.handle_);
    std::swap(destroy_, other.destroy_);
    return *this;
  }
  ~Descriptor() {
    if (handle_ != nullptr && destroy_ != nullptr) destroy_(handle_);
  }
  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
  Destroy destroy_ = nullptr;
};

using TensorDescriptor = Descriptor<api::cudnnTensorDescriptor_t>;
using FilterDescriptor = Descriptor<api::cudnnFilterDescriptor_t>;
using ConvolutionDescriptor = Descriptor<api::cudnnConvolutionDescriptor_t>;
using LrnDescriptor = Descriptor<api::cudnnLRNDescriptor_t>;

inline std::string shapeText(int n, int c, int h, int w) {
  return "[" + std::to_string(n) + ", " + std::to_string(c) + ", " + std::to_string(h) + ", " +
         std::to_string(w) + "]";
}

// A packed NCHW float tensor descriptor.
inline TensorDescriptor makeTensor(int n, int c, int h, int w) {
  const api::CudnnApi& cudnn = libraries().cudnn;
  TensorDescriptor descriptor(cudnn.cudnnCreateTensorDescriptor, cudnn.cudnnDestroyTensorDescriptor,
                              "cudnnCreateTensorDescriptor");
  checkCudnn(cudnn.cudnnSetTensor4dDescriptor(descriptor.get(), api::CUDNN_TENSOR_NCHW, api::CUDNN_DATA_FLOAT, n, c,
                                              h, w),
             [&] { return "cudnnSetTensor4dDescriptor " + shapeText(n, c, h, w); });
  return descriptor;
}

// A K x C x H x W float filter descriptor (note the (dataType, format) argument order of filters).
inline FilterDescriptor makeFilter(int k, int c, int h, int w) {
  const api::CudnnApi& cudnn = libraries().cudnn;
  FilterDescriptor descriptor(cudnn.cudnnCreateFilterDescriptor, cudnn.cudnnDestroyFilterDescriptor,
                              "cudnnCreateFilterDescriptor");
  checkCudnn(cudnn.cudnnSetFilter4dDescriptor(descriptor.get(), api::CUDNN_DATA_FLOAT, api::CUDNN_TENSOR_NCHW, k, c,
                                              h, w),
             [&] { return "cudnnSetFilter4dDescriptor " + shapeText(k, c, h, w); });
  return descriptor;
}

}  // namespace cudnet::cuda
