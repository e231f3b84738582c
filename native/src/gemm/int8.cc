// int8 quantization and packing for the int8 micro-kernels (gemm/int8.h).
#include "gemm/int8.h"

#include "gemm/gemm_int8.h"

#include <algorithm>

namespace frnn {

void quantize_rows_u8(size_t m, size_t k, const float* a, size_t lda, uint8_t* out, size_t ldo, float* scale) {
  for (size_t i = 0; i < m; ++i) {
    const float* src = a + i * lda;
    uint8_t* dst = out + i * ldo;
    uint32_t mb = 0;
    for (size_t p = 0; p < k; ++p) mb = std::max(mb, abs_bits(src[p]));
    float inv;
    int8_scales(mb, &scale[i], &inv);
    for (size_t p = 0; p < k; ++p) dst[p] = static_cast<uint8_t>(quantize_one(src[p], inv) + 128);
    for (size_t p = k; p < ldo; ++p) dst[p] = 128;
  }
}

void PackedInt8::pack(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb, size_t nr_) {
  plan(trans_b, k_, n_, b, ldb, nr_);
  fill(0, panels());
}

void PackedInt8::plan(bool trans_b, size_t k_, size_t n_, const float* b, size_t ldb, size_t nr_) {
  k = k_;
  n = n_;
  nr = nr_;
  k4 = (k + 3) / 4;
  // Every element is written by fill().
  data.resize(panels() * k4 * nr * 4);
  comp.resize(panels() * nr);
  scale.resize(panels() * nr);
  src_trans_ = trans_b;
  src_ = b;
  src_ld_ = ldb;
}

void PackedInt8::fill(size_t j0, size_t j1) {
  const size_t kk = 4 * k4;
  thread_local std::vector<uint8_t> row;
  row.resize(kk);
  for (size_t j = j0; j < j1 && j < panels(); ++j) {
    int8_t* panel = data.data() + j * k4 * nr * 4;
    for (size_t c = 0; c < nr; ++c) {
      const size_t col = j * nr + c;
      comp[col] = 0;
      scale[col] = 0.0f;
      if (col >= n) {  // past n: zero columns
        for (size_t p = 0; p < k4; ++p) std::memset(panel + (p * nr + c) * 4, 0, 4);
        continue;
      }
      if (src_trans_) {
        // A weight row is one column of op(B), contiguous: the vector quantizer (its bits are
        // quantize_rows_u8's, whose q + 128 it writes; the padding is 128, so q = 0 there).
        int8_gemm_config().quantize(1, k, src_ + col * src_ld_, src_ld_, row.data(), kk, &scale[col]);
      } else {
        uint32_t mb = 0;
        for (size_t p = 0; p < k; ++p) mb = std::max(mb, abs_bits(src_[p * src_ld_ + col]));
        float inv;
        int8_scales(mb, &scale[col], &inv);
        for (size_t p = 0; p < kk; ++p)
          row[p] = static_cast<uint8_t>((p < k ? quantize_one(src_[p * src_ld_ + col], inv) : 0) + 128);
      }
      // q = u8 − 128, whose s8 bits are u8 ^ 0x80: a group of 4 at a time down the panel.
      uint32_t sum_u8 = 0;  // <= 255·kk: no overflow
      for (size_t p = 0; p < kk; ++p) sum_u8 += row[p];
      for (size_t p = 0; p < k4; ++p) {
        uint32_t g;
        std::memcpy(&g, row.data() + 4 * p, 4);
        g ^= 0x80808080u;
        std::memcpy(panel + (p * nr + c) * 4, &g, 4);
      }
      comp[col] = -128 * (static_cast<int32_t>(sum_u8) - 128 * static_cast<int32_t>(kk));
    }
  }
}

}  // namespace frnn
