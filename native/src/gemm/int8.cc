// int8 quantization and packing for the int8 micro-kernels (gemm/int8.h).
#include "gemm/int8.h"

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
  for (size_t j = j0; j < j1 && j < panels(); ++j) {
    int8_t* panel = data.data() + j * k4 * nr * 4;
    std::memset(panel, 0, k4 * nr * 4);  // padding: k past k, columns past n
    for (size_t c = 0; c < nr; ++c) {
      const size_t col = j * nr + c;
      comp[col] = 0;
      scale[col] = 0.0f;
      if (col >= n) continue;
      // Column col of op(B): stored contiguously when transposed (a weight row), else strided.
      const float* src = src_trans_ ? src_ + col * src_ld_ : src_ + col;
      const size_t step = src_trans_ ? 1 : src_ld_;
      uint32_t mb = 0;
      for (size_t p = 0; p < k; ++p) mb = std::max(mb, abs_bits(src[p * step]));
      float inv;
      int8_scales(mb, &scale[col], &inv);
      int32_t sum = 0;
      for (size_t p = 0; p < k; ++p) {
        const int32_t q = quantize_one(src[p * step], inv);
        panel[(p / 4) * nr * 4 + c * 4 + p % 4] = static_cast<int8_t>(q);
        sum += q;  // |sum| <= 127·kInt8MaxK: no overflow
      }
      comp[col] = -128 * sum;
    }
  }
}

}  // namespace frnn
