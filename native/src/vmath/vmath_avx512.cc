// frnn_f32_v{exp,sigmoid,tanh}__avx512: y[i] = op(x[i]) on simd::Avx512 (simd/f32_avx512.h).
//
// Built with -mavx512f -mavx2 -mfma (native/sources.json "isa"; no other file gets them);
// only called when the CPU has AVX512F.
#include "simd/f32_avx512.h"
#include "vmath/unary.h"
#include "vmath/vmath.h"

namespace frnn {

namespace {
using S = simd::Avx512;
}  // namespace

void frnn_f32_vexp__avx512(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::exp(v); });
}

void frnn_f32_vsigmoid__avx512(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::sigmoid(v); });
}

void frnn_f32_vtanh__avx512(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::tanh(v); });
}

}  // namespace frnn
