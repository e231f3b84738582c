// Micro-kernel signatures and declarations (the tables are ukernels.inc and dot_ukernels.inc).
#pragma once

#include <cstddef>

namespace frnn {

using UkernelFn = void (*)(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, float* c,
                           size_t ldc, bool accumulate);

// Pre-packed A (see ukernels.inc): a is one micro-panel, k rows of MR floats.
using PpmmUkernelFn = void (*)(size_t m, size_t n, size_t k, const float* a, const float* w, float* c, size_t ldc,
                               bool accumulate);

// Writes rows [p0, p0 + rows) of M, columns [c0, c1), from src [rows × ld] into the ppmm
// strips of M (see pack_strip_rows() in gemm.h), with non-temporal stores.
using StripPackFn = void (*)(float* strips, size_t k, size_t p0, size_t rows, const float* src, size_t ld, size_t c0,
                             size_t c1);

using DotUkernelFn = void (*)(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, size_t ldw,
                              float* c, size_t ldc, bool accumulate);

#define FRNN_UKERNEL(isa, name, mr, nr, ppmm, pack_strips)                                               \
  void name(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, float* c, size_t ldc, \
            bool accumulate);
#include "gemm/ukernels.inc"
#undef FRNN_UKERNEL

// The ppmm kernels and strip packers the rows of ukernels.inc pair with their GEMM kernel.
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
void frnn_f32_ppmm_ukernel_6x16__avx2_fma(size_t m, size_t n, size_t k, const float* a, const float* w, float* c,
                                          size_t ldc, bool accumulate);
void frnn_f32_ppmm_ukernel_8x32__avx512f(size_t m, size_t n, size_t k, const float* a, const float* w, float* c,
                                         size_t ldc, bool accumulate);
void frnn_f32_pack_strips_8__avx512f(float* strips, size_t k, size_t p0, size_t rows, const float* src, size_t ld,
                                     size_t c0, size_t c1);
#endif

#define FRNN_DOT_UKERNEL(isa, name)                                                                       \
  void name(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, size_t ldw, float* c, \
            size_t ldc, bool accumulate);
#include "gemm/dot_ukernels.inc"
#undef FRNN_DOT_UKERNEL

}  // namespace frnn
