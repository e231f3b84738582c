// Portable scalar GEMM: the reference every faster path is tested against.
#include "gemm/gemm.h"

#include <cstring>

namespace frnn {

void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float* a, size_t lda,
          const float* b, size_t ldb, float* c, size_t ldc, bool accumulate) {
  if (!accumulate)
    for (size_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(float));
  if (k == 0) return;
  if (!trans_a && trans_b) {
    // Rows of A against rows of B: dot products.
    for (size_t i = 0; i < m; ++i) {
      const float* ai = a + i * lda;
      for (size_t j = 0; j < n; ++j) {
        const float* bj = b + j * ldb;
        float sum = c[i * ldc + j];
        for (size_t p = 0; p < k; ++p) sum += ai[p] * bj[p];
        c[i * ldc + j] = sum;
      }
    }
    return;
  }
  // Otherwise rank-1 updates over k (outermost, so each C element still sums k in order).
  for (size_t p = 0; p < k; ++p) {
    for (size_t i = 0; i < m; ++i) {
      const float aip = trans_a ? a[p * lda + i] : a[i * lda + p];
      float* ci = c + i * ldc;
      if (trans_b) {
        for (size_t j = 0; j < n; ++j) ci[j] += aip * b[j * ldb + p];
      } else {
        const float* bp = b + p * ldb;
        for (size_t j = 0; j < n; ++j) ci[j] += aip * bp[j];
      }
    }
  }
}

void add_row_vector(size_t m, size_t n, const float* bias, float* c, size_t ldc, bool accumulate) {
  for (size_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    if (accumulate)
      for (size_t j = 0; j < n; ++j) ci[j] += bias[j];
    else
      std::memcpy(ci, bias, n * sizeof(float));
  }
}

void accumulate_column_sums(size_t m, size_t n, const float* a, size_t lda, float* sums) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) sums[j] += a[i * lda + j];
}

}  // namespace frnn
