// frnn_f32_v{exp,sigmoid,tanh}__neon: y[i] = op(x[i]) on simd::Neon (simd/f32_neon.h).
//
// NEON is baseline on AArch64: no ISA flag. Elsewhere this file compiles to nothing (and the
// builds leave it out on x86-64 anyway).
#if defined(__aarch64__)

#include "simd/f32_neon.h"
#include "vmath/unary.h"
#include "vmath/vmath.h"

namespace frnn {

namespace {
using S = simd::Neon;
}  // namespace

void frnn_f32_vexp__neon(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::exp(v); });
}

void frnn_f32_vsigmoid__neon(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::sigmoid(v); });
}

void frnn_f32_vtanh__neon(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::tanh(v); });
}

}  // namespace frnn

#endif  // __aarch64__
