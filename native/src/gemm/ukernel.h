// Micro-kernel signature and declarations (see ukernels.inc).
#pragma once

#include <cstddef>

namespace frnn {

using UkernelFn = void (*)(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, float* c,
                           size_t ldc, bool accumulate);

#define FRNN_UKERNEL(isa, name, mr, nr)                                                                  \
  void name(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, float* c, size_t ldc, \
            bool accumulate);
#include "gemm/ukernels.inc"
#undef FRNN_UKERNEL

using DotUkernelFn = void (*)(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, size_t ldw,
                              float* c, size_t ldc, bool accumulate);

#define FRNN_DOT_UKERNEL(isa, name)                                                                       \
  void name(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, size_t ldw, float* c, \
            size_t ldc, bool accumulate);
#include "gemm/dot_ukernels.inc"
#undef FRNN_DOT_UKERNEL

// Pre-packed A (see ppmm_ukernels.inc): a is one micro-panel, k rows of MR floats.
using PpmmUkernelFn = void (*)(size_t m, size_t n, size_t k, const float* a, const float* w, float* c, size_t ldc,
                               bool accumulate);

#define FRNN_PPMM_UKERNEL(isa, name, mr, nr) \
  void name(size_t m, size_t n, size_t k, const float* a, const float* w, float* c, size_t ldc, bool accumulate);
#include "gemm/ppmm_ukernels.inc"
#undef FRNN_PPMM_UKERNEL

}  // namespace frnn
