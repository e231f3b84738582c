// bf16 conversion and packing for the bf16 micro-kernels (gemm/bf16.h).
#include "gemm/bf16.h"

#include <algorithm>

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

void convert_cols_bf16(size_t k, size_t i0, size_t i1, const float* a, size_t lda, bf16* out, size_t ldo) {
  // 16 columns at a time: each k reads 64 contiguous bytes of A, and the 16 rows written
  // stay in L1 across the 32 k that fill a line of each.
  constexpr size_t kCols = 16;
  for (size_t ib = i0; ib < i1; ib += kCols) {
    const size_t ie = ib + kCols < i1 ? ib + kCols : i1;
    for (size_t p = 0; p < k; ++p) {
      const float* src = a + p * lda;
      for (size_t i = ib; i < ie; ++i) out[(i - i0) * ldo + p] = f32_to_bf16(src[i]);
    }
    for (size_t i = ib; i < ie; ++i)
      for (size_t p = k; p < ldo; ++p) out[(i - i0) * ldo + p] = 0;
  }
}

void pack_pairs_bf16(size_t n, const float* r0, const float* r1, bf16* out) {
  for (size_t c = 0; c < n; ++c) {
    out[2 * c] = f32_to_bf16(r0[c]);
    out[2 * c + 1] = r1 ? f32_to_bf16(r1[c]) : 0;
  }
}

void PackedBf16::shape(size_t k_, size_t n_, size_t nr_) {
  k = k_;
  n = n_;
  nr = nr_;
  k2 = (k + 1) / 2;
  data.resize(panels() * k2 * nr * 2);
  src_ = nullptr;
  const size_t last = panels() - 1, cols = n - last * nr;
  if (n > 0)
    for (size_t p = 0; p < k2; ++p)  // the last panel's columns past n
      std::memset(data.data() + (last * k2 * nr + p * nr + cols) * 2, 0, (nr - cols) * 2 * sizeof(bf16));
  if (k % 2 == 1)  // row k, the odd half of the last pair-row
    for (size_t j = 0; j < panels(); ++j)
      for (size_t c = 0; c < nr; ++c) data[(j * k2 * nr + (k2 - 1) * nr + c) * 2 + 1] = 0;
}

void PackedBf16::pack_rows(size_t p0, size_t rows, const float* src, size_t ld, size_t c0, size_t c1) {
  const Bf16PackPairsFn pairs = bf16_gemm_config().pack_pairs;
  const size_t end = p0 + rows;
  for (size_t r = p0; r < end;) {
    const float* s0 = src + (r - p0) * ld;
    const size_t p = r / 2;
    if (r % 2 == 0 && r + 1 < end) {  // a whole pair-row
      for (size_t c = c0; c < c1;) {
        const size_t j = c / nr, ce = std::min(c1, (j + 1) * nr);
        pairs(ce - c, s0 + c, s0 + ld + c, data.data() + (j * k2 * nr + p * nr + c - j * nr) * 2);
        c = ce;
      }
      r += 2;
    } else {  // half of one: its other row is written by an earlier or later call
      for (size_t c = c0; c < c1; ++c)
        data[((c / nr) * k2 * nr + p * nr + c % nr) * 2 + r % 2] = f32_to_bf16(s0[c]);
      r += 1;
    }
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
      const Bf16PackPairsFn pairs = bf16_gemm_config().pack_pairs;
      for (size_t p = 0; p < k2; ++p) {
        const float* r0 = src_ + 2 * p * src_ld_ + c0;
        pairs(cols, r0, 2 * p + 1 < k ? r0 + src_ld_ : nullptr, panel + p * nr * 2);
      }
    }
    for (size_t p = 0; p < k2; ++p)  // columns past n: zero pairs
      std::memset(panel + (p * nr + cols) * 2, 0, (nr - cols) * 2 * sizeof(bf16));
  }
}

}  // namespace frnn
