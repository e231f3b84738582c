// AVX512_BF16 micro-kernel: 8 rows × 32 columns of C in 16 zmm accumulators, two k per
// VDPBF16PS (a bf16 pair of A broadcast against 16 columns' pairs of one W panel row).
// A and W are bf16 (gemm/bf16.h layouts), C float32. Edge columns use store masks.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm/bf16.h"

namespace frnn {

template <int M>
static void kernel_8x32(size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w, float* c, size_t ldc,
                        bool accumulate) {
  // Every loop over i is unrolled so the accumulators live in registers, never on the stack.
  __m512 acc0[M], acc1[M];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    acc0[i] = acc1[i] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    if (n > 16) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  for (size_t p = 0; p < k2; ++p) {
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512(w + p * 64);
    const __m512bh w1 = (__m512bh)_mm512_loadu_si512(w + p * 64 + 32);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      int32_t pair;
      std::memcpy(&pair, a + i * lda + 2 * p, sizeof pair);
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(pair);
      acc0[i] = _mm512_dpbf16_ps(acc0[i], ai, w0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], ai, w1);
    }
  }
  const __mmask16 mask0 = n >= 16 ? 0xffff : static_cast<__mmask16>((1u << n) - 1);
  const __mmask16 mask1 = n >= 32 ? 0xffff : n > 16 ? static_cast<__mmask16>((1u << (n - 16)) - 1) : 0;
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    float* ci = c + i * ldc;
    if (accumulate) {
      acc0[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask0, ci), acc0[i]);
      acc1[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask1, ci + 16), acc1[i]);
    }
    _mm512_mask_storeu_ps(ci, mask0, acc0[i]);
    _mm512_mask_storeu_ps(ci + 16, mask1, acc1[i]);
  }
}

// C[m×n] (+)= A[m × 2·k2] · W (one panel), m <= 8, n <= 32; lda in bf16 elements (even).
void frnn_bf16_gemm_ukernel_8x32__avx512bf16(size_t m, size_t n, size_t k2, const bf16* a, size_t lda,
                                             const bf16* w, float* c, size_t ldc, bool accumulate) {
  switch (m) {
    case 1: kernel_8x32<1>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 2: kernel_8x32<2>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 3: kernel_8x32<3>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 4: kernel_8x32<4>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 5: kernel_8x32<5>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 6: kernel_8x32<6>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 7: kernel_8x32<7>(n, k2, a, lda, w, c, ldc, accumulate); break;
    default: kernel_8x32<8>(n, k2, a, lda, w, c, ldc, accumulate); break;
  }
}

}  // namespace frnn
