// The bf16 products (gemm/bf16.h): conversion rounds to nearest even, packing, and the
// AVX512_BF16 micro-kernel against dot_pairs_reference() — bit for bit, denormals included.
#include <cstring>
#include <vector>

#include "cpu/fpmode.h"
#include "cpu/isa.h"
#include "gemm/bf16.h"
#include "test_util.h"

namespace frnn {
#if defined(__x86_64__)
void frnn_bf16_gemm_ukernel_8x32__avx512bf16(size_t m, size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w,
                                             float* c, size_t ldc, bool accumulate);
#endif
}  // namespace frnn

namespace {

using frnn::bf16;
using frnn_test::Rng;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

FRNN_TEST(bf16_conversion_rounds_to_nearest_even) {
  // 1 + 2^-8 lies halfway between two bf16 (1 and 1 + 2^-7): ties go to the even mantissa.
  CHECK_EQ(frnn::f32_to_bf16(1.0f + 0x1p-8f), frnn::f32_to_bf16(1.0f));
  CHECK_EQ(frnn::f32_to_bf16(1.0f + 0x1p-7f + 0x1p-8f), frnn::f32_to_bf16(1.0f + 0x1p-6f));
  CHECK_EQ(frnn::f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), frnn::f32_to_bf16(1.0f + 0x1p-7f));
  CHECK_EQ(frnn::bf16_to_f32(frnn::f32_to_bf16(-2.5f)), -2.5f);
  CHECK(std::isnan(frnn::bf16_to_f32(frnn::f32_to_bf16(std::nanf("")))));
  CHECK(std::isinf(frnn::bf16_to_f32(frnn::f32_to_bf16(3.4e38f))));  // rounds past the largest bf16
  // Every float with a zero low half converts exactly.
  Rng rng(1);
  for (int i = 0; i < 100000; ++i) {
    const float f = rng.uniform(-1e6f, 1e6f);
    const uint32_t hi = bits(f) & 0xffff0000u;
    float g;
    std::memcpy(&g, &hi, 4);
    CHECK_EQ(bits(frnn::bf16_to_f32(frnn::f32_to_bf16(g))), hi);
  }
  frnn_test::count_case();
}

FRNN_TEST(bf16_packing_puts_pairs_along_k) {
  const size_t k = 5, n = 3;
  std::vector<float> b(k * n);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i + 1);
  frnn::PackedBf16 p;
  p.pack(false, k, n, b.data(), n, 4);
  CHECK_EQ(p.k2, size_t{3});
  for (size_t kk = 0; kk < k; ++kk)
    for (size_t c = 0; c < n; ++c)
      CHECK_EQ(frnn::bf16_to_f32(p.panel(0)[(kk / 2) * 8 + c * 2 + kk % 2]), b[kk * n + c]);
  CHECK_EQ(p.panel(0)[2 * 8 + 0 * 2 + 1], bf16{0});  // odd k: the last pair's second half is 0
  CHECK_EQ(p.panel(0)[0 * 8 + 3 * 2], bf16{0});      // past n: zero columns
  frnn_test::count_case();
}

#if defined(__x86_64__)
FRNN_TEST(bf16_ukernel_matches_reference_bitwise) {
  if (!frnn::cpu_has(frnn::Feature::kAvx512Bf16)) {
    frnn_test::note("this CPU has no AVX512_BF16: the kernel is not run");
    return;
  }
  const frnn::FlushDenormals ftz;  // as the drivers run it (the final C add obeys MXCSR)
  Rng rng(2);
  size_t bad = 0, total = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const size_t m = 1 + trial % 8, n = 1 + (trial * 7) % 32, k = 1 + (trial * 13) % 97;
    const float scale = trial % 5 == 0 ? 1e-37f : trial % 5 == 1 ? 1e18f : 2.0f;  // denormal and large sums too
    FRNN_SCOPE("m=%zu n=%zu k=%zu scale=%g", m, n, k, (double)scale);
    std::vector<float> a(m * k), b(k * n), c(m * 32);
    for (float& v : a) v = rng.uniform(-1.0f, 1.0f) * scale;
    for (float& v : b) v = rng.uniform(-2.0f, 2.0f);
    for (float& v : c) v = rng.uniform(-1.0f, 1.0f);
    const size_t lda = (k + 1) / 2 * 2;
    std::vector<bf16> ab(m * lda);
    frnn::convert_rows_bf16(m, k, a.data(), k, ab.data(), lda);
    frnn::PackedBf16 p;
    p.pack(false, k, n, b.data(), n, 32);
    const bool accumulate = trial % 2 == 1;
    std::vector<float> want(c);
    std::vector<bf16> col(p.k2 * 2);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) {
        for (size_t q = 0; q < p.k2 * 2; ++q) col[q] = p.panel(0)[(q / 2) * 64 + j * 2 + q % 2];
        const float r = frnn::dot_pairs_reference(0.0f, ab.data() + i * lda, col.data(), p.k2);
        want[i * 32 + j] = accumulate ? frnn::flush_denormal(frnn::flush_denormal(c[i * 32 + j]) + r) : r;
      }
    frnn::frnn_bf16_gemm_ukernel_8x32__avx512bf16(m, n, p.k2, ab.data(), lda, p.panel(0), c.data(), 32, accumulate);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < 32; ++j) {
        const bool inside = j < n;
        if (inside) ++total;
        if (bits(c[i * 32 + j]) != bits(want[i * 32 + j])) bad += inside ? 1 : 1000000;
      }
    frnn_test::count_case();
  }
  CHECK_MSG(bad == 0, "%zu of %zu elements differ from the reference (>= 1e6: written past n)", bad, total);
}
#endif

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("bf16_test", argc, argv); }
