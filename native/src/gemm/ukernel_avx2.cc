// AVX2 + FMA micro-kernel: 6 rows × 16 columns of C in 12 ymm accumulators
// (+2 for the W panel row, +1 for the broadcast A element: 15 of 16 registers).
#include <immintrin.h>

#include "gemm/ukernel.h"

namespace frnn {

template <int M>
static void kernel_6x16(size_t n, size_t k, const float* a, size_t lda, const float* w, float* c, size_t ldc,
                        bool accumulate) {
  __m256 acc0[M], acc1[M];
  for (int i = 0; i < M; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
  for (size_t p = 0; p < k; ++p) {
    const __m256 w0 = _mm256_loadu_ps(w + p * 16), w1 = _mm256_loadu_ps(w + p * 16 + 8);
    for (int i = 0; i < M; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i * lda + p);
      acc0[i] = _mm256_fmadd_ps(ai, w0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ai, w1, acc1[i]);
    }
  }
  if (n == 16) {
    for (int i = 0; i < M; ++i) {
      float* ci = c + i * ldc;
      if (accumulate) {
        acc0[i] = _mm256_add_ps(_mm256_loadu_ps(ci), acc0[i]);
        acc1[i] = _mm256_add_ps(_mm256_loadu_ps(ci + 8), acc1[i]);
      }
      _mm256_storeu_ps(ci, acc0[i]);
      _mm256_storeu_ps(ci + 8, acc1[i]);
    }
    return;
  }
  // Edge tile: go through a buffer so no element past n is read or written.
  for (int i = 0; i < M; ++i) {
    alignas(32) float tile[16];
    _mm256_store_ps(tile, acc0[i]);
    _mm256_store_ps(tile + 8, acc1[i]);
    float* ci = c + i * ldc;
    for (size_t j = 0; j < n; ++j) ci[j] = accumulate ? ci[j] + tile[j] : tile[j];
  }
}

void frnn_f32_gemm_ukernel_6x16__avx2_fma(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w,
                                          float* c, size_t ldc, bool accumulate) {
  switch (m) {
    case 1: kernel_6x16<1>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 2: kernel_6x16<2>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 3: kernel_6x16<3>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 4: kernel_6x16<4>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 5: kernel_6x16<5>(n, k, a, lda, w, c, ldc, accumulate); break;
    default: kernel_6x16<6>(n, k, a, lda, w, c, ldc, accumulate); break;
  }
}

}  // namespace frnn
