// frnn_f32_v{exp,sigmoid,tanh}__scalar: y[i] = op(x[i]) on simd::Scalar (simd/f32_scalar.h).
//
// Baseline ISA: no intrinsics, so it is the path on every CPU and the accuracy reference.
#include "simd/f32_scalar.h"
#include "vmath/unary.h"
#include "vmath/vmath.h"

namespace frnn {

namespace {
using S = simd::Scalar;
}  // namespace

void frnn_f32_vexp__scalar(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::exp(v); });
}

void frnn_f32_vsigmoid__scalar(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::sigmoid(v); });
}

void frnn_f32_vtanh__scalar(size_t n, const float* x, float* y) {
  unary_map<S>(n, x, y, [](S::vf v) { return S::tanh(v); });
}

}  // namespace frnn
