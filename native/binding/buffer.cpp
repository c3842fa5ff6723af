// buffer.cpp — NativeBuffer (a tensor's storage seen from JS): create, read (Promise), write, dispose.
#include <cstring>

#include "common.h"

namespace cudnet::binding {

Napi::Function NativeBuffer::define(Napi::Env env) {
  Napi::Function function = DefineClass(env, "NativeBuffer",
                                        {
                                            InstanceMethod("dispose", &NativeBuffer::dispose),
                                            InstanceMethod("read", &NativeBuffer::read),
                                            InstanceMethod("write", &NativeBuffer::write),
                                            InstanceMethod("copyFrom", &NativeBuffer::copyFrom),
                                            InstanceAccessor("count", &NativeBuffer::count, nullptr),
                                            InstanceAccessor("device", &NativeBuffer::device, nullptr),
                                            InstanceAccessor("disposed", &NativeBuffer::disposed, nullptr),
                                        });
  // Freed by node-addon-api when this environment (the main thread or a worker) is torn down.
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(function)));
  return function;
}

Napi::Function NativeBuffer::constructor(Napi::Env env) {
  return env.GetInstanceData<Napi::FunctionReference>()->Value();
}

// new NativeBuffer(deviceName, count)
NativeBuffer::NativeBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeBuffer>(info) {
  guard(info.Env(), [&]() -> Napi::Value {
    if (!info[0].IsString()) throw Error("INVALID_ARGUMENT", "Expected a device name");
    size_t count = countArg(info, 1, "count");
    buffer_ = std::make_shared<Buffer>(::cudnet::openDevice(info[0].As<Napi::String>().Utf8Value()), count);
    // Host buffers count against V8's heap limit so forgotten tensors get collected.
    if (buffer_->device().name() == "cpu") {
      externalBytes_ = static_cast<int64_t>(buffer_->bytes());
      Napi::MemoryManagement::AdjustExternalMemory(info.Env(), externalBytes_);
    }
    return info.Env().Undefined();
  });
}

NativeBuffer::~NativeBuffer() { buffer_.reset(); }

void NativeBuffer::releaseBuffer(Napi::Env env) {
  if (externalBytes_) Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
  externalBytes_ = 0;
  buffer_.reset();
}

const BufferRef& NativeBuffer::get(const char* what) const {
  if (!buffer_) throw Error("DISPOSED", std::string(what) + " was disposed and cannot be used");
  return buffer_;
}

Napi::Value NativeBuffer::dispose(const Napi::CallbackInfo& info) {
  releaseBuffer(info.Env());
  return info.Env().Undefined();
}

Napi::Value NativeBuffer::count(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), buffer_ ? static_cast<double>(buffer_->count()) : 0);
}

Napi::Value NativeBuffer::device(const Napi::CallbackInfo& info) {
  return buffer_ ? Napi::String::New(info.Env(), buffer_->device().name()) : info.Env().Null();
}

Napi::Value NativeBuffer::disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !buffer_);
}

namespace {
// Waits off the JS thread for a queued copy into a Float32Array, then resolves or rejects.
class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Env env, BufferRef buffer, size_t offset, size_t count)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), buffer_(std::move(buffer)),
        offset_(offset), count_(count) {
    Napi::Float32Array array = Napi::Float32Array::New(env, count);
    destination_ = array.Data();  // the backing store does not move while referenced
    array_ = Napi::Persistent(array);
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  // The copy is a task that reads the range, so it waits for the ops before it and rejects with the
  // error of a failed op that was to write that range, or with its own (a failed device copy) — never
  // with the error of unrelated work. The task lets go of the buffer before the read resolves, so a
  // dispose() right after it frees the memory at once.
  void Execute() override {
    BufferRef buffer = std::move(buffer_);  // only the queued copy holds it from here
    float* destination = destination_;
    size_t offset = offset_, count = count_;
    Stream& stream = buffer->device().stream();
    StreamTask task;
    task.work = [buffer, destination, offset, count] {
      if (count) buffer->device().backend().copyToHost(destination, buffer->data() + offset, count * sizeof(float));
    };
    task.describe = [] { return std::string("reading a tensor"); };
    task.uses = {reads(buffer, count, offset)};
    buffer.reset();
    StreamError error;
    if (!stream.runAndWait(std::move(task), &error)) {
      code_ = error.code;
      SetError(error.message);
    }
  }
  void OnOK() override { deferred_.Resolve(array_.Value()); }
  void OnError(const Napi::Error& error) override {
    deferred_.Reject(makeError(Env(), code_, error.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  BufferRef buffer_;
  size_t offset_, count_;
  float* destination_ = nullptr;
  Napi::Reference<Napi::Float32Array> array_;
  std::string code_;
};

// Waits off the JS thread until a device has run everything queued.
class SynchronizeWorker : public Napi::AsyncWorker {
 public:
  SynchronizeWorker(Napi::Env env, std::shared_ptr<Device> device)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), device_(std::move(device)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    std::shared_ptr<Device> device = device_;
    device->stream().enqueue([device] { device->backend().synchronize(); },
                             [] { return std::string("synchronize"); });
    StreamError error;
    if (!device_->stream().waitIdle(&error)) {
      code_ = error.code;
      SetError(error.message);
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override {
    deferred_.Reject(makeError(Env(), code_, error.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Device> device_;
  std::string code_;
};
}  // namespace

// The most elements a Float32Array holds on every supported Node (V8 refuses a longer one with a fatal
// error, not an exception); lib/tensor.ts checks the same limit first.
constexpr size_t kMaxReadCount = size_t{1} << 32;

// read(offset, count) → Promise<Float32Array>
Napi::Value NativeBuffer::read(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const BufferRef& buffer = get("tensor");
    size_t offset = countArg(info, 0, "offset"), count = countArg(info, 1, "count");
    if (offset > buffer->count() || count > buffer->count() - offset)
      throw Error("INVALID_ARGUMENT", "read past the end of a tensor");
    if (count > kMaxReadCount)
      throw Error("TOO_LARGE", "a read of " + std::to_string(count) + " values does not fit a Float32Array (at most " +
                                   std::to_string(kMaxReadCount) + " elements)");
    auto* worker = new ReadWorker(info.Env(), buffer, offset, count);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  });
}

// write(Float32Array, offset): copies the values now, stores them in order with queued ops.
Napi::Value NativeBuffer::write(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const BufferRef& buffer = get("tensor");
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Error("INVALID_ARGUMENT", "Expected a Float32Array for values");
    Napi::Float32Array values = info[0].As<Napi::Float32Array>();
    size_t offset = countArg(info, 1, "offset");
    if (offset > buffer->count() || values.ElementLength() > buffer->count() - offset)
      throw Error("SHAPE_MISMATCH", "write of " + std::to_string(values.ElementLength()) +
                                        " values at offset " + std::to_string(offset) + " past the end of a tensor of " +
                                        std::to_string(buffer->count()));
    auto host = std::make_shared<std::vector<float>>(values.Data(), values.Data() + values.ElementLength());
    BufferRef target = buffer;
    submit(
        target->devicePointer(), {writes(target, host->size(), offset)},
        [target, host, offset] {
          target->device().backend().copyFromHost(target->data() + offset, host->data(), host->size() * sizeof(float));
        },
        [] { return std::string("writing a tensor"); });
    return info.Env().Undefined();
  });
}

// copyFrom(source, sourceOffset, destinationOffset, count): device-side copy in stream order.
Napi::Value NativeBuffer::copyFrom(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    BufferRef target = get("tensor");
    BufferRef source = bufferArg(info, 0, "source");
    size_t from = countArg(info, 1, "sourceOffset"), to = countArg(info, 2, "destinationOffset");
    size_t count = countArg(info, 3, "count");
    bool fits = from <= source->count() && count <= source->count() - from && to <= target->count() &&
                count <= target->count() - to;
    if (!fits)
      throw Error("SHAPE_MISMATCH", "copy of " + std::to_string(count) + " values past the end of a tensor");
    auto device = commonDevice("copy", {&target, &source});
    submit(
        device, {reads(source, count, from), writes(target, count, to)},
        [=] { device->backend().copy(count, source->data() + from, target->data() + to); },
        [] { return std::string("copying a tensor"); });
    return info.Env().Undefined();
  });
}

CUDNET_ENTRY(synchronize) {
  if (!info[0].IsString()) throw Error("INVALID_ARGUMENT", "Expected a device name");
  auto* worker = new SynchronizeWorker(info.Env(), ::cudnet::openDevice(info[0].As<Napi::String>().Utf8Value()));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// devices() → { names: string[], cudaUnavailable: string }
CUDNET_ENTRY(devices) {
  std::string whyNot;
  std::vector<std::string> names = availableDevices(&whyNot);
  Napi::Array list = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) list.Set(static_cast<uint32_t>(i), names[i]);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("names", list);
  result.Set("cudaUnavailable", whyNot);
  return result;
}

// openDevice(name) → { name, description }; throws when the device cannot be used.
CUDNET_ENTRY(openDevice) {
  if (!info[0].IsString()) throw Error("INVALID_ARGUMENT", "Expected a device name");
  auto device = ::cudnet::openDevice(info[0].As<Napi::String>().Utf8Value());
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("name", device->name());
  result.Set("description", device->backend().describe());
  return result;
}

// memory() → { [device]: { bytes, tensors, cachedBytes, pendingOps } }
CUDNET_ENTRY(memory) {
  Napi::Object result = Napi::Object::New(info.Env());
  for (const auto& device : openedDevices()) {
    Napi::Object entry = Napi::Object::New(info.Env());
    entry.Set("bytes", static_cast<double>(device->bytesInUse.load()));
    entry.Set("tensors", static_cast<double>(device->buffersAlive.load()));
    entry.Set("cachedBytes", static_cast<double>(device->backend().cachedBytes()));
    entry.Set("pendingOps", static_cast<double>(device->stream().pending()));
    result.Set(device->name(), entry);
  }
  return result;
}

// emptyCache(name): releases a device's cached free blocks (in stream order).
CUDNET_ENTRY(emptyCache) {
  if (!info[0].IsString()) throw Error("INVALID_ARGUMENT", "Expected a device name");
  auto device = ::cudnet::openDevice(info[0].As<Napi::String>().Utf8Value());
  submit(device, {}, [device] { device->backend().emptyCache(); }, [] { return std::string("emptyCache"); });
  return info.Env().Undefined();
}

}  // namespace cudnet::binding
