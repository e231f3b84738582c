// The bf16 products (gemm/bf16.h, gemm/gemm_bf16.h): conversion rounds to nearest even,
// packing, every micro-kernel of bf16_ukernels.inc against dot_pairs_reference() — bit for
// bit, denormals included — the driver's splits, and bf16 inference through frnn::forward.
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/fpmode.h"
#include "cpu/isa.h"
#include "fused_rnn.h"
#include "gemm/gemm.h"
#include "gemm/gemm_bf16.h"
#include "rnn_case.h"
#include "packed_epilogue_checks.h"
#include "test_util.h"
#include "threads/pool.h"

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

// Whether this CPU can run a row of the table at all (whatever the active ISA).
bool cpu_runs(const frnn::Bf16UkernelEntry& e) {
  return frnn::cpu_supports(e.isa) && (!e.needs_bf16 || frnn::cpu_has(frnn::Feature::kAvx512Bf16));
}

FRNN_TEST(bf16_converters_match_f32_to_bf16_bitwise) {
  // Specials, denormals (the largest rounds up to the smallest normal bf16), ties, random.
  std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 0x1p-149f, -0x1p-149f, 0x1.fffffcp-127f, 0x1p-126f,
                          1.0f + 0x1p-8f, 1.0f + 0x1p-7f + 0x1p-8f, 3.4e38f, -3.4e38f, INFINITY, -INFINITY,
                          std::nanf(""), -std::nanf("")};
  Rng rng(3);
  for (int i = 0; i < 4000; ++i) {
    uint32_t u = static_cast<uint32_t>(rng.next());
    float f;
    std::memcpy(&f, &u, 4);
    v.push_back(f);
  }
  for (const frnn::Bf16UkernelEntry& e : frnn::kBf16Ukernels) {
    if (!cpu_runs(e)) continue;
    FRNN_SCOPE("%s", e.name);
    for (size_t k : {v.size(), size_t{1}, size_t{7}, size_t{17}, size_t{33}}) {
      const size_t ldo = (k + 1) / 2 * 2 + 2;  // room past k: the converter zero-pads
      std::vector<bf16> got(ldo, 0xdead), want(ldo, 0);
      e.convert(1, k, v.data(), k, got.data(), ldo);
      for (size_t p = 0; p < k; ++p) want[p] = frnn::f32_to_bf16(v[p]);
      CHECK_MSG(got == want, "k=%zu: the converter differs from f32_to_bf16", k);
    }
    frnn_test::count_case();
  }
}

// Every micro-kernel this CPU runs (AVX512_BF16, the AVX2 emulation, the scalar code) against
// dot_pairs_reference(), bit for bit, denormals included: the portable paths give the bits of
// the native one.
FRNN_TEST(bf16_ukernels_match_reference_bitwise) {
  const frnn::FlushDenormals ftz;  // as gemm_bf16_packed() runs them
  for (const frnn::Bf16UkernelEntry& e : frnn::kBf16Ukernels) {
    if (!cpu_runs(e)) {
      frnn_test::note(std::string("this CPU cannot run ") + e.name);
      continue;
    }
    FRNN_SCOPE("%s", e.name);
    Rng rng(2);
    size_t bad = 0, total = 0;
    for (int trial = 0; trial < 400; ++trial) {
      const size_t m = 1 + trial % e.mr, n = 1 + (trial * 7) % e.nr, k = 1 + (trial * 13) % 97;
      const float scale = trial % 5 == 0 ? 1e-37f : trial % 5 == 1 ? 1e18f : 2.0f;  // denormal and large sums too
      FRNN_SCOPE("m=%zu n=%zu k=%zu scale=%g", m, n, k, (double)scale);
      std::vector<float> a(m * k), b(k * n), c(m * e.nr), bias(e.nr);
      for (float& x : a) x = rng.uniform(-1.0f, 1.0f) * scale;
      for (float& x : b) x = rng.uniform(-2.0f, 2.0f);
      for (float& x : c) x = rng.uniform(-1.0f, 1.0f) * (trial % 7 == 0 ? 1e-38f : 1.0f);
      for (float& x : bias) x = rng.uniform(-1.0f, 1.0f) * (trial % 7 == 0 ? 1e-38f : 1.0f);
      const size_t lda = (k + 1) / 2 * 2;
      std::vector<bf16> ab(m * lda);
      frnn::convert_rows_bf16(m, k, a.data(), k, ab.data(), lda);
      frnn::PackedBf16 p;
      p.pack(false, k, n, b.data(), n, e.nr);
      // What the epilogue adds: nothing, C itself (accumulate), or a bias row (stride 0).
      const int mode = trial % 3;
      const float* add = mode == 0 ? nullptr : mode == 1 ? c.data() : bias.data();
      const size_t ld_add = mode == 1 ? e.nr : 0;
      std::vector<float> want(c);
      std::vector<bf16> col(p.k2 * 2);
      for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j) {
          for (size_t q = 0; q < p.k2 * 2; ++q) col[q] = p.panel(0)[(q / 2) * e.nr * 2 + j * 2 + q % 2];
          const float r = frnn::dot_pairs_reference(0.0f, ab.data() + i * lda, col.data(), p.k2);
          want[i * e.nr + j] = add ? frnn::flush_denormal(frnn::flush_denormal(add[i * ld_add + j]) + r) : r;
        }
      e.fn(m, n, p.k2, ab.data(), lda, p.panel(0), c.data(), e.nr, add, ld_add);
      for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < e.nr; ++j) {
          const bool inside = j < n;
          if (inside) ++total;
          if (bits(c[i * e.nr + j]) != bits(want[i * e.nr + j])) bad += inside ? 1 : 1000000;
        }
      frnn_test::count_case();
    }
    CHECK_MSG(bad == 0, "%zu of %zu elements differ from the reference (>= 1e6: written past n)", bad, total);
  }
}

// The driver: transposed packing (the weights' layout) gives the panels of the plain one,
// and splitting the columns (as threads do) or the rows changes no bit.
FRNN_TEST(bf16_gemm_packed_is_split_invariant) {
  Rng rng(4);
  const size_t nr = frnn::bf16_gemm_config().nr;
  for (size_t m : {1, 5, 70, 130})
    for (size_t k : {1, 2, 63, 257}) {
      const size_t n = 3 * frnn::kSplitAlign + 5;
      FRNN_SCOPE("m=%zu k=%zu n=%zu (%s)", m, k, n, frnn::bf16_gemm_config().name);
      const std::vector<float> a = rng.vec(m * k, -1, 1), w = rng.vec(n * k, -1, 1);
      std::vector<float> wt(k * n);
      for (size_t r = 0; r < n; ++r)
        for (size_t p = 0; p < k; ++p) wt[p * n + r] = w[r * k + p];
      frnn::PackedBf16 pt, pn;
      pt.pack(true, k, n, w.data(), k, nr);
      pn.pack(false, k, n, wt.data(), n, nr);
      CHECK_MSG(pt.data == pn.data, "transposed packing differs");
      frnn::PackedMatrix pm;
      pm.plan_bf16(true, k, n, w.data(), k);
      pm.fill(0, pm.panels() / 2);
      pm.fill(pm.panels() / 2, pm.panels());
      std::vector<float> whole(m * n), split(m * n), rows(m * n);
      frnn::gemm_bf16_packed(m, k, a.data(), k, pt, whole.data(), n, false);
      frnn::gemm_packed(false, m, k, a.data(), k, pm, split.data(), n, false, 0, frnn::kSplitAlign);
      frnn::gemm_packed(false, m, k, a.data(), k, pm, split.data(), n, false, frnn::kSplitAlign, n);
      const size_t half = m / 2;
      frnn::gemm_bf16_packed(half, k, a.data(), k, pt, rows.data(), n, false);
      frnn::gemm_bf16_packed(m - half, k, a.data() + half * k, k, pt, rows.data() + half * n, n, false);
      CHECK_MSG(frnn_test::same_bits(whole, split) && frnn_test::same_bits(whole, rows), "a split changed bits");
      frnn_test::check_packed_epilogue(m, n, k, a, pm, whole, rng);
      // A converted beforehand (backward's dZ rows): the same bits.
      std::vector<bf16> a16(m * 2 * pt.k2);
      frnn::convert_rows_bf16(m, k, a.data(), k, a16.data(), 2 * pt.k2);
      std::vector<float> pre(m * n);
      frnn::gemm_bf16_packed16(m, a16.data(), 2 * pt.k2, pt, pre.data(), n, false);
      CHECK_MSG(frnn_test::same_bits(whole, pre), "gemm_bf16_packed16 differs from gemm_bf16_packed");
      // And one element against the reference.
      std::vector<bf16> ar(2 * pt.k2, 0), wr(2 * pt.k2, 0);
      for (size_t p = 0; p < k; ++p) {
        ar[p] = frnn::f32_to_bf16(a[(m - 1) * k + p]);
        wr[p] = frnn::f32_to_bf16(w[(n - 1) * k + p]);
      }
      CHECK_EQ(bits(whole[(m - 1) * n + n - 1]), bits(frnn::dot_pairs_reference(0.0f, ar.data(), wr.data(), pt.k2)));
      frnn_test::count_case();
    }
}

// Every row's pair packer and column converter against pack_pairs_bf16 and convert_cols_bf16 (specials, denormals, random bits), with
// and without a second row, at lengths around the vector widths; nothing written past n.
FRNN_TEST(bf16_pair_packers_match_reference_bitwise) {
  Rng rng(6);
  std::vector<float> r0 = {0.0f, -0.0f, 0x1p-149f, 0x1.fffffcp-127f, 1.0f + 0x1p-8f, INFINITY, std::nanf(""), -3.4e38f};
  for (int i = 0; i < 200; ++i) {
    const uint32_t u = static_cast<uint32_t>(rng.next());
    float f;
    std::memcpy(&f, &u, 4);
    r0.push_back(f);
  }
  std::vector<float> r1(r0.rbegin(), r0.rend());
  for (const frnn::Bf16UkernelEntry& e : frnn::kBf16Ukernels) {
    if (!cpu_runs(e)) continue;
    FRNN_SCOPE("%s", e.name);
    for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{15}, size_t{16}, size_t{17}, size_t{33}, r0.size()})
      for (bool two : {true, false}) {
        std::vector<bf16> got(2 * n + 4, 0xdead), want(2 * n + 4, 0xdead);
        e.pack_pairs(n, r0.data(), two ? r1.data() : nullptr, got.data());
        frnn::pack_pairs_bf16(n, r0.data(), two ? r1.data() : nullptr, want.data());
        CHECK_MSG(got == want, "n=%zu two=%d: differs from pack_pairs_bf16", n, (int)two);
      }
    // Columns to rows: A [k × 21] (the specials among its elements), columns [2, 19), odd and
    // even k around the vector widths, the rows zero-padded to ldo.
    for (size_t k : {size_t{1}, size_t{8}, size_t{15}, size_t{16}, size_t{17}, size_t{40}}) {
      const size_t lda = 21, ldo = (k + 1) / 2 * 2 + 2;
      std::vector<float> a(k * lda);
      for (size_t q = 0; q < a.size(); ++q) a[q] = r0[(q * 7) % r0.size()];
      std::vector<bf16> got(17 * ldo, 0xdead), want(17 * ldo, 0xbeef);
      e.convert_cols(k, 2, 19, a.data(), lda, got.data(), ldo);
      frnn::convert_cols_bf16(k, 2, 19, a.data(), lda, want.data(), ldo);
      CHECK_MSG(got == want, "k=%zu: convert_cols differs from convert_cols_bf16", k);
    }
    frnn_test::count_case();
  }
}

// Backward's weight-gradient operands: dZ packed a few rows and columns at a time
// (PackedBf16::shape + pack_rows, odd row starts and counts included) gives pack()'s panels;
// convert_cols_bf16 gives the transposed rows; gemm_bf16_tn_add gives, for any column split,
// flush(flush(C) + dot_pairs_reference(...)) in every element of Cᵀ, and leaves the rest.
FRNN_TEST(bf16_weight_gradient_product_matches_reference) {
  Rng rng(7);
  const size_t nr = frnn::bf16_gemm_config().nr;
  for (size_t k : {size_t{1}, size_t{2}, size_t{9}, size_t{64}, size_t{131}})
    for (size_t m : {size_t{1}, size_t{5}, size_t{19}})
      for (size_t n : {size_t{3}, size_t{40}, 3 * frnn::kSplitAlign + 5}) {
        FRNN_SCOPE("k=%zu m=%zu n=%zu (%s)", k, m, n, frnn::bf16_gemm_config().name);
        std::vector<float> dz = rng.vec(k * n, -1, 1), x = rng.vec(k * m, -1, 1);
        dz[0] = 1e-39f;  // a denormal: read as zero
        frnn::PackedBf16 want, got;
        want.pack(false, k, n, dz.data(), n, nr);
        got.shape(k, n, nr);
        // Rows in uneven steps (3, then 4, ...) and each step's columns in two parts.
        for (size_t p0 = 0, step = 3; p0 < k; p0 += step, step = step == 3 ? 4 : 3) {
          const size_t rows = std::min(step, k - p0), cut = n / 3;
          got.pack_rows(p0, rows, dz.data() + p0 * n, n, cut, n);
          got.pack_rows(p0, rows, dz.data() + p0 * n, n, 0, cut);
        }
        CHECK_MSG(got.data == want.data, "pack_rows differs from pack");
        const size_t ld = (k + 1) / 2 * 2;
        std::vector<bf16> xt(m * ld, 0xdead);
        frnn::convert_cols_bf16(k, 0, m, x.data(), m, xt.data(), ld);
        for (size_t i = 0; i < m; ++i)
          for (size_t p = 0; p < ld; ++p) CHECK_EQ(xt[i * ld + p], p < k ? frnn::f32_to_bf16(x[p * m + i]) : bf16{0});
        // C [n × m] (+)= (Xᵀ·dZ)ᵀ, its columns split at an odd place.
        const std::vector<float> c0 = rng.vec(n * m, -1, 1);
        std::vector<float> c = c0, expect = c0;
        const size_t split = n / 2 + 1;
        frnn::gemm_bf16_tn_add(m, xt.data(), ld, got, split, n, c.data(), m);
        frnn::gemm_bf16_tn_add(m, xt.data(), ld, got, 0, split, c.data(), m);
        std::vector<bf16> col(ld);
        for (size_t j = 0; j < n; ++j) {
          for (size_t q = 0; q < ld; ++q) col[q] = want.panel(j / nr)[(q / 2) * nr * 2 + (j % nr) * 2 + q % 2];
          for (size_t i = 0; i < m; ++i) {
            const float r = frnn::dot_pairs_reference(0.0f, xt.data() + i * ld, col.data(), ld / 2);
            expect[j * m + i] = frnn::flush_denormal(frnn::flush_denormal(c0[j * m + i]) + r);
          }
        }
        CHECK_MSG(frnn_test::same_bits(c, expect), "gemm_bf16_tn_add differs from the reference");
        frnn_test::count_case();
      }
}

// bf16 against fp32 (every cell and form, both directions, lengths, projection): inference
// within 3e-3 for outputs of magnitude <= 1, mixed-precision gradients within 2% of the
// largest, the same bits for 1 and 2 threads.
FRNN_TEST(bf16_forward_is_close_to_fp32_and_deterministic) {
  struct Case {
    frnn::CellType cell;
    bool reset_after;
    int D, L, proj;
    bool lengths;
  };
  const Case cases[] = {{frnn::CellType::kLstm, true, 1, 1, 0, false},  {frnn::CellType::kLstm, true, 2, 2, 0, true},
                        {frnn::CellType::kLstm, true, 1, 1, 24, false}, {frnn::CellType::kGru, true, 1, 1, 0, false},
                        {frnn::CellType::kGru, false, 2, 1, 0, true},   {frnn::CellType::kGru, false, 1, 2, 0, false},
                        {frnn::CellType::kRnn, true, 1, 1, 0, false},   {frnn::CellType::kRnn, true, 2, 1, 0, true}};
  Rng rng(5);
  for (const Case& k : cases)
    for (int B : {1, 2, 9}) {
      const int T = 13, I = 37, H = 64;
      frnn::RnnConfig c = frnn_test::make_config(k.cell, I, H);
      c.reset_after = k.reset_after;
      c.num_directions = k.D;
      c.num_layers = k.L;
      c.proj_size = k.proj;
      const int Hout = k.proj ? k.proj : H;
      FRNN_SCOPE("cell %d reset_after %d D=%d L=%d proj=%d B=%d", (int)k.cell, k.reset_after, k.D, k.L, k.proj, B);
      const float scale = 1.0f / std::sqrt((float)H);
      const std::vector<float> params = rng.vec(frnn::param_count(c), -scale, scale);
      const std::vector<float> x = rng.vec((size_t)T * B * I, -1, 1);
      std::vector<int32_t> len(B, T);
      if (k.lengths)
        for (int b = 0; b < B; ++b) len[b] = 1 + (b * 5) % T;
      const frnn::SeqDims dims{T, B, false};
      const size_t ny = (size_t)T * B * k.D * Hout, nh = (size_t)k.L * k.D * B * Hout;
      std::vector<float> y32(ny), h32(nh), y16(ny), h16(nh), y16b(ny), h16b(nh);
      const int32_t* lp = k.lengths ? len.data() : nullptr;
      if (!CHECK_OK(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, y32.data(), h32.data(),
                                  nullptr, nullptr)))
        return;
      c.precision = frnn::Precision::kBf16;
      frnn::set_num_threads(1);
      CHECK_OK(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, y16.data(), h16.data(), nullptr,
                             nullptr));
      frnn::set_num_threads(2);
      CHECK_OK(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, y16b.data(), h16b.data(),
                             nullptr, nullptr));
      frnn::set_num_threads(1);
      CHECK_ALL_CLOSE(y16.data(), std::vector<double>(y32.begin(), y32.end()).data(), ny, 3e-3);
      CHECK_ALL_CLOSE(h16.data(), std::vector<double>(h32.begin(), h32.end()).data(), nh, 3e-3);
      CHECK_MSG(frnn_test::same_bits(y16, y16b) && frnn_test::same_bits(h16, h16b), "1 and 2 threads differ");
      CHECK_MSG(!frnn_test::same_bits(y16, y32), "bf16 gave the fp32 bits: not the bf16 path");
      // Training in bf16 (mixed precision): the training forward gives the inference bits, and
      // the gradients stay close to fp32's, the same for 1 and 2 threads.
      std::vector<float> saved(frnn::saved_size(c, dims)), yt(ny), ht(nh);
      CHECK_OK(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, yt.data(), ht.data(), nullptr,
                             saved.data()));
      CHECK_MSG(frnn_test::same_bits(yt, y16), "bf16 training forward differs from bf16 inference");
      const std::vector<float> dy = rng.vec(ny, -1, 1);
      auto grads = [&](frnn::Precision p, int threads, std::vector<float>& dx, std::vector<float>& dp) {
        frnn::RnnConfig cp = c;
        cp.precision = p;
        frnn::set_num_threads(threads);
        std::vector<float> y(ny), h(nh), sv(frnn::saved_size(cp, dims));
        CHECK_OK(frnn::forward(cp, params.data(), dims, x.data(), lp, nullptr, nullptr, y.data(), h.data(), nullptr,
                               sv.data()));
        dx.assign((size_t)T * B * I, 0.0f);
        dp.assign(params.size(), 0.0f);
        CHECK_OK(frnn::backward(cp, params.data(), dims, x.data(), lp, nullptr, nullptr, sv.data(), dy.data(), nullptr,
                                nullptr, dx.data(), nullptr, nullptr, dp.data()));
        frnn::set_num_threads(1);
      };
      std::vector<float> dx32, dp32, dx16, dp16, dx16b, dp16b;
      grads(frnn::Precision::kFp32, 1, dx32, dp32);
      grads(frnn::Precision::kBf16, 1, dx16, dp16);
      grads(frnn::Precision::kBf16, 2, dx16b, dp16b);
      CHECK_MSG(frnn_test::same_bits(dx16, dx16b) && frnn_test::same_bits(dp16, dp16b), "bf16 gradients: 1 and 2 threads differ");
      const std::vector<double> dx_ref(dx32.begin(), dx32.end()), dp_ref(dp32.begin(), dp32.end());
      // 2% of the largest gradient: every product's inputs carry a bf16 rounding (2^-9 relative).
      CHECK_ALL_CLOSE(dx16.data(), dx_ref.data(), dx16.size(), 2e-2 * frnn_test::max_abs(dx_ref.data(), dx_ref.size(), 1e-3));
      CHECK_ALL_CLOSE(dp16.data(), dp_ref.data(), dp16.size(), 2e-2 * frnn_test::max_abs(dp_ref.data(), dp_ref.size(), 1e-3));
      frnn_test::count_case();
    }
}

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("bf16_test", argc, argv); }
