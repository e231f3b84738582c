// bf16 conversion and packing for the bf16 micro-kernels (gemm/bf16.h). Plain loops: they run
// once per call for weights and once per block of rows for activations.
#include "gemm/bf16.h"

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
  k = k_;
  n = n_;
  nr = nr_;
  k2 = (k + 1) / 2;
  data.assign(panels() * k2 * nr * 2, 0);
  auto at = [&](size_t p, size_t col) { return trans_b ? b[col * ldb + p] : b[p * ldb + col]; };
  for (size_t j = 0; j < panels(); ++j) {
    bf16* panel = data.data() + j * k2 * nr * 2;
    const size_t c0 = j * nr, cols = n - c0 < nr ? n - c0 : nr;
    for (size_t p = 0; p < k; ++p)
      for (size_t c = 0; c < cols; ++c) panel[(p / 2) * nr * 2 + c * 2 + p % 2] = f32_to_bf16(at(p, c0 + c));
  }
}

}  // namespace frnn
