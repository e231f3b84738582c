// bf16 conversion and packing for the bf16 micro-kernels (gemm/bf16.h).
#include "gemm/bf16.h"

#include "gemm/gemm_bf16.h"

namespace frnn {

void convert_rows_bf16(size_t m, size_t k, const float* a, size_t lda, bf16* out, size_t ldo) {
  for (size_t i = 0; i < m; ++i) {
    const float* src = a + i * lda;
    bf16* dst = out + i * ldo;
    for (size_t p = 0; p < k; ++p) dst[p] = f32_to_bf16(src[p]);
    for (size_t p = k; p < ldo; ++p) dst[p] = 0;
  }
}

void PackedBf16::pack(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb, size_t nr_) {
  plan(trans_b, k_, n_, b, ldb, nr_);
  fill(0, panels());
}

void PackedBf16::plan(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb, size_t nr_) {
  k = k_;
  n = n_;
  nr = nr_;
  k2 = (k + 1) / 2;
  data.resize(panels() * k2 * nr * 2);  // every element is written by fill()
  src_trans_ = trans_b;
  src_ = b;
  src_ld_ = ldb;
}

void PackedBf16::fill(size_t j0, size_t j1) {
  const size_t kk = k2 * 2;
  for (size_t j = j0; j < j1 && j < panels(); ++j) {
    bf16* panel = data.data() + j * k2 * nr * 2;
    const size_t c0 = j * nr, cols = n - c0 < nr ? n - c0 : nr;
    if (src_trans_) {
      // Bᵀ: each stored row of B is one column of op(B): converted contiguously (the
      // vector converter, zero-padded to even k), then its pairs scattered down the panel.
      thread_local std::vector<bf16> row;
      row.resize(kk);
      for (size_t c = 0; c < cols; ++c) {
        bf16_gemm_config().convert(1, k, src_ + (c0 + c) * src_ld_, src_ld_, row.data(), kk);
        for (size_t p = 0; p < k2; ++p) std::memcpy(panel + (p * nr + c) * 2, row.data() + 2 * p, 2 * sizeof(bf16));
      }
    } else {
      for (size_t p = 0; p < kk; ++p)
        for (size_t c = 0; c < cols; ++c)
          panel[(p / 2) * nr * 2 + c * 2 + p % 2] = p < k ? f32_to_bf16(src_[p * src_ld_ + c0 + c]) : 0;
    }
    for (size_t p = 0; p < k2; ++p)  // columns past n: zero pairs
      std::memset(panel + (p * nr + cols) * 2, 0, (nr - cols) * 2 * sizeof(bf16));
  }
}

}  // namespace frnn
