// frnn::matmul: the public dense product, a thin wrapper over the packed GEMM.
#include "cpu/fpmode.h"
#include "fused_rnn.h"
#include "gemm/gemm.h"

namespace frnn {

void matmul(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float* a, const float* b, float* c,
            bool accumulate) {
  if (m == 0 || n == 0) return;
  const FlushDenormals ftz;
  if (k == 0) {  // an empty sum: C = 0 (or unchanged)
    if (!accumulate)
      for (size_t i = 0; i < m * n; ++i) c[i] = 0.0f;
    return;
  }
  gemm(trans_a, trans_b, m, n, k, a, trans_a ? m : k, b, trans_b ? k : n, c, n, accumulate);
}

}  // namespace frnn
