// Portable micro-kernel: 4 rows × 8 columns of C in scalar accumulators.
#include "gemm/ukernel.h"

namespace frnn {

template <int M>
static void kernel_4x8(size_t n, size_t k, const float* a, size_t lda, const float* w, float* c, size_t ldc,
                       bool accumulate) {
  constexpr int NR = 8;
  float acc[M][NR] = {};
  for (size_t p = 0; p < k; ++p) {
    const float* wp = w + p * NR;
    for (int i = 0; i < M; ++i) {
      const float ai = a[i * lda + p];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * wp[j];
    }
  }
  for (int i = 0; i < M; ++i) {
    float* ci = c + i * ldc;
    for (size_t j = 0; j < n; ++j) ci[j] = accumulate ? ci[j] + acc[i][j] : acc[i][j];
  }
}

void frnn_f32_gemm_ukernel_4x8__scalar(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w,
                                       float* c, size_t ldc, bool accumulate) {
  switch (m) {
    case 1: kernel_4x8<1>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 2: kernel_4x8<2>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 3: kernel_4x8<3>(n, k, a, lda, w, c, ldc, accumulate); break;
    default: kernel_4x8<4>(n, k, a, lda, w, c, ldc, accumulate); break;
  }
}

}  // namespace frnn

namespace frnn {

void frnn_f32_gemm_dot__scalar(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, size_t ldw,
                               float* c, size_t ldc, bool accumulate) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      const float* ai = a + i * lda;
      const float* wj = w + j * ldw;
      float sum = 0.0f;
      for (size_t p = 0; p < k; ++p) sum += ai[p] * wj[p];
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
    }
}

}  // namespace frnn
