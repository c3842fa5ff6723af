// addon.cpp — the addon's entry: exports NativeBuffer and every registered op entry point.
#include "common.h"

namespace cudnet::binding {

static Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeBuffer", NativeBuffer::define(env));
  for (const auto& [name, function] : entryTable()) exports.Set(name, Napi::Function::New(env, function, name));
  return exports;
}

NODE_API_MODULE(cudnet, init)

}  // namespace cudnet::binding
