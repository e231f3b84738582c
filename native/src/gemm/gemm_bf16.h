// bf16 matrix products for the inference drivers: C (+)= A·B with A converted to bf16 as it is
// read, B packed to bf16 pairs (PackedBf16, gemm/bf16.h), every sum in float32.
//
// Each C element is one micro-kernel call over all of k (no k blocks): however the rows and
// columns are split between threads, it gets the same bits, and every kernel of
// bf16_ukernels.inc gives the bits of dot_pairs_reference().
#pragma once

#include <cstddef>

#include "cpu/isa.h"
#include "gemm/bf16.h"

namespace frnn {

using Bf16UkernelFn = void (*)(size_t m, size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w, float* c,
                               size_t ldc, const float* add, size_t ld_add);
using Bf16ConvertFn = void (*)(size_t m, size_t k, const float* a, size_t lda, bf16* out, size_t ldo);
using Bf16PackPairsFn = void (*)(size_t n, const float* r0, const float* r1, bf16* out);
using Bf16ConvertColsFn = void (*)(size_t k, size_t i0, size_t i1, const float* a, size_t lda, bf16* out, size_t ldo);

#define FRNN_BF16_UKERNEL(isa, needs_bf16, gemm, convert, pack_pairs, convert_cols, mr, nr)                      \
  void gemm(size_t m, size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w, float* c, size_t ldc,     \
            const float* add, size_t ld_add);                                                                    \
  void convert(size_t m, size_t k, const float* a, size_t lda, bf16* out, size_t ldo);                          \
  void pack_pairs(size_t n, const float* r0, const float* r1, bf16* out);                                       \
  void convert_cols(size_t k, size_t i0, size_t i1, const float* a, size_t lda, bf16* out, size_t ldo);
#include "gemm/bf16_ukernels.inc"
#undef FRNN_BF16_UKERNEL

struct Bf16UkernelEntry {
  Isa isa;
  bool needs_bf16;
  const char* name;
  Bf16UkernelFn fn;
  Bf16ConvertFn convert;
  Bf16PackPairsFn pack_pairs;
  Bf16ConvertColsFn convert_cols;
  size_t mr, nr;
};

inline constexpr Bf16UkernelEntry kBf16Ukernels[] = {
#define FRNN_BF16_UKERNEL(kisa, kneeds, fn, cvt, pairs, cols, kmr, knr) \
  {Isa::kisa, kneeds, #fn, fn, cvt, pairs, cols, kmr, knr},
#include "gemm/bf16_ukernels.inc"
#undef FRNN_BF16_UKERNEL
};

// Whether this CPU, on the active ISA, can run a row of the table.
bool bf16_ukernel_runs(const Bf16UkernelEntry& e);

// The row in use (the last one that runs). Chosen once.
const Bf16UkernelEntry& bf16_gemm_config();

// C (+)= A · op(B) for B packed by PackedBf16, columns [n0, n1) of C (n0 a multiple of B's NR),
// A float32 [m×k] (k = B's k) rounded to bf16 here. C is never read when accumulate is false.
// With bias (indexed by C's columns, not accumulating): C = bias + A · op(B) in the kernels'
// epilogue, the bits of the product followed by a pass adding bias (under DAZ+FTZ).
void gemm_bf16_packed(size_t m, size_t k, const float* a, size_t lda, const PackedBf16& b, float* c, size_t ldc,
                      bool accumulate, size_t n0 = 0, size_t n1 = static_cast<size_t>(-1),
                      const float* bias = nullptr);

// One product of gemm_bf16_packed: B, C, what is added, C's columns [n0, n1).
struct Bf16Product {
  const PackedBf16* b;
  float* c;
  size_t ldc;
  bool accumulate;
  size_t n0, n1;
  const float* bias;
};
// gemm_bf16_packed for each product (the same bits), over the same rows of A (k = every B's
// k), converted once for all of them.
void gemm_bf16_products(size_t m, size_t k, const float* a, size_t lda, const Bf16Product* prods, size_t n_prods);

// gemm_bf16_packed for an A already in bf16 rows (stride lda16, 2·b.k2 long, zero-padded):
// the same bits as gemm_bf16_packed on the float32 A those rows were converted from.
void gemm_bf16_packed16(size_t m, const bf16* a16, size_t lda16, const PackedBf16& b, float* c, size_t ldc,
                        bool accumulate, size_t n0 = 0, size_t n1 = static_cast<size_t>(-1));

// The weight gradients of backward (dW += dZᵀ·X, dR += dZᵀ·H) computed transposed, so that
// dZ is the packed operand (two rows of dZ make one pair-row: no transpose of dZ, packed a
// step at a time, PackedBf16::pack_rows) and Xᵀ, Hᵀ the bf16 rows (transposed once per call,
// convert_cols_bf16):
//   ct[j*ldct + i] = flush(flush(ct[j*ldct + i]) + dot_pairs_reference(0, a row i, B column j))
// for rows i < m of A (bf16, stride lda, 2·b.k2 long) and columns j in [n0, n1) of B (any
// n0). One micro-kernel call per element over all of k: the same bits for any split, on
// every path.
void gemm_bf16_tn_add(size_t m, const bf16* a, size_t lda, const PackedBf16& b, size_t n0, size_t n1, float* ct,
                      size_t ldct);

}  // namespace frnn
