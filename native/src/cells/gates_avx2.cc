// Gate kernels on AVX2 + FMA (built with -mavx2 -mfma; used only when the CPU has both).
#include "simd/f32_avx2.h"
// (the traits header must come before the kernels written against it)
#include "cells/gates_simd.h"

namespace frnn {

extern const GateKernels kGatesAvx2;
const GateKernels kGatesAvx2 = Gates<simd::Avx2>::kernels();

}  // namespace frnn
