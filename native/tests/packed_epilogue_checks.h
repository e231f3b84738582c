// Checks shared by the bf16 and int8 tests: a packed reduced-precision product's epilogue. The
// bias added in the kernels gives the bits of the product followed by a pass adding it (under the
// drivers' DAZ+FTZ, as the forward driver ran that pass), and two products over one A in one call
// (A converted once, gemm_packed_products) give the bits of each product alone.
#pragma once

#include <algorithm>
#include <vector>

#include "cpu/fpmode.h"
#include "gemm/gemm.h"
#include "test_util.h"
#include "threads/pool.h"

namespace frnn_test {

// `whole`: the product A·pm (m×n, no bias) computed by the caller; `a`: A, m×k row-major.
inline void check_packed_epilogue(size_t m, size_t n, size_t k, const std::vector<float>& a, const frnn::PackedMatrix& pm,
                                  const std::vector<float>& whole, Rng& rng) {
  const std::vector<float> bias = rng.vec(n, -1, 1);
  std::vector<float> with_bias(m * n), then_bias(whole);
  frnn::gemm_packed(false, m, k, a.data(), k, pm, with_bias.data(), n, false, 0, frnn::kSplitAlign, bias.data());
  frnn::gemm_packed(false, m, k, a.data(), k, pm, with_bias.data(), n, false, frnn::kSplitAlign, n, bias.data());
  {
    const frnn::FlushDenormals ftz;
    frnn::add_row_vector(m, n, bias.data(), then_bias.data(), n, true);
  }
  CHECK_MSG(same_bits(with_bias, then_bias), "the epilogue's bias differs from a pass adding it");
  std::vector<float> acc(whole), both_acc(whole), both_bias(m * n);
  frnn::gemm_packed(false, m, k, a.data(), k, pm, acc.data(), n, true, 0, n);
  const frnn::PackedProduct prods[2] = {{&pm, both_acc.data(), n, true, 0, n, nullptr},
                                        {&pm, both_bias.data(), n, false, frnn::kSplitAlign, n, bias.data()}};
  frnn::gemm_packed_products(m, k, a.data(), k, prods, 2);
  std::vector<float> bias_cols(with_bias);
  for (size_t i = 0; i < m; ++i) std::fill(bias_cols.begin() + i * n, bias_cols.begin() + i * n + frnn::kSplitAlign, 0.0f);
  CHECK_MSG(same_bits(both_acc, acc) && same_bits(both_bias, bias_cols),
            "gemm_packed_products differs from its products one at a time");
}

}  // namespace frnn_test
