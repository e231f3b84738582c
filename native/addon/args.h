// Argument checks for the bindings. JS validated everything already; the native side
// re-checks whatever it indexes with, so no call from JS can read or write out of bounds.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace frnn_addon {

[[noreturn]] inline void throw_range(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}
[[noreturn]] inline void throw_type(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}

// A Float32Array argument of exactly `expected` elements (`what` says how it is derived,
// e.g. "T*B*I"). Returns nullptr for null/undefined when `optional`.
inline float* f32_arg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t expected,
                      const char* what, bool optional = false) {
  // The C API, one call per question: node-addon-api's IsTypedArray / As<Float32Array> /
  // ElementLength / Data ask napi_get_typedarray_info up to three times per array, and a step of
  // a small layer passes eight arrays (~1 µs of its ~5).
  napi_env env = info.Env();
  napi_value v = info[i];
  napi_valuetype kind;
  if (optional && napi_typeof(env, v, &kind) == napi_ok && (kind == napi_null || kind == napi_undefined)) return nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_float32_array)
    throw_type(info.Env(), std::string("Expected Float32Array for ") + name);
  if (length != expected)
    throw_range(info.Env(), "Expected Float32Array of length " + std::to_string(expected) + " (" + what + ") for " +
                                name + " but received length " + std::to_string(length));
  return static_cast<float*>(data);
}

// An Int32Array of B lengths, each in 1..T; nullptr for null/undefined.
inline int32_t* lengths_arg(const Napi::CallbackInfo& info, size_t i, size_t B, int32_t T) {
  Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw_type(info.Env(), "Expected Int32Array for lengths");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  if (a.ElementLength() != B)
    throw_range(info.Env(), "Expected Int32Array of length " + std::to_string(B) +
                                " (B) for lengths but received length " + std::to_string(a.ElementLength()));
  for (size_t b = 0; b < B; ++b)
    if (a[b] < 1 || a[b] > T)
      throw_range(info.Env(), "Expected integer in 1.." + std::to_string(T) + " for lengths[" +
                                  std::to_string(b) + "] but received " + std::to_string(a[b]));
  return a.Data();
}

// A positive integer argument no larger than `max`.
inline int32_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t max) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), std::string("Expected number for ") + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= static_cast<double>(max)) || std::floor(d) != d)
    throw_range(info.Env(), std::string("Expected integer in 1..") + std::to_string(max) + " for " + name);
  return static_cast<int32_t>(d);
}

inline bool bool_arg(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

// Object property readers for the config.
inline double num_prop(Napi::Object o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw_type(o.Env(), std::string("Expected number for ") + key);
  return v.As<Napi::Number>().DoubleValue();
}
inline bool bool_prop(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  return v.IsUndefined() ? fallback : v.ToBoolean().Value();
}

}  // namespace frnn_addon
