// Dense products and losses for the layers around the recurrent ones (Dense, the model's heads).
#include <napi.h>

#include <string>

#include "args.h"
#include "async_job.h"
#include "fused_rnn.h"

namespace frnn_addon {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 28;

// One checked product: plain pointers, safe to run off the main thread.
struct MatmulJob {
  bool trans_a, trans_b, accumulate;
  size_t m, n, k;
  const float *a, *b;
  float* c;
  void run() const { frnn::matmul(trans_a, trans_b, m, n, k, a, b, c, accumulate); }
};

// matmul(transA, transB, m, n, k, a, b, c, accumulate): c[m×n] (+)= op(a)·op(b), row-major.
MatmulJob matmul_job(const Napi::CallbackInfo& info) {
  MatmulJob j{};
  j.trans_a = bool_arg(info, 0);
  j.trans_b = bool_arg(info, 1);
  j.m = static_cast<size_t>(int_arg(info, 2, "m", kMaxDim));
  j.n = static_cast<size_t>(int_arg(info, 3, "n", kMaxDim));
  j.k = static_cast<size_t>(int_arg(info, 4, "k", kMaxDim));
  j.a = f32_arg(info, 5, "a", j.m * j.k, "m*k");
  j.b = f32_arg(info, 6, "b", j.k * j.n, "k*n");
  j.c = f32_arg(info, 7, "c", j.m * j.n, "m*n");
  j.accumulate = bool_arg(info, 8);
  return j;
}

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  matmul_job(info).run();
  return info.Env().Undefined();
}

// matmulAsync(same arguments) -> Promise: the product on a libuv worker thread; the caller must
// not touch c meanwhile.
Napi::Value MatmulAsync(const Napi::CallbackInfo& info) {
  const MatmulJob job = matmul_job(info);
  return queue_job(info, "fused-rnn:matmul", [job] {
    job.run();
    return frnn::Status::Ok();
  });
}

// softmaxCrossEntropy(logits, rows, classes, targets, valid?, gradScale, grad) -> [lossSum, correct]
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t rows = static_cast<size_t>(int_arg(info, 1, "rows", kMaxDim));
  const size_t classes = static_cast<size_t>(int_arg(info, 2, "classes", kMaxDim));
  const float* logits = f32_arg(info, 0, "logits", rows * classes, "rows*classes");
  const float* targets = f32_arg(info, 3, "targets", rows, "rows");
  const uint8_t* valid = nullptr;
  if (!(info[4].IsNull() || info[4].IsUndefined())) {
    if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw_type(env, "Expected Uint8Array for valid");
    Napi::Uint8Array v = info[4].As<Napi::Uint8Array>();
    if (v.ElementLength() != rows) throw_range(env, "Expected Uint8Array of length " + std::to_string(rows) + " (rows) for valid");
    valid = v.Data();
  }
  if (!info[5].IsNumber()) throw_type(env, "Expected number for gradScale");
  const float grad_scale = info[5].As<Napi::Number>().FloatValue();
  float* grad = f32_arg(info, 6, "grad", rows * classes, "rows*classes");
  frnn::CrossEntropySums sums;
  const frnn::Status st = frnn::softmax_cross_entropy(logits, rows, classes, targets, valid, grad_scale, grad, &sums);
  if (!st.ok) throw_range(env, st.message);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, sums.loss);
  out.Set(1u, sums.correct);
  return out;
}

}  // namespace

void define_matmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("matmulAsync", Napi::Function::New(env, MatmulAsync, "matmulAsync"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy, "softmaxCrossEntropy"));
}

}  // namespace frnn_addon
