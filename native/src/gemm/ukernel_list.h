// Every GEMM micro-kernel of ukernels.inc with its ISA and tile, as a table: for the tests and
// benchmarks that run each kernel the CPU supports (dispatch picks one in gemm_config()).
#pragma once

#include <cstddef>

#include "cpu/isa.h"
#include "gemm/ukernel.h"

namespace frnn {

struct UkernelEntry {
  Isa isa;
  const char* name;
  UkernelFn fn;
  size_t mr, nr;
};

inline constexpr UkernelEntry kUkernels[] = {
#define FRNN_UKERNEL(kisa, fn, kmr, knr) {Isa::kisa, #fn, fn, kmr, knr},
#include "gemm/ukernels.inc"
#undef FRNN_UKERNEL
};

}  // namespace frnn
