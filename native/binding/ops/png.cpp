// png.cpp — entry point of the PNG writer of dataset records (cpu/png/png_encode.h): the encoding runs
// on libuv's thread pool, never on the JS thread, and resolves with a Buffer holding the file.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../../cpu/png/png_encode.h"
#include "../common.h"

namespace cudnet::binding {
namespace {

Napi::Error withCode(Napi::Error error) {
  error.Set("code", Napi::String::New(error.Env(), "INVALID_ARGUMENT"));
  return error;
}

std::string describe(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsNumber()) return value.ToString().Utf8Value();
  if (value.IsString()) return "a string";
  if (value.IsBoolean()) return "a boolean";
  if (value.IsTypedArray()) {
    static const char* const kNames[] = {"an Int8Array",    "a Uint8Array",     "a Uint8ClampedArray",
                                         "an Int16Array",   "a Uint16Array",    "an Int32Array",
                                         "a Uint32Array",   "a Float32Array",   "a Float64Array",
                                         "a BigInt64Array", "a BigUint64Array"};
    napi_typedarray_type type = value.As<Napi::TypedArray>().TypedArrayType();
    return type >= 0 && type < 11 ? kNames[type] : "a typed array";
  }
  if (value.IsArrayBuffer()) return "an ArrayBuffer";
  if (value.IsArray()) return "an array";
  return "an object";
}

// A whole number in [min, max], else a TypeError (not a number) or RangeError naming `name`.
uint32_t integerArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min, double max,
                    const char* range) {
  Napi::Value value = info[index];
  if (!value.IsNumber())
    throw withCode(Napi::TypeError::New(info.Env(), std::string("encodePng: ") + name + " must be a number, got " +
                                                        describe(value)));
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= min && number <= max) || number != std::floor(number))
    throw withCode(Napi::RangeError::New(info.Env(), std::string("encodePng: ") + name + " must be " + range +
                                                         ", got " + describe(value)));
  return static_cast<uint32_t>(number);
}

// Encodes on a thread of libuv's pool; holds a reference to the pixels' array until it is done.
class PngWorker : public Napi::AsyncWorker {
 public:
  PngWorker(Napi::Env env, Napi::Object pixels, const uint8_t* data, uint32_t width, uint32_t height,
            uint32_t channels)
      : Napi::AsyncWorker(env, "cudnet.encodePng"), deferred_(Napi::Promise::Deferred::New(env)),
        pixels_(Napi::Persistent(pixels)), data_(data), width_(width), height_(height), channels_(channels) {}
  ~PngWorker() override { std::free(png_); }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      // The file is written to a buffer this thread keeps for its next image (for a record's size),
      // then copied to one of its own size: glibc returns freed pages to the system, so a fresh
      // buffer of the bound's size would fault in its pages for every image (measured 8% slower).
      const size_t bound = cpu::png::encodeBound(width_, height_, channels_);
      thread_local std::vector<uint8_t> kept;
      std::unique_ptr<uint8_t[]> own;
      uint8_t* out;
      if (bound <= kKeptBytes) {
        if (kept.size() < bound) kept.resize(bound);
        out = kept.data();
      } else {
        own.reset(new uint8_t[bound]);
        out = own.get();
      }
      size_ = cpu::png::encode(data_, width_, height_, channels_, out);
      png_ = static_cast<uint8_t*>(std::malloc(size_));
      if (!png_) throw std::bad_alloc();
      std::memcpy(png_, out, size_);
    } catch (const std::bad_alloc&) {
      SetError("host memory exhausted while encoding a " + std::to_string(width_) + "x" + std::to_string(height_) +
               " PNG");
    }
  }
  void OnOK() override {
    uint8_t* png = png_;
    png_ = nullptr;  // the Buffer owns it now
    deferred_.Resolve(Napi::Buffer<uint8_t>::NewOrCopy(Env(), png, size_,
                                                       [](Napi::Env, uint8_t* data) { std::free(data); }));
  }
  void OnError(const Napi::Error& error) override {
    deferred_.Reject(makeError(Env(), "OUT_OF_MEMORY", error.Message()).Value());
  }

 private:
  static constexpr size_t kKeptBytes = size_t(1) << 20;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference pixels_;
  const uint8_t* data_;
  uint32_t width_, height_, channels_;
  uint8_t* png_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

// encodePng(pixels: Uint8Array, width, height, channels: 1 | 3) → Promise<Buffer>: a PNG file of 8-bit
// grey or RGB pixels (height rows of width x channels bytes). Bad arguments throw a TypeError or
// RangeError with code INVALID_ARGUMENT. The pixels must not change until the promise settles.
CUDNET_ENTRY(encodePng) {
  Napi::Env env = info.Env();
  Napi::Value value = info[0];
  napi_typedarray_type type = napi_int8_array;
  size_t byteLength = 0;
  void* pixels = nullptr;  // where the array's bytes start (its offset in its buffer included)
  if (!value.IsTypedArray() ||
      napi_get_typedarray_info(env, value, &type, &byteLength, &pixels, nullptr, nullptr) != napi_ok ||
      (type != napi_uint8_array && type != napi_uint8_clamped_array))
    throw withCode(
        Napi::TypeError::New(env, "encodePng: pixels must be a Uint8Array or Buffer, got " + describe(value)));
  constexpr double kMaxSide = 2147483647;  // PNG's limit on width and height
  uint32_t width = integerArg(info, 1, "width", 1, kMaxSide, "an integer from 1 to 2147483647");
  uint32_t height = integerArg(info, 2, "height", 1, kMaxSide, "an integer from 1 to 2147483647");
  uint32_t channels = integerArg(info, 3, "channels", 1, 3, "1 (grey) or 3 (RGB)");
  if (channels == 2)
    throw withCode(Napi::RangeError::New(env, "encodePng: channels must be 1 (grey) or 3 (RGB), got 2"));
  // At most 3 * (2^31)^2 < 2^64: no overflow.
  const uint64_t expected = uint64_t(width) * height * channels;
  if (byteLength != expected)
    throw withCode(Napi::RangeError::New(
        env, "encodePng: pixels holds " + std::to_string(byteLength) + " bytes but a " + std::to_string(width) +
                 "x" + std::to_string(height) + " image of " + std::to_string(channels) + " channel" +
                 (channels == 1 ? "" : "s") + " needs " + std::to_string(expected)));
  auto* worker =
      new PngWorker(env, value.As<Napi::Object>(), static_cast<const uint8_t*>(pixels), width, height, channels);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace cudnet::binding
