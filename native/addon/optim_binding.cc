// Optimizer bindings: one synchronous call updates every parameter (lib/optim/optimizers.ts).
//
//   optimizerStep(kind, hyper, step, params, grads, states, gradScale, clipValue, fresh?)
//   optimizerStepAsync(same) -> Promise: the update on a worker thread
//   optimizerStateNames(kind, hyper) -> string[]      e.g. ['exp_avg', 'exp_avg_sq']
//   sumSquares(arrays) -> number                       float64 sum of squares over all arrays
//
// optimizerStep checks every argument before it writes anything, so a call that throws leaves
// all weights and state as they were. The sync form suits small models (one memory-bound pass
// is shorter than a round trip to a worker); the async form keeps the event loop free on big ones.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "async_job.h"
#include "fused_rnn_optim.h"

namespace frnn_addon {
namespace {

using frnn::OptimHyper;
using frnn::OptimKind;

std::string received(const Napi::Value& v) {
  if (v.IsTypedArray()) return "a typed array of another type";
  if (v.IsArray()) return "array";
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsBoolean()) return "boolean";
  return "object";
}

OptimKind kind_arg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    for (int k = 0; k < static_cast<int>(OptimKind::kCount); ++k)
      if (s == frnn::optim_kind_name(static_cast<OptimKind>(k))) return static_cast<OptimKind>(k);
  }
  throw_range(info.Env(), "Expected one of 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad' for kind");
}

OptimHyper hyper_arg(const Napi::CallbackInfo& info, size_t i, OptimKind kind) {
  Napi::Value v = info[i];
  if (!v.IsObject() || v.IsArray()) throw_type(info.Env(), "Expected object for hyper but received " + received(v));
  Napi::Object o = v.As<Napi::Object>();
  OptimHyper h;
  h.lr = num_prop(o, "lr", h.lr);
  h.momentum = num_prop(o, "momentum", h.momentum);
  h.dampening = num_prop(o, "dampening", h.dampening);
  h.nesterov = bool_prop(o, "nesterov", h.nesterov);
  h.weight_decay = num_prop(o, "weightDecay", h.weight_decay);
  h.beta1 = num_prop(o, "beta1", h.beta1);
  h.beta2 = num_prop(o, "beta2", h.beta2);
  h.eps = num_prop(o, "eps", h.eps);
  h.amsgrad = bool_prop(o, "amsgrad", h.amsgrad);
  h.alpha = num_prop(o, "alpha", h.alpha);
  h.centered = bool_prop(o, "centered", h.centered);
  h.lr_decay = num_prop(o, "lrDecay", h.lr_decay);
  h.initial_accumulator_value = num_prop(o, "initialAccumulatorValue", h.initial_accumulator_value);
  const frnn::Status s = frnn::validate_optim(kind, h);
  if (!s.ok) throw_range(info.Env(), s.message);
  return h;
}

// A JS array argument of `expected` entries (expected < 0: any length).
Napi::Array array_arg(Napi::Env env, Napi::Value v, const std::string& name, long expected, const char* what) {
  if (!v.IsArray()) throw_type(env, "Expected array for " + name + " but received " + received(v));
  Napi::Array a = v.As<Napi::Array>();
  if (expected >= 0 && a.Length() != static_cast<uint32_t>(expected))
    throw_range(env, "Expected array of length " + std::to_string(expected) + " (" + what + ") for " + name +
                         " but received length " + std::to_string(a.Length()));
  return a;
}

// A Float32Array entry; expected == SIZE_MAX: any length.
Napi::Float32Array f32_entry(Napi::Env env, Napi::Value v, const std::string& name, size_t expected) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw_type(env, "Expected Float32Array for " + name + " but received " + received(v));
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (expected != SIZE_MAX && a.ElementLength() != expected)
    throw_range(env, "Expected Float32Array of length " + std::to_string(expected) + " for " + name +
                         " but received length " + std::to_string(a.ElementLength()));
  return a;
}

double finite_arg(const Napi::CallbackInfo& info, size_t i, const char* name, bool allow_inf) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), std::string("Expected number for ") + name + " but received " + received(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || (!allow_inf && std::isinf(d)))
    throw_range(info.Env(), std::string("Expected ") + (allow_inf ? "number (not NaN)" : "finite number") + " for " +
                                name);
  return d;
}

// One parameter's buffers, collected while checking.
struct Slot {
  float* param;
  const float* grad;
  std::vector<float*> state;
  size_t n;
  bool fresh;
};

// One checked update: plain pointers and numbers, safe to run off the main thread.
struct StepJob {
  OptimKind kind;
  OptimHyper h;
  int64_t step;
  float grad_scale, clip_value;
  std::vector<Slot> slots;

  // Refuses non-finite gradients before anything is written: one NaN or Infinity (or a finite
  // gradient that gradScale pushes past float32's range) would make every weight it touches NaN.
  // One vectorised integer pass over the gradients (max_abs_bits), then the update.
  frnn::Status run() const {
    for (size_t i = 0; i < slots.size(); ++i) {
      const uint32_t bits = frnn::max_abs_bits(slots[i].grad, slots[i].n);
      float max_abs;
      std::memcpy(&max_abs, &bits, sizeof max_abs);
      if (bits >= frnn::kNonFiniteBits)
        return frnn::Status::Error("Expected finite gradients for grads[" + std::to_string(i) +
                                   "] but found NaN or Infinity: no parameter was updated");
      if (!std::isfinite(max_abs * grad_scale))
        return frnn::Status::Error("Expected gradients that stay finite in float32 after gradScale for grads[" +
                                   std::to_string(i) + "] but max |grad| " + std::to_string(max_abs) +
                                   " times gradScale overflows: no parameter was updated");
    }
    for (const Slot& s : slots)
      frnn::optim_step(kind, h, step, s.param, s.grad, s.state.data(), s.n, grad_scale, clip_value, s.fresh);
    return frnn::Status::Ok();
  }
};

// Checks every argument of optimizerStep(Async) before anything is written.
StepJob step_job(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StepJob job{};
  job.kind = kind_arg(info, 0);
  job.h = hyper_arg(info, 1, job.kind);
  const double step_d = finite_arg(info, 2, "step", false);
  if (!(step_d >= 1 && step_d <= 9007199254740991.0) || std::floor(step_d) != step_d)
    throw_range(env, "Expected positive integer for step");
  job.step = static_cast<int64_t>(step_d);

  Napi::Array params = array_arg(env, info[3], "params", -1, "");
  const long count = static_cast<long>(params.Length());
  Napi::Array grads = array_arg(env, info[4], "grads", count, "params.length");
  Napi::Array states = array_arg(env, info[5], "states", count, "params.length");
  job.grad_scale = static_cast<float>(finite_arg(info, 6, "gradScale", false));
  job.clip_value = static_cast<float>(finite_arg(info, 7, "clipValue", true));
  const bool has_fresh = !(info[8].IsUndefined() || info[8].IsNull());
  Napi::Array fresh = has_fresh ? array_arg(env, info[8], "fresh", count, "params.length") : Napi::Array();

  const size_t n_state = frnn::optim_state_count(job.kind, job.h);
  job.slots.resize(static_cast<size_t>(count));
  for (uint32_t i = 0; i < static_cast<uint32_t>(count); ++i) {
    const std::string idx = "[" + std::to_string(i) + "]";
    Napi::Float32Array p = f32_entry(env, params.Get(i), "params" + idx, SIZE_MAX);
    const size_t n = p.ElementLength();
    Napi::Float32Array g = f32_entry(env, grads.Get(i), "grads" + idx, n);
    Napi::Array st = array_arg(env, states.Get(i), "states" + idx, static_cast<long>(n_state),
                               "state buffers of this optimizer");
    Slot& s = job.slots[i];
    s.param = p.Data();
    s.grad = g.Data();
    s.n = n;
    s.state.resize(n_state);
    for (uint32_t k = 0; k < n_state; ++k)
      s.state[k] = f32_entry(env, st.Get(k), "states" + idx + "[" + std::to_string(k) + "]", n).Data();
    s.fresh = job.step == 1;
    if (has_fresh) {
      Napi::Value f = fresh.Get(i);
      if (!f.IsBoolean()) throw_type(env, "Expected boolean for fresh" + idx + " but received " + received(f));
      s.fresh = f.As<Napi::Boolean>().Value();
    }
  }
  return job;
}

Napi::Value OptimizerStep(const Napi::CallbackInfo& info) {
  const frnn::Status st = step_job(info).run();
  if (!st.ok) throw_range(info.Env(), st.message);
  return info.Env().Undefined();
}

// The same update on a libuv worker thread (large models: the event loop stays free); lib/optim
// passes only SharedArrayBuffer memory and holds the layers as a writer meanwhile.
Napi::Value OptimizerStepAsync(const Napi::CallbackInfo& info) {
  auto job = std::make_shared<const StepJob>(step_job(info));
  return queue_job(info, "fused-rnn:optimizer-step", [job] { return job->run(); });
}

Napi::Value OptimizerStateNames(const Napi::CallbackInfo& info) {
  const OptimKind kind = kind_arg(info, 0);
  const OptimHyper h = hyper_arg(info, 1, kind);
  const size_t n = frnn::optim_state_count(kind, h);
  Napi::Array out = Napi::Array::New(info.Env(), n);
  for (size_t k = 0; k < n; ++k) out.Set(static_cast<uint32_t>(k), frnn::optim_state_name(kind, h, k));
  return out;
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array arrays = array_arg(env, info[0], "arrays", -1, "");
  std::vector<Napi::Float32Array> checked;
  checked.reserve(arrays.Length());
  for (uint32_t i = 0; i < arrays.Length(); ++i)
    checked.push_back(f32_entry(env, arrays.Get(i), "arrays[" + std::to_string(i) + "]", SIZE_MAX));
  double sum = 0;
  for (Napi::Float32Array& a : checked) sum += frnn::sum_squares(a.Data(), a.ElementLength());
  return Napi::Number::New(env, sum);
}

}  // namespace

void define_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("optimizerStep", Napi::Function::New(env, OptimizerStep, "optimizerStep"));
  exports.Set("optimizerStepAsync", Napi::Function::New(env, OptimizerStepAsync, "optimizerStepAsync"));
  exports.Set("optimizerStateNames", Napi::Function::New(env, OptimizerStateNames, "optimizerStateNames"));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares, "sumSquares"));
}

}  // namespace frnn_addon
