// The addon's exports. Each binding lives in its own *_binding.cc.
#include <napi.h>

#include <utility>

#include "fused_rnn.h"

namespace frnn_addon {
Napi::Function define_native_rnn(Napi::Env env);
void define_matmul(Napi::Env env, Napi::Object exports);  // matmul, matmulAsync, softmaxCrossEntropy
void define_optim(Napi::Env env, Napi::Object exports);  // optimizerStep, optimizerStateNames, sumSquares
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", frnn::isa_name());
  o.Set("threads", frnn::num_threads());
  // Precisions this CPU runs on its own instructions, and those it runs through the portable
  // code (the same bits, slower).
  Napi::Array native = Napi::Array::New(info.Env()), portable = Napi::Array::New(info.Env());
  for (auto [p, name] : {std::pair{frnn::Precision::kFp32, "fp32"}, std::pair{frnn::Precision::kBf16, "bf16"},
                       std::pair{frnn::Precision::kInt8, "int8"}}) {
    Napi::Array& list = frnn::precision_native(p) ? native : portable;
    list.Set(list.Length(), name);
  }
  Napi::Object precisions = Napi::Object::New(info.Env());
  precisions.Set("native", native);
  precisions.Set("portable", portable);
  precisions.Set("bf16Kernel", frnn::precision_kernel(frnn::Precision::kBf16));
  precisions.Set("int8Kernel", frnn::precision_kernel(frnn::Precision::kInt8));
  o.Set("precisions", precisions);
  return o;
}

// setNumThreads(n): n validated in lib/index.ts; re-checked here.
static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "Expected number for n");
  const double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 256) || n != static_cast<int>(n))
    throw Napi::RangeError::New(info.Env(), "Expected integer in 1..256 for n");
  frnn::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeRnn", frnn_addon::define_native_rnn(env));
  frnn_addon::define_matmul(env, exports);
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  frnn_addon::define_optim(env, exports);
  return exports;
}

NODE_API_MODULE(fused_rnn, Init)
