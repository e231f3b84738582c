// The int8 products (gemm/int8.h, gemm/gemm_int8.h): quantization (round trip, zero, tiny and
// non-finite rows), packing, every quantizer and micro-kernel of int8_ukernels.inc against the
// reference bit for bit (integer sums are exact, so every path gives the same bits), the
// driver's splits, and int8 inference through frnn::forward (close to fp32, the same bits for
// 1 and 2 threads, training refused).
#include <cmath>
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/fpmode.h"
#include "cpu/isa.h"
#include "fused_rnn.h"
#include "gemm/gemm.h"
#include "gemm/gemm_int8.h"
#include "rnn_case.h"
#include "packed_epilogue_checks.h"
#include "test_util.h"
#include "threads/pool.h"

namespace {

using frnn_test::Rng;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Whether this CPU can run a row of the table at all (whatever the active ISA).
bool cpu_runs(const frnn::Int8UkernelEntry& e) {
  if (!frnn::cpu_supports(e.isa)) return false;
  if (!e.needs_vnni) return true;
  return frnn::cpu_has(e.isa == frnn::Isa::kAvx512 ? frnn::Feature::kAvx512Vnni : frnn::Feature::kAvxVnni);
}

FRNN_TEST(int8_quantization_round_trips_within_half_a_step) {
  Rng rng(1);
  for (size_t k : {1, 3, 4, 5, 64, 130}) {
    const size_t m = 3, ldo = (k + 3) / 4 * 4;
    std::vector<float> a = rng.vec(m * k, -3, 3);
    a[0] = 0.0f;  // row 0 keeps a 0; row 1 has its max first
    a[k] = (k > 1 ? 3.5f : -3.5f);
    std::vector<uint8_t> q(m * ldo, 0);
    std::vector<float> s(m);
    frnn::quantize_rows_u8(m, k, a.data(), k, q.data(), ldo, s.data());
    for (size_t i = 0; i < m; ++i) {
      float mx = 0;
      for (size_t p = 0; p < k; ++p) mx = std::fmax(mx, std::fabs(a[i * k + p]));
      CHECK_EQ(s[i], mx / 127.0f);
      for (size_t p = 0; p < k; ++p) {
        const float back = (static_cast<float>(q[i * ldo + p]) - 128.0f) * s[i];
        CHECK_MSG(std::fabs(back - a[i * k + p]) <= 0.5f * s[i] * 1.0001f, "k=%zu row %zu [%zu]: %g -> %g", k, i, p,
                  (double)a[i * k + p], (double)back);
        CHECK(q[i * ldo + p] >= 1);
      }
      for (size_t p = k; p < ldo; ++p) CHECK_EQ(int{q[i * ldo + p]}, 128);  // padding is zero
    }
    CHECK_EQ(int{q[0]}, 128);
    CHECK_EQ(int{q[ldo]}, k > 1 ? 255 : 1);  // the row's max maps to ±127
    frnn_test::count_case();
  }
  // Ties go to even: 0.5 and 1.5 steps.
  const float t[4] = {127.0f, 0.5f, 1.5f, -2.5f};
  uint8_t q[4];
  float s;
  frnn::quantize_rows_u8(1, 4, t, 4, q, 4, &s);
  CHECK_EQ(int{q[1]}, 128);
  CHECK_EQ(int{q[2]}, 130);
  CHECK_EQ(int{q[3]}, 126);
  // Zero, tiny (< 2^-100) and non-finite rows: zeros, with scale 0, 0 and NaN.
  const float z[3][2] = {{0.0f, -0.0f}, {1e-31f, -3e-31f}, {1.0f, INFINITY}};
  for (int r = 0; r < 3; ++r) {
    frnn::quantize_rows_u8(1, 2, z[r], 2, q, 4, &s);
    CHECK_MSG(q[0] == 128 && q[1] == 128 && q[2] == 128 && q[3] == 128, "row %d not zero", r);
    CHECK(r == 2 ? std::isnan(s) : s == 0.0f);
  }
  frnn_test::count_case();
}

FRNN_TEST(int8_packing_quantizes_columns_and_puts_groups_along_k) {
  const size_t k = 6, n = 3;
  std::vector<float> b(k * n);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) - 2.0f + 0.1f * (float)i;
  frnn::PackedInt8 p;
  p.pack(false, k, n, b.data(), n, 4);
  CHECK_EQ(p.k4, size_t{2});
  for (size_t c = 0; c < n; ++c) {
    float mx = 0;
    for (size_t kk = 0; kk < k; ++kk) mx = std::fmax(mx, std::fabs(b[kk * n + c]));
    CHECK_EQ(p.scale[c], mx / 127.0f);
    int32_t sum = 0;
    for (size_t kk = 0; kk < k; ++kk) {
      const int8_t q = p.panel(0)[(kk / 4) * 16 + c * 4 + kk % 4];
      CHECK_EQ(int{q}, frnn::quantize_one(b[kk * n + c], 127.0f / mx));
      sum += q;
    }
    CHECK_EQ(p.comp[c], -128 * sum);
  }
  CHECK_EQ(int{p.panel(0)[1 * 16 + 0 * 4 + 2]}, 0);  // k past 6: zero
  CHECK_EQ(int{p.panel(0)[3 * 4]}, 0);               // past n: zero columns, scale 0, comp 0
  CHECK_EQ(p.scale[3], 0.0f);
  CHECK_EQ(p.comp[3], 0);
  frnn_test::count_case();
}

FRNN_TEST(int8_quantizers_match_reference_bitwise) {
  std::vector<float> v;
  Rng rng(3);
  for (int i = 0; i < 4000; ++i) v.push_back(rng.uniform(-5.0f, 5.0f) * (i % 97 == 0 ? 1e-39f : 1.0f));
  for (float x : {0.5f, -0.5f, 1.5f, 2.5f, -0.0f, 0x1p-149f}) v.push_back(x);
  const frnn::FlushDenormals ftz;  // as gemm_int8_packed() runs them
  for (const frnn::Int8UkernelEntry& e : frnn::kInt8Ukernels) {
    if (!cpu_runs(e)) continue;
    FRNN_SCOPE("%s", e.name);
    for (size_t k : {v.size(), size_t{1}, size_t{7}, size_t{17}, size_t{33}, size_t{64}}) {
      for (int special = 0; special < 4; ++special) {
        std::vector<float> row(v.begin(), v.begin() + k);
        if (special == 1) row[k / 2] = std::nanf("");
        if (special == 2) row[k - 1] = -INFINITY;
        if (special == 3)
          for (float& x : row) x *= 1e-32f;  // a tiny row: zeros
        const size_t ldo = (k + 3) / 4 * 4 + 4;
        std::vector<uint8_t> got(ldo, 7), want(ldo, 9);
        float sg = 1, sw = 2;
        e.quantize(1, k, row.data(), k, got.data(), ldo, &sg);
        frnn::quantize_rows_u8(1, k, row.data(), k, want.data(), ldo, &sw);
        CHECK_MSG(got == want && bits(sg) == bits(sw), "k=%zu special %d: the quantizer differs from the reference",
                  k, special);
      }
    }
    frnn_test::count_case();
  }
}

// Every micro-kernel this CPU runs (AVX512-VNNI, AVX-VNNI, the AVX2 emulation, the scalar code)
// against the reference, bit for bit, including sums at the edge of int32 (|acc| near 2^31).
FRNN_TEST(int8_ukernels_match_reference_bitwise) {
  const frnn::FlushDenormals ftz;
  for (const frnn::Int8UkernelEntry& e : frnn::kInt8Ukernels) {
    if (!cpu_runs(e)) {
      frnn_test::note(std::string("this CPU cannot run ") + e.name);
      continue;
    }
    FRNN_SCOPE("%s", e.name);
    Rng rng(2);
    size_t bad = 0, total = 0;
    for (int trial = 0; trial < 300; ++trial) {
      const bool extreme = trial % 50 == 0;  // all 255 × ±127 over a long k: the wrap-around path
      const size_t m = 1 + trial % e.mr, n = 1 + (trial * 7) % e.nr;
      const size_t k = extreme ? 130000 : 1 + (trial * 13) % 157;
      FRNN_SCOPE("m=%zu n=%zu k=%zu", m, n, k);
      std::vector<float> a(m * k), b(k * n), c(m * e.nr), bias(e.nr);
      // Extreme: a8 = 255 (or 1) and q = 127 everywhere: Σ a8·q passes 2^32 and wraps, the
      // true sum ±127·127·k still fits int32.
      const float sign = trial % 100 == 0 ? 1.0f : -1.0f;
      for (float& x : a) x = extreme ? sign : rng.uniform(-1.0f, 1.0f) * (trial % 5 == 0 ? 1e-20f : 3.0f);
      for (float& x : b) x = extreme ? 1.0f : rng.uniform(-2.0f, 2.0f);
      for (float& x : c) x = rng.uniform(-1.0f, 1.0f);
      for (float& x : bias) x = rng.uniform(-1.0f, 1.0f);
      const size_t lda = (k + 3) / 4 * 4;
      std::vector<uint8_t> aq(m * lda);
      std::vector<float> sa(m);
      frnn::quantize_rows_u8(m, k, a.data(), k, aq.data(), lda, sa.data());
      frnn::PackedInt8 p;
      p.pack(false, k, n, b.data(), n, e.nr);
      // What the epilogue adds: nothing, C itself (accumulate), or a bias row (stride 0).
      const int mode = trial % 3;
      const float* add = mode == 0 ? nullptr : mode == 1 ? c.data() : bias.data();
      const size_t ld_add = mode == 1 ? e.nr : 0;
      std::vector<float> want(c);
      std::vector<int8_t> col(p.k4 * 4);
      for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j) {
          for (size_t q = 0; q < p.k4 * 4; ++q) col[q] = p.panel(0)[(q / 4) * e.nr * 4 + j * 4 + q % 4];
          const int32_t acc = frnn::dot_u8s8_reference(aq.data() + i * lda, col.data(), p.k4, p.comp[j]);
          want[i * e.nr + j] =
              frnn::dequantize_reference(acc, sa[i], p.scale[j], add ? add[i * ld_add + j] : 0.0f, add != nullptr);
        }
      e.fn(m, n, p.k4, aq.data(), lda, sa.data(), p.panel(0), p.comp.data(), p.scale.data(), c.data(), e.nr, add,
           ld_add);
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
// splitting the columns (as threads do) or the rows changes no bit, and the product is close
// to the float one.
FRNN_TEST(int8_gemm_packed_is_split_invariant) {
  Rng rng(4);
  const size_t nr = frnn::int8_gemm_config().nr;
  for (size_t m : {1, 5, 70, 130})
    for (size_t k : {1, 2, 63, 257}) {
      const size_t n = 3 * frnn::kSplitAlign + 5;
      FRNN_SCOPE("m=%zu k=%zu n=%zu (%s)", m, k, n, frnn::int8_gemm_config().name);
      const std::vector<float> a = rng.vec(m * k, -1, 1), w = rng.vec(n * k, -1, 1);
      std::vector<float> wt(k * n);
      for (size_t r = 0; r < n; ++r)
        for (size_t p = 0; p < k; ++p) wt[p * n + r] = w[r * k + p];
      frnn::PackedInt8 pt, pn;
      pt.pack(true, k, n, w.data(), k, nr);
      pn.pack(false, k, n, wt.data(), n, nr);
      CHECK_MSG(pt.data == pn.data && pt.comp == pn.comp && pt.scale == pn.scale, "transposed packing differs");
      frnn::PackedMatrix pm;
      pm.plan_int8(true, k, n, w.data(), k);
      pm.fill(0, pm.panels() / 2);
      pm.fill(pm.panels() / 2, pm.panels());
      std::vector<float> whole(m * n), split(m * n), rows(m * n);
      frnn::gemm_int8_packed(m, k, a.data(), k, pt, whole.data(), n, false);
      frnn::gemm_packed(false, m, k, a.data(), k, pm, split.data(), n, false, 0, frnn::kSplitAlign);
      frnn::gemm_packed(false, m, k, a.data(), k, pm, split.data(), n, false, frnn::kSplitAlign, n);
      const size_t half = m / 2;
      frnn::gemm_int8_packed(half, k, a.data(), k, pt, rows.data(), n, false);
      frnn::gemm_int8_packed(m - half, k, a.data() + half * k, k, pt, rows.data() + half * n, n, false);
      CHECK_MSG(frnn_test::same_bits(whole, split) && frnn_test::same_bits(whole, rows), "a split changed bits");
      frnn_test::check_packed_epilogue(m, n, k, a, pm, whole, rng);
      // Close to the float product: each term's error is below half a step of each factor.
      double worst = 0;
      for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j) {
          double ref = 0;
          for (size_t p = 0; p < k; ++p) ref += (double)a[i * k + p] * w[j * k + p];
          worst = std::fmax(worst, std::fabs(ref - whole[i * n + j]));
        }
      CHECK_MSG(worst <= 0.01 * (double)k, "max |int8 - float| = %g", worst);
      frnn_test::count_case();
    }
}

// int8 against fp32 (every cell and form, both directions, lengths, projection): inference
// within 3e-2 for outputs of magnitude <= 1, the same bits for 1 and 2 threads; a training
// forward and backward are refused.
FRNN_TEST(int8_forward_is_close_to_fp32_and_deterministic) {
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
      std::vector<float> y32(ny), h32(nh), y8(ny), h8(nh), y8b(ny), h8b(nh);
      const int32_t* lp = k.lengths ? len.data() : nullptr;
      if (!CHECK_OK(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, y32.data(), h32.data(),
                                  nullptr, nullptr)))
        return;
      c.precision = frnn::Precision::kInt8;
      frnn::set_num_threads(1);
      CHECK_OK(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, y8.data(), h8.data(), nullptr,
                             nullptr));
      frnn::set_num_threads(2);
      CHECK_OK(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, y8b.data(), h8b.data(), nullptr,
                             nullptr));
      frnn::set_num_threads(1);
      CHECK_ALL_CLOSE(y8.data(), std::vector<double>(y32.begin(), y32.end()).data(), ny, 3e-2);
      CHECK_ALL_CLOSE(h8.data(), std::vector<double>(h32.begin(), h32.end()).data(), nh, 3e-2);
      CHECK_MSG(frnn_test::same_bits(y8, y8b) && frnn_test::same_bits(h8, h8b), "1 and 2 threads differ");
      CHECK_MSG(!frnn_test::same_bits(y8, y32), "int8 gave the fp32 bits: not the int8 path");
      // Weights packed once (the streaming cache) give the bits of the per-call packing.
      const auto packed = frnn::pack_weights(c, params.data());
      std::vector<float> yp(ny), hp(nh);
      CHECK_OK(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, yp.data(), hp.data(), nullptr,
                             nullptr, packed.get()));
      CHECK_MSG(frnn_test::same_bits(y8, yp) && frnn_test::same_bits(h8, hp), "packed weights differ");
      // Training is refused, and writes nothing.
      std::vector<float> saved(frnn::saved_size(c, dims)), yt(ny, 7.0f), ht(nh);
      CHECK_ERROR(frnn::forward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, yt.data(), ht.data(), nullptr,
                                saved.data()),
                  "int8 is inference only");
      CHECK(yt[0] == 7.0f);
      std::vector<float> dx((size_t)T * B * I), dp(params.size());
      CHECK_ERROR(frnn::backward(c, params.data(), dims, x.data(), lp, nullptr, nullptr, saved.data(), nullptr,
                                 nullptr, nullptr, dx.data(), nullptr, nullptr, dp.data()),
                  "int8 is inference only");
      frnn_test::count_case();
    }
  frnn::RnnConfig c = frnn_test::make_config(frnn::CellType::kLstm, 200000, 4);
  c.precision = frnn::Precision::kInt8;
  CHECK_ERROR(frnn::validate_config(c), "at most 131072 for int8");
}

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("int8_test", argc, argv); }
