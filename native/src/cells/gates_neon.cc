// Gate kernels on AArch64 NEON (baseline there: no ISA flag). Elsewhere this file compiles
// to nothing (and the builds leave it out on x86-64 anyway).
#if defined(__aarch64__)

#include "simd/f32_neon.h"
// (the traits header must come before the kernels written against it)
#include "cells/gates_simd.h"

namespace frnn {

extern const GateKernels kGatesNeon;
const GateKernels kGatesNeon = Gates<simd::Neon>::kernels();

}  // namespace frnn

#endif  // __aarch64__
