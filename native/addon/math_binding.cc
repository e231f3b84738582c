// Dense products for the layers around the recurrent ones (Dense, the model's heads).
#include <napi.h>

#include <string>

#include "args.h"
#include "fused_rnn.h"

namespace frnn_addon {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 28;

// matmul(transA, transB, m, n, k, a, b, c, accumulate): c[m×n] (+)= op(a)·op(b), row-major.
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  const bool trans_a = bool_arg(info, 0), trans_b = bool_arg(info, 1);
  const size_t m = static_cast<size_t>(int_arg(info, 2, "m", kMaxDim));
  const size_t n = static_cast<size_t>(int_arg(info, 3, "n", kMaxDim));
  const size_t k = static_cast<size_t>(int_arg(info, 4, "k", kMaxDim));
  const float* a = f32_arg(info, 5, "a", m * k, "m*k");
  const float* b = f32_arg(info, 6, "b", k * n, "k*n");
  float* c = f32_arg(info, 7, "c", m * n, "m*n");
  frnn::matmul(trans_a, trans_b, m, n, k, a, b, c, bool_arg(info, 8));
  return info.Env().Undefined();
}

}  // namespace

Napi::Function define_matmul(Napi::Env env) { return Napi::Function::New(env, Matmul, "matmul"); }

}  // namespace frnn_addon
