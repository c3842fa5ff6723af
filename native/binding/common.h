// common.h — what every binding entry shares: argument readers, JS errors with .code,
// op submission to a device's stream, and self-registration of entry points.
#pragma once
#include <napi.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/device.h"
#include "../core/error.h"

namespace cudnet::binding {

// ---- entry registration: each ops/*.cpp file registers its functions at load time ----------
using EntryFunction = Napi::Value (*)(const Napi::CallbackInfo&);
std::vector<std::pair<std::string, EntryFunction>>& entryTable();
struct EntryRegistrar {
  EntryRegistrar(const char* name, EntryFunction function) { entryTable().emplace_back(name, function); }
};
// Declares a native entry point `name` exported on the addon. The body runs with `info`;
// cudnet::Error thrown inside becomes a JS Error with .code.
#define CUDNET_ENTRY(name)                                                              \
  static Napi::Value name##_body(const Napi::CallbackInfo& info);                       \
  static Napi::Value name(const Napi::CallbackInfo& info) {                              \
    return ::cudnet::binding::guard(info.Env(), [&] { return name##_body(info); });     \
  }                                                                                      \
  static ::cudnet::binding::EntryRegistrar name##_registrar(#name, name);               \
  static Napi::Value name##_body(const Napi::CallbackInfo& info)

// ---- errors ---------------------------------------------------------------------------------
Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message);
Napi::Value guard(Napi::Env env, const std::function<Napi::Value()>& body);

// ---- the native side of a tensor: a handle to a Buffer ---------------------------------------
class NativeBuffer : public Napi::ObjectWrap<NativeBuffer> {
 public:
  static Napi::Function define(Napi::Env env);
  // This environment's NativeBuffer class: each worker thread that loads the addon has its own, and
  // one ending must not take the main thread's with it (so it is instance data, not a global).
  static Napi::Function constructor(Napi::Env env);
  explicit NativeBuffer(const Napi::CallbackInfo& info);
  ~NativeBuffer() override;

  // The buffer, or a thrown DISPOSED error naming `what`.
  const BufferRef& get(const char* what) const;

 private:
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value read(const Napi::CallbackInfo& info);
  Napi::Value write(const Napi::CallbackInfo& info);
  Napi::Value copyFrom(const Napi::CallbackInfo& info);
  Napi::Value count(const Napi::CallbackInfo& info);
  Napi::Value device(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);
  void releaseBuffer(Napi::Env env);

  BufferRef buffer_;
  int64_t externalBytes_ = 0;
};

// ---- argument readers (JS has already checked them; these guard the native side) -------------
BufferRef bufferArg(const Napi::CallbackInfo& info, size_t index, const char* name);
BufferRef optionalBufferArg(const Napi::CallbackInfo& info, size_t index, const char* name);
double numberArg(const Napi::CallbackInfo& info, size_t index, const char* name);
size_t countArg(const Napi::CallbackInfo& info, size_t index, const char* name);
bool boolArg(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Object objectArg(const Napi::CallbackInfo& info, size_t index, const char* name);
int intField(const Napi::Object& object, const char* field);
double numberField(const Napi::Object& object, const char* field);
bool boolField(const Napi::Object& object, const char* field);

// Reads a Conv2dParams object (fields as in core/params.h) and fills in the output size. The TS side
// has checked every field; this guards the native side against misuse.
Conv2dParams convParamsArg(const Napi::CallbackInfo& info, size_t index);

// Throws SHAPE_MISMATCH unless `buffer` holds at least `needed` floats.
void requireCount(const char* op, const char* name, const BufferRef& buffer, size_t needed);

// The device all non-null buffers live on; throws DEVICE_MISMATCH when they differ.
std::shared_ptr<Device> commonDevice(const char* op, std::initializer_list<const BufferRef*> buffers);

// The elements [offset, offset + count) of a buffer that an op reads, overwrites (writes) or reads
// and writes (updates: accumulation, strided or partial writes). A null buffer (an optional argument
// not given) is left out by submit.
BufferUse reads(const BufferRef& buffer, size_t count, size_t offset = 0);
BufferUse writes(const BufferRef& buffer, size_t count, size_t offset = 0);
BufferUse updates(const BufferRef& buffer, size_t count, size_t offset = 0);

// Queues `work` on the device's stream. `uses` lists every range the op reads and writes: the stream
// keeps those buffers alive until the work has run, skips the work when it would read the output of a
// failed op, and leaves the op's error on what it writes if it fails (see core/stream.h), so that only
// the reads that depend on a failure reject. `describe` names the op and its shapes if it fails.
void submit(const std::shared_ptr<Device>& device, std::initializer_list<BufferUse> uses, std::function<void()> work,
            std::function<std::string()> describe);

}  // namespace cudnet::binding
