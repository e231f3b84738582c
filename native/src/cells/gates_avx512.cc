// Gate kernels on AVX-512F (built with -mavx512f -mavx2 -mfma; used only when the CPU has it).
#include "simd/f32_avx512.h"
// (the traits header must come before the kernels written against it)
#include "cells/gates_simd.h"

namespace frnn {

extern const GateKernels kGatesAvx512;
const GateKernels kGatesAvx512 = Gates<simd::Avx512>::kernels();

}  // namespace frnn
