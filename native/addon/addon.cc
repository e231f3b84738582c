// The addon's exports. Each binding lives in its own *_binding.cc.
#include <napi.h>

#include "fused_rnn.h"

namespace frnn_addon {
Napi::Function define_native_rnn(Napi::Env env);
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", frnn::isa_name());
  o.Set("threads", 1);
  return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeRnn", frnn_addon::define_native_rnn(env));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  return exports;
}

NODE_API_MODULE(fused_rnn, Init)
