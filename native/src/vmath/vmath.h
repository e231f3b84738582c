// Vector math over float arrays: y[i] = op(x[i]), one kernel per op and ISA (vmath/vmath.inc).
//
//   frnn_f32_vsigmoid__avx512(n, x, y);   // any n; x, y unaligned; y == x allowed
//
// The ops themselves live in the traits simd/f32_{scalar,avx2,avx512,neon}.h, with their accuracy;
// pointwise kernels call them on registers directly (see vmath/unary.h) and use these
// array kernels only when the data is already a plain array. Generic header: no intrinsics.
#pragma once

#include <cstddef>

namespace frnn {

using VmathFn = void (*)(size_t n, const float* x, float* y);

#define FRNN_VMATH(isa, name, op) void name(size_t n, const float* x, float* y);
#include "vmath/vmath.inc"
#undef FRNN_VMATH

}  // namespace frnn
