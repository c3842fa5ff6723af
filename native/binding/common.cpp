// common.cpp — argument readers, errors and op submission for the binding.
#include "common.h"

#include <cmath>

namespace cudnet::binding {

std::vector<std::pair<std::string, EntryFunction>>& entryTable() {
  static auto* table = new std::vector<std::pair<std::string, EntryFunction>>();
  return *table;
}

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Value guard(Napi::Env env, const std::function<Napi::Value()>& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw makeError(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw makeError(env, "OUT_OF_MEMORY", "host memory exhausted");
  } catch (const std::exception& e) {
    throw makeError(env, "NATIVE_ERROR", e.what());
  }
}

BufferRef bufferArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = info[index];
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(NativeBuffer::constructor(info.Env())))
    throw Error("INVALID_ARGUMENT", std::string("Expected a tensor for ") + name);
  return NativeBuffer::Unwrap(value.As<Napi::Object>())->get(name);
}

BufferRef optionalBufferArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info[index].IsNull() || info[index].IsUndefined()) return nullptr;
  return bufferArg(info, index, name);
}

double numberArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsNumber()) throw Error("INVALID_ARGUMENT", std::string("Expected a number for ") + name);
  return info[index].As<Napi::Number>().DoubleValue();
}

size_t countArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  double value = numberArg(info, index, name);
  if (!(value >= 0) || value != std::floor(value) || value > 9.007199254740992e15)
    throw Error("INVALID_ARGUMENT", std::string("Expected a non-negative integer for ") + name);
  return static_cast<size_t>(value);
}

bool boolArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsBoolean()) throw Error("INVALID_ARGUMENT", std::string("Expected a boolean for ") + name);
  return info[index].As<Napi::Boolean>().Value();
}

Napi::Object objectArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsObject()) throw Error("INVALID_ARGUMENT", std::string("Expected an object for ") + name);
  return info[index].As<Napi::Object>();
}

double numberField(const Napi::Object& object, const char* field) {
  Napi::Value value = object.Get(field);
  if (!value.IsNumber()) throw Error("INVALID_ARGUMENT", std::string("Expected a number for parameter ") + field);
  return value.As<Napi::Number>().DoubleValue();
}

int intField(const Napi::Object& object, const char* field) {
  double value = numberField(object, field);
  if (value != std::floor(value) || std::fabs(value) > 2147483647.0)
    throw Error("INVALID_ARGUMENT", std::string("Expected an integer for parameter ") + field);
  return static_cast<int>(value);
}

bool boolField(const Napi::Object& object, const char* field) {
  Napi::Value value = object.Get(field);
  if (!value.IsBoolean()) throw Error("INVALID_ARGUMENT", std::string("Expected a boolean for parameter ") + field);
  return value.As<Napi::Boolean>().Value();
}

Conv2dParams convParamsArg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Object object = objectArg(info, index, "params");
  Conv2dParams p;
  p.N = intField(object, "N"), p.C = intField(object, "C"), p.H = intField(object, "H"), p.W = intField(object, "W");
  p.K = intField(object, "K"), p.kernelH = intField(object, "kernelH"), p.kernelW = intField(object, "kernelW");
  p.padH = intField(object, "padH"), p.padW = intField(object, "padW");
  p.strideH = intField(object, "strideH"), p.strideW = intField(object, "strideW");
  p.dilationH = intField(object, "dilationH"), p.dilationW = intField(object, "dilationW");
  p.group = intField(object, "group");
  bool positive = p.N > 0 && p.C > 0 && p.H > 0 && p.W > 0 && p.K > 0 && p.kernelH > 0 && p.kernelW > 0 &&
                  p.strideH > 0 && p.strideW > 0 && p.dilationH > 0 && p.dilationW > 0 && p.group > 0;
  if (!positive || p.padH < 0 || p.padW < 0 || p.C % p.group != 0 || p.K % p.group != 0)
    throw Error("INVALID_ARGUMENT", "convolution parameters out of range");
  computeOutputShape(p);
  if (p.outH <= 0 || p.outW <= 0) throw Error("SHAPE_MISMATCH", "convolution output would be empty");
  return p;
}

void requireCount(const char* op, const char* name, const BufferRef& buffer, size_t needed) {
  if (buffer && buffer->count() < needed)
    throw Error("SHAPE_MISMATCH", std::string(op) + ": " + name + " holds " + std::to_string(buffer->count()) +
                                      " elements but the op needs " + std::to_string(needed));
}

std::shared_ptr<Device> commonDevice(const char* op, std::initializer_list<const BufferRef*> buffers) {
  std::shared_ptr<Device> device;
  for (const BufferRef* buffer : buffers) {
    if (!buffer || !*buffer) continue;
    const auto& candidate = (*buffer)->devicePointer();
    if (!device) device = candidate;
    else if (device != candidate)
      throw Error("DEVICE_MISMATCH", std::string(op) + ": tensors are on different devices (" + device->name() +
                                         " and " + candidate->name() + ")");
  }
  if (!device) throw Error("INVALID_ARGUMENT", std::string(op) + ": no tensor given");
  return device;
}

BufferUse reads(const BufferRef& buffer, size_t count, size_t offset) {
  return BufferUse{buffer, offset, offset + count, Access::Read};
}

BufferUse writes(const BufferRef& buffer, size_t count, size_t offset) {
  return BufferUse{buffer, offset, offset + count, Access::Write};
}

BufferUse updates(const BufferRef& buffer, size_t count, size_t offset) {
  return BufferUse{buffer, offset, offset + count, Access::Update};
}

void submit(const std::shared_ptr<Device>& device, std::initializer_list<BufferUse> uses, std::function<void()> work,
            std::function<std::string()> describe) {
  StreamTask task{std::move(work), std::move(describe), {}, nullptr};
  for (const BufferUse& use : uses) {
    if (use.buffer) task.uses.push_back(use);
  }
  device->stream().enqueue(std::move(task));
}

}  // namespace cudnet::binding
