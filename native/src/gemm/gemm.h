// General matrix product used by the sequence drivers.
#pragma once

#include <cstddef>

namespace frnn {

// C[M×N] (+)= op(A)[M×K] · op(B)[K×N], all row-major with leading dimensions in elements.
// op(A) = trans_a ? Aᵀ (A stored [K×M]) : A (stored [M×K]); op(B) likewise.
// C is never read when accumulate is false. Each C element sums over k in increasing
// order, whatever the loop order, so results do not depend on how the work is split.
void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float* a, size_t lda,
          const float* b, size_t ldb, float* c, size_t ldc, bool accumulate);

// C[m×n] (+)= 1·biasᵀ : adds (or writes) the row vector bias to every row of C.
void add_row_vector(size_t m, size_t n, const float* bias, float* c, size_t ldc, bool accumulate);

// sums[j] += Σ_i A[i, j] over m rows of A[m×n].
void accumulate_column_sums(size_t m, size_t n, const float* a, size_t lda, float* sums);

}  // namespace frnn
