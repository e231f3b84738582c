// Portable bf16 micro-kernel: 4 rows × 8 columns, the reference arithmetic (gemm/bf16.h) with
// its flushes written out, so it needs no FPU mode beyond round-to-nearest.
#include "gemm/gemm_bf16.h"

namespace frnn {

template <int M>
static void kernel_4x8(size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w, float* c, size_t ldc,
                       const float* add, size_t ld_add) {
  constexpr int NR = 8;
  float acc[M][NR] = {};
  for (size_t p = 0; p < k2; ++p) {
    const bf16* wp = w + p * NR * 2;
    for (int e = 1; e >= 0; --e)  // the odd element of each pair first, as VDPBF16PS
      for (int i = 0; i < M; ++i) {
        const float x = flush_denormal(bf16_to_f32(a[i * lda + 2 * p + e]));
        for (int j = 0; j < NR; ++j) {
          const float y = flush_denormal(bf16_to_f32(wp[j * 2 + e]));
          acc[i][j] = flush_denormal(std::fma(x, y, acc[i][j]));
        }
      }
  }
  for (int i = 0; i < M; ++i) {
    float* ci = c + i * ldc;
    for (size_t j = 0; j < n; ++j)
      ci[j] = add ? flush_denormal(flush_denormal(add[i * ld_add + j]) + acc[i][j]) : acc[i][j];
  }
}

void frnn_bf16_gemm_ukernel_4x8__scalar(size_t m, size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w,
                                        float* c, size_t ldc, const float* add, size_t ld_add) {
  switch (m) {
    case 1: kernel_4x8<1>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 2: kernel_4x8<2>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 3: kernel_4x8<3>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    default: kernel_4x8<4>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
  }
}

}  // namespace frnn
