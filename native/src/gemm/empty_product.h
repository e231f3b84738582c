// The edge cases every packed product (fp32, bf16, int8) settles before its kernels, in one place.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace frnn {

// Columns [n0, *n1) of C = A[m×k] · B[k×n] (+ bias, a row indexed by C's columns, or nullptr),
// *n1 clamped to n. True when nothing is left for the kernels: an empty range, or k = 0 (then
// C's columns are set to zero or the bias unless accumulating).
inline bool settle_empty_product(size_t m, size_t k, float* c, size_t ldc, bool accumulate, size_t n0, size_t* n1,
                                 size_t n, const float* bias = nullptr) {
  *n1 = std::min(*n1, n);
  if (m == 0 || n0 >= *n1) return true;
  if (k != 0) return false;
  for (size_t i = 0; i < m && !accumulate; ++i) {
    if (bias)
      std::memcpy(c + i * ldc + n0, bias + n0, (*n1 - n0) * sizeof(float));
    else
      std::memset(c + i * ldc + n0, 0, (*n1 - n0) * sizeof(float));
  }
  return true;
}

}  // namespace frnn
