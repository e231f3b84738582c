// Packing of the B operand into NR-wide panels, and the aligned buffer behind it.
//
//        n columns of op(B)                     packed
//   k  ┌────────┬────────┬─────┐     panel 0: k rows × NR   (row p = op(B)[p, 0:NR])
//   ↓  │ panel 0│ panel 1│ ... │     panel 1: k rows × NR
//      └────────┴────────┴─────┘     ...      last panel zero-padded to NR columns
// The micro-kernel streams one panel row (NR floats) per k step.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "gemm/gemm.h"
#include "gemm/gemm_bf16.h"
#include "gemm/gemm_int8.h"

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
  is_bf16_ = false;
  is_int8_ = false;
  raw_ = b;
  raw_ld_ = ldb;
}

// dst[0, nr) = src[0, nr) with a fixed-size copy for the NR of every kernel (a runtime-length
// memcpy of 128 bytes is a library call; the panels of a training step's operands take
// tens of thousands of them).
static inline void copy_panel_row(float* dst, const float* src, size_t nr) {
  switch (nr) {
    case 8: std::memcpy(dst, src, 8 * sizeof(float)); break;
    case 16: std::memcpy(dst, src, 16 * sizeof(float)); break;
    case 32: std::memcpy(dst, src, 32 * sizeof(float)); break;
    default: std::memcpy(dst, src, nr * sizeof(float)); break;
  }
}

void PackedMatrix::pack(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb, const float* extra_row) {
  plan(trans_b, k_, n_, b, ldb, extra_row);
  fill(0, panels());
}

void PackedMatrix::plan(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb, const float* extra_row) {
  k = k_ + (extra_row ? 1 : 0);
  n = n_;
  raw_ = nullptr;
  is_bf16_ = false;
  is_int8_ = false;
  nr = gemm_config().nr;
  data_.resize(panels() * k * nr);
  src_trans_ = trans_b;
  src_ = b;
  src_ld_ = ldb;
  src_extra_ = extra_row;
}

void PackedMatrix::plan_bf16(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb) {
  half_.plan(trans_b, k_, n_, b, ldb, bf16_gemm_config().nr);
  k = k_;
  n = n_;
  nr = half_.nr;
  raw_ = nullptr;
  is_bf16_ = true;
  is_int8_ = false;
}

void PackedMatrix::plan_int8(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb) {
  quant_.plan(trans_b, k_, n_, b, ldb, int8_gemm_config().nr);
  k = k_;
  n = n_;
  nr = quant_.nr;
  raw_ = nullptr;
  is_bf16_ = false;
  is_int8_ = true;
}

void PackedMatrix::fill(size_t j0, size_t j1) {
  if (j0 >= j1) return;
  if (is_bf16_) {
    half_.fill(j0, j1);
    return;
  }
  if (is_int8_) {
    quant_.fill(j0, j1);
    return;
  }
  const size_t full = n / nr, tail = n - full * nr;
  const size_t k_ = k - (src_extra_ ? 1 : 0), ldb = src_ld_;
  const float* b = src_;
  float* out = data_.data();
  auto panel_row = [&](size_t j, size_t p) { return out + (j * k + p) * nr; };
  auto width = [&](size_t j) { return j < full ? nr : tail; };
  if (src_trans_) {
    // Bᵀ: read each stored row of B once, contiguously, and scatter it down the panel
    // (one panel fits in L1; reading B down its columns missed on every element).
    for (size_t j = j0; j < j1; ++j)
      for (size_t c = 0; c < width(j); ++c) {
        const float* row = b + (j * nr + c) * ldb;
        for (size_t p = 0; p < k_; ++p) panel_row(j, p)[c] = row[p];
      }
  } else {
    // B: one stored row at a time, contiguously, cut into the panels' rows.
    const size_t j_full = std::min(j1, full);
    for (size_t p = 0; p < k_; ++p) {
      const float* row = b + p * ldb;
      for (size_t j = j0; j < j_full; ++j) copy_panel_row(panel_row(j, p), row + j * nr, nr);
      if (tail && j1 > full) std::memcpy(panel_row(full, p), row + full * nr, tail * sizeof(float));
    }
  }
  if (src_extra_)
    for (size_t j = j0; j < j1; ++j) std::memcpy(panel_row(j, k_), src_extra_ + j * nr, width(j) * sizeof(float));
  if (tail && j1 > full)  // zero padding of the last panel
    for (size_t p = 0; p < k; ++p) std::memset(panel_row(full, p) + tail, 0, (nr - tail) * sizeof(float));
}

}  // namespace frnn
