// Plain-loop references of native/src/gemm/gemm.h (kept simple forever,
// never optimised: the thing the fast code is checked against).
// Double accumulation; outputs are double so a test can measure the library's float error.
#pragma once

#include <cmath>
#include <cstddef>

namespace frnn_ref {

// C[m×n] (+)= op(A)[m×k] · op(B)[k×n], row-major, leading dimensions in elements.
// op(A) = trans_a ? Aᵀ (A stored [k×m]) : A (stored [m×k]); op(B) likewise.
// c_in: the C the library sees (read only when accumulate). c_abs (optional, ldc) receives
// |c_in| + Σ_p |op(A)[i,p]·op(B)[p,j]|, the scale of the float rounding error of element (i, j).
inline void gemm_ref(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float* a, size_t lda,
                     const float* b, size_t ldb, const float* c_in, double* c, size_t ldc, bool accumulate,
                     double* c_abs = nullptr) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double sum = accumulate ? (double)c_in[i * ldc + j] : 0.0;
      double mag = std::fabs(sum);
      for (size_t p = 0; p < k; ++p) {
        const double av = trans_a ? a[p * lda + i] : a[i * lda + p];
        const double bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
        mag += std::fabs(av * bv);
      }
      c[i * ldc + j] = sum;
      if (c_abs) c_abs[i * ldc + j] = mag;
    }
}

// C[m×n] (+)= 1·biasᵀ.
inline void add_row_vector_ref(size_t m, size_t n, const float* bias, const float* c_in, double* c, size_t ldc,
                               bool accumulate) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) c[i * ldc + j] = (accumulate ? (double)c_in[i * ldc + j] : 0.0) + bias[j];
}

// sums[j] = sums_in[j] + Σ_i A[i, j]; abs[j] = |sums_in[j]| + Σ_i |A[i, j]|.
inline void accumulate_column_sums_ref(size_t m, size_t n, const float* a, size_t lda, const float* sums_in,
                                       double* sums, double* abs) {
  for (size_t j = 0; j < n; ++j) {
    double s = sums_in[j], mag = std::fabs(s);
    for (size_t i = 0; i < m; ++i) {
      s += a[i * lda + j];
      mag += std::fabs(a[i * lda + j]);
    }
    sums[j] = s;
    abs[j] = mag;
  }
}

}  // namespace frnn_ref
