// The micro-kernel tables (ukernels.inc, dot_ukernels.inc) as arrays: what dispatch
// (gemm_config() picks the active ISA's rows), the tests and the benchmarks iterate over.
#pragma once

#include <cstddef>

#include "cpu/isa.h"
#include "gemm/ukernel.h"

namespace frnn {

// One ISA's GEMM kernel with the ppmm kernel and strip packer of the same tile (or nullptr).
struct UkernelEntry {
  Isa isa;
  const char* name;
  UkernelFn fn;
  size_t mr, nr;
  PpmmUkernelFn ppmm;
  const char* ppmm_name;
  StripPackFn pack_strips;
};

inline constexpr UkernelEntry kUkernels[] = {
#define FRNN_UKERNEL(kisa, fn, kmr, knr, kppmm, kstrips) {Isa::kisa, #fn, fn, kmr, knr, kppmm, #kppmm, kstrips},
#include "gemm/ukernels.inc"
#undef FRNN_UKERNEL
};

struct DotUkernelEntry {
  Isa isa;
  const char* name;
  DotUkernelFn fn;
};

inline constexpr DotUkernelEntry kDotUkernels[] = {
#define FRNN_DOT_UKERNEL(kisa, fn) {Isa::kisa, #fn, fn},
#include "gemm/dot_ukernels.inc"
#undef FRNN_DOT_UKERNEL
};

}  // namespace frnn
