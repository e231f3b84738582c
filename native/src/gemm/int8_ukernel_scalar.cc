// Portable int8 micro-kernel: 4 rows × 8 columns, the reference arithmetic (gemm/int8.h):
// wrapping 32-bit integer sums, then the fixed dequantizing order.
#include "gemm/gemm_int8.h"

namespace frnn {

template <int M>
static void kernel_4x8(size_t n, size_t k4, const uint8_t* a, size_t lda, const float* a_scale, const int8_t* w,
                       const int32_t* w_comp, const float* w_scale, float* c, size_t ldc,
                       const float* add, size_t ld_add) {
  constexpr int NR = 8;
  uint32_t acc[M][NR];
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = static_cast<uint32_t>(w_comp[j]);
  for (size_t p = 0; p < k4; ++p) {
    const int8_t* wp = w + p * NR * 4;
    for (int i = 0; i < M; ++i) {
      const uint8_t* ap = a + i * lda + 4 * p;
      for (int j = 0; j < NR; ++j)
        for (int e = 0; e < 4; ++e)
          acc[i][j] += static_cast<uint32_t>(ap[e]) * static_cast<uint32_t>(int32_t{wp[j * 4 + e]});
    }
  }
  for (int i = 0; i < M; ++i) {
    float* ci = c + i * ldc;
    for (size_t j = 0; j < n; ++j) {
      int32_t s;
      std::memcpy(&s, &acc[i][j], 4);
      ci[j] = dequantize_reference(s, a_scale[i], w_scale[j], add ? add[i * ld_add + j] : 0.0f, add != nullptr);
    }
  }
}

void frnn_int8_gemm_ukernel_4x8__scalar(size_t m, size_t n, size_t k4, const uint8_t* a, size_t lda,
                                        const float* a_scale, const int8_t* w, const int32_t* w_comp,
                                        const float* w_scale, float* c, size_t ldc, const float* add, size_t ld_add) {
  switch (m) {
    case 1: kernel_4x8<1>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 2: kernel_4x8<2>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 3: kernel_4x8<3>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    default: kernel_4x8<4>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
  }
}

}  // namespace frnn
