// Packing of the B operand into NR-wide panels, and the aligned buffer behind it.
//
//        n columns of op(B)                     packed
//   k  ┌────────┬────────┬─────┐     panel 0: k rows × NR   (row p = op(B)[p, 0:NR])
//   ↓  │ panel 0│ panel 1│ ... │     panel 1: k rows × NR
//      └────────┴────────┴─────┘     ...      last panel zero-padded to NR columns
// The micro-kernel streams one panel row (NR floats) per k step.
#include <cstdlib>
#include <cstring>
#include <new>

#include "gemm/gemm.h"

namespace frnn {

void AlignedFloats::Free::operator()(float* p) const { std::free(p); }

void AlignedFloats::resize(size_t n) {
  if (n <= size_) {
    size_ = n;
    return;
  }
  const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc();
  data_.reset(p);
  size_ = n;
}

void PackedMatrix::view_transposed(size_t k_, size_t n_, const float* b, size_t ldb) {
  k = k_;
  n = n_;
  nr = gemm_config().nr;
  raw_ = b;
  raw_ld_ = ldb;
}

void PackedMatrix::pack(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb, const float* extra_row) {
  k = k_ + (extra_row ? 1 : 0);
  n = n_;
  raw_ = nullptr;
  nr = gemm_config().nr;
  const size_t panels = (n + nr - 1) / nr;
  data_.resize(panels * k * nr);
  float* out = data_.data();
  for (size_t j = 0; j < panels; ++j) {
    const size_t j0 = j * nr, cols = n - j0 < nr ? n - j0 : nr;
    float* panel = out + j * k * nr;
    if (trans_b) {
      // Bᵀ: read each stored row of B once, contiguously, and scatter it down the panel
      // (one panel fits in L1; reading B down its columns missed on every element).
      for (size_t c = 0; c < cols; ++c) {
        const float* row = b + (j0 + c) * ldb;
        for (size_t p = 0; p < k_; ++p) panel[p * nr + c] = row[p];
      }
    }
    float* dst = panel;
    for (size_t p = 0; p < k; ++p, dst += nr) {
      if (p == k_)  // the extra row
        std::memcpy(dst, extra_row + j0, cols * sizeof(float));
      else if (!trans_b)
        std::memcpy(dst, b + p * ldb + j0, cols * sizeof(float));
      for (size_t c = cols; c < nr; ++c) dst[c] = 0.0f;
    }
  }
}

}  // namespace frnn
