// int8 matrix products for the inference drivers: C (+)= A·B with A quantized per row as it is
// read (u8, dynamic scales), B quantized per column and packed (PackedInt8, gemm/int8.h),
// exact int32 sums, dequantized in float32.
//
// Each C element is one micro-kernel call over all of k and A's row scales do not depend on
// the columns: however rows and columns are split between threads, it gets the same bits, and
// every kernel of int8_ukernels.inc gives the bits of the reference (gemm/int8.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/isa.h"
#include "gemm/int8.h"

namespace frnn {

using Int8UkernelFn = void (*)(size_t m, size_t n, size_t k4, const uint8_t* a, size_t lda, const float* a_scale,
                               const int8_t* w, const int32_t* w_comp, const float* w_scale, float* c, size_t ldc,
                               const float* add, size_t ld_add);
using Int8QuantizeFn = void (*)(size_t m, size_t k, const float* a, size_t lda, uint8_t* out, size_t ldo,
                                float* scale);

#define FRNN_INT8_UKERNEL(isa, needs_vnni, gemm, quantize, mr, nr)                                              \
  void gemm(size_t m, size_t n, size_t k4, const uint8_t* a, size_t lda, const float* a_scale, const int8_t* w, \
            const int32_t* w_comp, const float* w_scale, float* c, size_t ldc, const float* add, size_t ld_add); \
  void quantize(size_t m, size_t k, const float* a, size_t lda, uint8_t* out, size_t ldo, float* scale);
#include "gemm/int8_ukernels.inc"
#undef FRNN_INT8_UKERNEL

struct Int8UkernelEntry {
  Isa isa;
  bool needs_vnni;
  const char* name;
  Int8UkernelFn fn;
  Int8QuantizeFn quantize;
  size_t mr, nr;
};

inline constexpr Int8UkernelEntry kInt8Ukernels[] = {
#define FRNN_INT8_UKERNEL(kisa, kneeds, fn, q, kmr, knr) {Isa::kisa, kneeds, #fn, fn, q, kmr, knr},
#include "gemm/int8_ukernels.inc"
#undef FRNN_INT8_UKERNEL
};

// Whether this CPU, on the active ISA, can run a row of the table.
bool int8_ukernel_runs(const Int8UkernelEntry& e);

// The row in use (the last one that runs). Chosen once.
const Int8UkernelEntry& int8_gemm_config();

// C (+)= A · op(B) for B packed by PackedInt8, columns [n0, n1) of C (n0 a multiple of B's NR),
// A float32 [m×k] (k = B's k) quantized here. C is never read when accumulate is false. With
// bias (indexed by C's columns, not accumulating): C = bias + A · op(B) in the kernels' epilogue,
// the bits of the product followed by a pass adding bias.
void gemm_int8_packed(size_t m, size_t k, const float* a, size_t lda, const PackedInt8& b, float* c, size_t ldc,
                      bool accumulate, size_t n0 = 0, size_t n1 = static_cast<size_t>(-1),
                      const float* bias = nullptr);

// One product of gemm_int8_packed: B, C, what is added, C's columns [n0, n1).
struct Int8Product {
  const PackedInt8* b;
  float* c;
  size_t ldc;
  bool accumulate;
  size_t n0, n1;
  const float* bias;
};
// gemm_int8_packed for each product (the same bits), over the same rows of A (k = every B's
// k), quantized once for all of them.
void gemm_int8_products(size_t m, size_t k, const float* a, size_t lda, const Int8Product* prods, size_t n_prods);

}  // namespace frnn
