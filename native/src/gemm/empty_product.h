// The edge cases every packed product (fp32, bf16, int8) settles before its kernels, in one place.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace frnn {

// Columns [n0, *n1) of C = A[m×k] · B[k×n], *n1 clamped to n. True when nothing is left for the
// kernels: an empty range, or k = 0 (then C's columns are zeroed unless accumulating).
inline bool settle_empty_product(size_t m, size_t k, float* c, size_t ldc, bool accumulate, size_t n0, size_t* n1,
                                 size_t n) {
  *n1 = std::min(*n1, n);
  if (m == 0 || n0 >= *n1) return true;
  if (k != 0) return false;
  if (!accumulate)
    for (size_t i = 0; i < m; ++i) std::memset(c + i * ldc + n0, 0, (*n1 - n0) * sizeof(float));
  return true;
}

}  // namespace frnn
