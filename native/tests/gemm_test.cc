// frnn::gemm, the micro-kernels of gemm/ukernels.inc and dot_ukernels.inc, gemm_packed,
// add_row_vector and accumulate_column_sums against the plain-loop references (every kernel
// has a scalar reference test: ARCHITECTURE.md).
//
//   - gemm: every (trans_a, trans_b), m/n/k in {1, 2, 3, 7, 16, 17, 33}, prime leading
//     dimensions larger than needed, accumulate on and off; larger shapes that cross the
//     KC and MC blocks of the active ISA; k = 0, m = 0, n = 0.
//   - every ukernels.inc entry the CPU supports (the others are skipped and logged):
//     every m <= MR and n <= NR, k from 1 past 64, prime lda/ldc, accumulate on and off;
//     the same for the ppmm kernel of each row (A pre-packed as one micro-panel); each
//     row's strip packer writes the strip layout of gemm.h.
//   - gemm_packed over column ranges [n0, n1) (n0 a multiple of NR) gives the same bits as
//     one call and touches nothing outside its range; with two outputs sharing A, each gets
//     the bits of its own call; splitting rows or columns of gemm
//     across calls gives the same bits (gemm.h: "results do not depend on threads").
//
// Guards: the padding of A and B is NaN (a read outside op(A)/op(B) poisons C); C's padding
// holds a sentinel that must survive bit for bit (no write outside m×n); with accumulate
// false C starts as NaN (C must not be read).
//
// Tolerance: |got - ref| <= max(k, 1) · max(1e-5, 1e-6·|ref|), where |ref| is |C_in| + Σ|a·b|
// (the scale of float rounding, which the value itself understates under cancellation).
// A float sum of k terms errs by at most ~k·2^-24·Σ|a·b|, 16x inside this bound.
//
// The driver loops run on the ISA chosen at start-up only; FUSED_RNN_ISA=scalar|avx2 runs
// this file again on another (each micro-kernel is tested directly whatever the choice).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu/isa.h"
#include "fused_rnn.h"
#include "gemm/gemm.h"
#include "gemm/ukernel_list.h"
#include "ref/gemm_ref.h"
#include "test_util.h"

namespace {

using frnn_test::Rng;

const size_t kDims[] = {1, 2, 3, 7, 16, 17, 33};
const float kSentinel = -7777.25f;

size_t next_prime_above(size_t n) {  // smallest prime > n
  for (size_t p = n + 1;; ++p) {
    bool prime = p >= 2;
    for (size_t d = 2; d * d <= p && prime; ++d) prime = p % d != 0;
    if (prime) return p;
  }
}

// A rows×cols matrix with a prime leading dimension > cols; padding set to `pad`.
struct Mat {
  size_t rows, cols, ld;
  std::vector<float> v;
  Mat(size_t r, size_t c, float pad) : rows(r), cols(c), ld(next_prime_above(c)), v(r * ld + 1, pad) {}
  float& at(size_t i, size_t j) { return v[i * ld + j]; }
  void fill(Rng& rng, float lo, float hi) {
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < cols; ++j) at(i, j) = rng.uniform(lo, hi);
  }
  // True when every padding float still has the bits of `pad`.
  bool padding_is(float pad) const {
    for (size_t i = 0; i < v.size(); ++i) {
      const size_t r = i / ld, c = i % ld;
      if (r < rows && c < cols) continue;
      if (std::memcmp(&v[i], &pad, sizeof pad) != 0) return false;
    }
    return true;
  }
};

double gemm_tol(size_t k, double mag) { return (double)(k ? k : 1) * std::fmax(1e-5, 1e-6 * mag); }

// One gemm call against the reference; returns false on mismatch.
bool check_one(Rng& rng, bool ta, bool tb, size_t m, size_t n, size_t k, bool acc) {
  FRNN_SCOPE("gemm trans_a=%d trans_b=%d m=%zu n=%zu k=%zu accumulate=%d", ta, tb, m, n, k, acc);
  const float nan = frnn_test::qnan();
  Mat A(ta ? k : m, ta ? m : k, nan), B(tb ? n : k, tb ? k : n, nan), C(m, n, kSentinel);
  A.fill(rng, -1.0f, 1.0f);
  B.fill(rng, -1.0f, 1.0f);
  if (acc) {
    C.fill(rng, -1.0f, 1.0f);
  } else {
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) C.at(i, j) = nan;
  }
  const std::vector<float> c_in = C.v;
  std::vector<double> ref(m * C.ld), mag(m * C.ld);
  frnn_ref::gemm_ref(ta, tb, m, n, k, A.v.data(), A.ld, B.v.data(), B.ld, c_in.data(), ref.data(), C.ld, acc,
                     mag.data());
  frnn::gemm(ta, tb, m, n, k, A.v.data(), A.ld, B.v.data(), B.ld, C.v.data(), C.ld, acc);

  size_t bad = 0, bi = 0, bj = 0;
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      const double err = std::fabs((double)C.at(i, j) - ref[i * C.ld + j]), tol = gemm_tol(k, mag[i * C.ld + j]);
      if (err <= tol) {
        frnn_test::state().margin = std::fmax(frnn_test::state().margin, err / tol);
      } else if (bad++ == 0) {
        bi = i;
        bj = j;
      }
    }
  bool ok = CHECK_MSG(bad == 0, "%zu of %zu elements off; first C[%zu,%zu] got %.9g want %.9g tol %.3g", bad,
                      m * n, bi, bj, (double)C.at(bi, bj), ref[bi * C.ld + bj], gemm_tol(k, mag[bi * C.ld + bj]));
  ok &= CHECK_MSG(C.padding_is(kSentinel), "gemm wrote outside the m×n block of C");
  ok &= CHECK_MSG(A.padding_is(nan) && B.padding_is(nan), "gemm wrote into A or B");
  return ok;
}

FRNN_TEST(gemm_matches_ref_all_shapes) {
  Rng rng(1);
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (size_t m : kDims)
        for (size_t n : kDims)
          for (size_t k : kDims)
            for (int acc = 0; acc < 2; ++acc) {
              frnn_test::count_case();
              check_one(rng, ta, tb, m, n, k, acc);
            }
}

// Larger and rectangular shapes the drivers use (T·B rows against GH columns).
FRNN_TEST(gemm_matches_ref_driver_shapes) {
  Rng rng(2);
  const size_t shapes[][3] = {{64, 96, 24}, {96, 24, 64}, {130, 5, 40}, {5, 130, 40}, {48, 48, 129}};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const auto& s : shapes)
        for (int acc = 0; acc < 2; ++acc) {
          frnn_test::count_case();
          check_one(rng, ta, tb, s[0], s[1], s[2], acc);
        }
}

// k = 0: C = 0 (accumulate off, C not read) or C unchanged (on). m = 0 or n = 0: no access.
FRNN_TEST(gemm_empty_dims) {
  Rng rng(3);
  const float nan = frnn_test::qnan();
  std::vector<float> dummy(4, nan);  // A and B must not be read at all
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (size_t m : kDims)
        for (size_t n : kDims)
          for (int acc = 0; acc < 2; ++acc) {
            FRNN_SCOPE("gemm k=0 trans_a=%d trans_b=%d m=%zu n=%zu accumulate=%d", ta, tb, m, n, acc);
            frnn_test::count_case();
            Mat C(m, n, kSentinel);
            if (acc)
              C.fill(rng, -1.0f, 1.0f);
            else
              for (size_t i = 0; i < m; ++i)
                for (size_t j = 0; j < n; ++j) C.at(i, j) = nan;
            const std::vector<float> before = C.v;
            frnn::gemm(ta, tb, m, n, 0, dummy.data(), 1, dummy.data(), 1, C.v.data(), C.ld, acc);
            bool ok = true;
            for (size_t i = 0; i < m; ++i)
              for (size_t j = 0; j < n; ++j)
                ok &= acc ? std::memcmp(&C.at(i, j), &before[i * C.ld + j], sizeof(float)) == 0 : C.at(i, j) == 0.0f;
            CHECK_MSG(ok, acc ? "k=0 with accumulate changed C" : "k=0 without accumulate did not zero C");
            CHECK_MSG(C.padding_is(kSentinel), "gemm wrote outside the m×n block of C");
          }
  // m = 0 / n = 0 with k > 0: nothing is touched.
  std::vector<float> c(8, kSentinel);
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int acc = 0; acc < 2; ++acc) {
        frnn::gemm(ta, tb, 0, 3, 2, dummy.data(), 2, dummy.data(), 3, c.data(), 3, acc);
        frnn::gemm(ta, tb, 3, 0, 2, dummy.data(), 2, dummy.data(), 2, c.data(), 1, acc);
      }
  bool untouched = true;
  for (float v : c) untouched &= v == kSentinel;
  CHECK_MSG(untouched, "gemm with m = 0 or n = 0 wrote into C");
}

// gemm.h: "each C element sums over k in increasing order, whatever the loop order, so
// results do not depend on how the work is split": splitting rows or columns of C across
// calls (as a threaded driver would) must give the same bits, and so must a repeat call.
FRNN_TEST(gemm_split_invariance) {
  Rng rng(4);
  const size_t shapes[][3] = {{17, 33, 16}, {33, 7, 33}, {16, 17, 7}, {7, 16, 17}};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const auto& s : shapes)
        for (int acc = 0; acc < 2; ++acc) {
          const size_t m = s[0], n = s[1], k = s[2];
          FRNN_SCOPE("split trans_a=%d trans_b=%d m=%zu n=%zu k=%zu accumulate=%d", ta, tb, m, n, k, acc);
          frnn_test::count_case();
          Mat A(ta ? k : m, ta ? m : k, 0.0f), B(tb ? n : k, tb ? k : n, 0.0f), C0(m, n, 0.0f);
          A.fill(rng, -1.0f, 1.0f);
          B.fill(rng, -1.0f, 1.0f);
          C0.fill(rng, -1.0f, 1.0f);
          Mat whole = C0, again = C0, rows = C0, cols = C0;
          frnn::gemm(ta, tb, m, n, k, A.v.data(), A.ld, B.v.data(), B.ld, whole.v.data(), whole.ld, acc);
          frnn::gemm(ta, tb, m, n, k, A.v.data(), A.ld, B.v.data(), B.ld, again.v.data(), again.ld, acc);
          const size_t m1 = m / 3 + 1, n1 = n / 2 + 1;
          const float* a2 = ta ? A.v.data() + m1 : A.v.data() + m1 * A.ld;
          frnn::gemm(ta, tb, m1, n, k, A.v.data(), A.ld, B.v.data(), B.ld, rows.v.data(), rows.ld, acc);
          frnn::gemm(ta, tb, m - m1, n, k, a2, A.ld, B.v.data(), B.ld, rows.v.data() + m1 * rows.ld, rows.ld, acc);
          const float* b2 = tb ? B.v.data() + n1 * B.ld : B.v.data() + n1;
          frnn::gemm(ta, tb, m, n1, k, A.v.data(), A.ld, B.v.data(), B.ld, cols.v.data(), cols.ld, acc);
          frnn::gemm(ta, tb, m, n - n1, k, A.v.data(), A.ld, b2, B.ld, cols.v.data() + n1, cols.ld, acc);
          const size_t bytes = whole.v.size() * sizeof(float);
          CHECK_MSG(std::memcmp(whole.v.data(), again.v.data(), bytes) == 0, "repeat call differs");
          CHECK_MSG(std::memcmp(whole.v.data(), rows.v.data(), bytes) == 0, "row split at %zu differs", m1);
          CHECK_MSG(std::memcmp(whole.v.data(), cols.v.data(), bytes) == 0, "column split at %zu differs", n1);
        }
}

// Shapes past the KC (k block) and MC (row block) of the active ISA, so the block loops
// and the accumulate-into-C of later k blocks run.
FRNN_TEST(gemm_matches_ref_across_blocks) {
  Rng rng(7);
  const frnn::GemmConfig& g = frnn::gemm_config();
  frnn_test::detail(frnn_test::fmt("active ISA %s: %s, MR=%zu NR=%zu KC=%zu (packed A %zu) MC=%zu", frnn::isa_name(),
                                   g.name, g.mr, g.nr, g.kc, g.kc_packed, g.mc));
  const size_t shapes[][3] = {{g.mc + 3, g.nr + 5, g.kc + 7},
                              {5, 3 * g.nr + 1, 2 * g.kc + 1},
                              {g.mc + 3, g.nr + 5, 2 * g.kc_packed + 7},
                              {g.mc * 2 + 1, 2, 9}};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const auto& s : shapes)
        for (int acc = 0; acc < 2; ++acc) {
          frnn_test::count_case();
          check_one(rng, ta, tb, s[0], s[1], s[2], acc);
        }
}


// Every m ≤ MR, n ≤ NR, a few k and both accumulate modes of one micro-kernel against the float64
// reference: C[m×n] (+)= A[m×k] · W, W one packed panel (k rows of NR floats, zero past n).
// `run(A, w, C)` calls the kernel (packing A first if it reads a packed A).
template <class Run>
void check_micro_kernel(Rng& rng, const char* name, size_t mr, size_t nr, Run run) {
  const float nan = frnn_test::qnan();
  for (size_t m = 1; m <= mr; ++m)
    for (size_t n = 1; n <= nr; ++n)
      for (size_t k : {1, 2, 3, 7, 16, 17, 65})
        for (int acc = 0; acc < 2; ++acc) {
          FRNN_SCOPE("%s m=%zu n=%zu k=%zu accumulate=%d", name, m, n, k, acc);
          frnn_test::count_case();
          Mat A(m, k, nan), C(m, n, kSentinel);
          A.fill(rng, -1.0f, 1.0f);
          std::vector<float> w(k * nr, 0.0f);
          for (size_t p = 0; p < k; ++p)
            for (size_t j = 0; j < n; ++j) w[p * nr + j] = rng.uniform(-1.0f, 1.0f);
          if (acc)
            C.fill(rng, -1.0f, 1.0f);
          else
            for (size_t i = 0; i < m; ++i)
              for (size_t j = 0; j < n; ++j) C.at(i, j) = nan;
          const std::vector<float> c_in = C.v;
          std::vector<double> ref(m * C.ld), mag(m * C.ld);
          frnn_ref::gemm_ref(false, false, m, n, k, A.v.data(), A.ld, w.data(), nr, c_in.data(), ref.data(), C.ld, acc,
                             mag.data());
          run(A, w, C, m, n, k, acc != 0);
          size_t bad = 0, bi = 0, bj = 0;
          for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j)
              if (!frnn_test::near(C.at(i, j), ref[i * C.ld + j], gemm_tol(k, mag[i * C.ld + j])) && bad++ == 0)
                bi = i, bj = j;
          CHECK_MSG(bad == 0, "%zu of %zu elements off; first C[%zu,%zu] got %.9g want %.9g", bad, m * n, bi, bj,
                    (double)C.at(bi, bj), ref[bi * C.ld + bj]);
          CHECK_MSG(C.padding_is(kSentinel), "micro-kernel wrote outside the m×n block of C");
        }
}

template <class Entry>
bool runnable(const Entry& u) {
  if (frnn::cpu_supports(u.isa)) return true;
  frnn_test::note(frnn_test::fmt("skipped %s: this CPU lacks %s", u.name, frnn::isa_to_string(u.isa)));
  return false;
}

// Every entry of ukernels.inc the CPU can run (A read in place).
FRNN_TEST(ukernels_match_ref) {
  Rng rng(8);
  for (const frnn::UkernelEntry& u : frnn::kUkernels) {
    if (!runnable(u)) continue;
    check_micro_kernel(rng, u.name, u.mr, u.nr, [&](Mat& A, const std::vector<float>& w, Mat& C, size_t m, size_t n, size_t k, bool acc) {
      u.fn(m, n, k, A.v.data(), A.ld, w.data(), C.v.data(), C.ld, acc);
    });
  }
}

// The same products with A pre-packed as one micro-panel (k rows of MR floats, rows past m
// holding NaN that must not be read), for every ukernels.inc row with a ppmm kernel the CPU
// can run: the ppmm kernel on the tile of the GEMM kernel it is paired with.
FRNN_TEST(ppmm_ukernels_match_ref) {
  Rng rng(9);
  for (const frnn::UkernelEntry& u : frnn::kUkernels) {
    if (!u.ppmm || !runnable(u)) continue;
    check_micro_kernel(rng, u.ppmm_name, u.mr, u.nr, [&](Mat& A, const std::vector<float>& w, Mat& C, size_t m, size_t n, size_t k, bool acc) {
      std::vector<float> a_panel(k * u.mr, frnn_test::qnan());
      for (size_t p = 0; p < k; ++p)
        for (size_t i = 0; i < m; ++i) a_panel[p * u.mr + i] = A.at(i, p);
      u.ppmm(m, n, k, a_panel.data(), w.data(), C.v.data(), C.ld, acc);
    });
  }
}

// Every ukernels.inc row with a strip packer the CPU can run: rows [p0, p0 + rows) and
// columns [c0, c1) of M land at strips[t*k*MR + p*MR + i] = M[p, t*MR + i] (gemm.h), bit for
// bit, and nothing else of the strips is written.
FRNN_TEST(strip_packers_match_layout) {
  Rng rng(11);
  for (const frnn::UkernelEntry& u : frnn::kUkernels) {
    if (!u.pack_strips || !runnable(u)) continue;
    const size_t mr = u.mr, k = 13;
    const size_t shapes[][4] = {{0, 13, 0, 3 * mr}, {2, 5, mr, 2 * mr + 3}, {12, 1, 0, 1}, {4, 6, 2 * mr, 3 * mr}};
    for (const auto& sh : shapes) {
      const size_t p0 = sh[0], rows = sh[1], c0 = sh[2], c1 = sh[3], m = 3 * mr;
      FRNN_SCOPE("%s p0=%zu rows=%zu c0=%zu c1=%zu", u.name, p0, rows, c0, c1);
      frnn_test::count_case();
      Mat src(rows, m, frnn_test::qnan());
      src.fill(rng, -1.0f, 1.0f);
      frnn::AlignedFloats strips(m * k);
      for (size_t i = 0; i < m * k; ++i) strips.data()[i] = kSentinel;
      u.pack_strips(strips.data(), k, p0, rows, src.v.data(), src.ld, c0, c1);
      size_t bad = 0;
      for (size_t t = 0; t < m / mr; ++t)
        for (size_t p = 0; p < k; ++p)
          for (size_t i = 0; i < mr; ++i) {
            const size_t col = t * mr + i;
            const bool in = p >= p0 && p < p0 + rows && col >= c0 && col < c1;
            const float want = in ? src.at(p - p0, col) : kSentinel;
            bad += std::memcmp(&strips.data()[t * k * mr + p * mr + i], &want, sizeof(float)) != 0;
          }
      CHECK_MSG(bad == 0, "%zu of %zu strip floats wrong", bad, m * k);
    }
  }
}

// C[m×n] (+)= A[m×k] · Wᵀ with W [n×k] in place, for every dot_ukernels.inc entry the CPU
// can run; each C element must not depend on which group of four columns it fell in.
FRNN_TEST(dot_ukernels_match_ref) {
  Rng rng(10);
  const float nan = frnn_test::qnan();
  for (const frnn::DotUkernelEntry& u : frnn::kDotUkernels) {
    if (!runnable(u)) continue;
    for (size_t m : {1, 2, 3})
      for (size_t n : {1, 3, 4, 5, 9, 33})
        for (size_t k : {1, 7, 8, 15, 16, 17, 33, 130})
          for (int acc = 0; acc < 2; ++acc) {
            FRNN_SCOPE("%s m=%zu n=%zu k=%zu accumulate=%d", u.name, m, n, k, acc);
            frnn_test::count_case();
            Mat A(m, k, nan), W(n, k, nan), C(m, n, kSentinel);
            A.fill(rng, -1.0f, 1.0f);
            W.fill(rng, -1.0f, 1.0f);
            if (acc)
              C.fill(rng, -1.0f, 1.0f);
            else
              for (size_t i = 0; i < m; ++i)
                for (size_t j = 0; j < n; ++j) C.at(i, j) = nan;
            const std::vector<float> c_in = C.v;
            std::vector<double> ref(m * C.ld), mag(m * C.ld);
            frnn_ref::gemm_ref(false, true, m, n, k, A.v.data(), A.ld, W.v.data(), W.ld, c_in.data(), ref.data(), C.ld,
                               acc, mag.data());
            u.fn(m, n, k, A.v.data(), A.ld, W.v.data(), W.ld, C.v.data(), C.ld, acc);
            size_t bad = 0;
            for (size_t i = 0; i < m; ++i)
              for (size_t j = 0; j < n; ++j) bad += !frnn_test::near(C.at(i, j), ref[i * C.ld + j], gemm_tol(k, mag[i * C.ld + j]));
            CHECK_MSG(bad == 0, "%zu of %zu elements off the reference", bad, m * n);
            CHECK_MSG(C.padding_is(kSentinel), "dot kernel wrote outside the m×n block of C");
            // Column by column: the same bits as the whole call.
            Mat one(m, n, kSentinel);
            one.v = c_in;
            for (size_t j = 0; j < n; ++j)
              u.fn(m, 1, k, A.v.data(), A.ld, W.v.data() + j * W.ld, W.ld, one.v.data() + j, one.ld, acc);
            CHECK_MSG(std::memcmp(one.v.data(), C.v.data(), C.v.size() * sizeof(float)) == 0,
                      "column by column differs from one call");
          }
  }
}

// gemm_packed over column ranges: same bits as one call, nothing written outside the range;
// a PackedMatrix re-packed to a smaller shape is still right.
FRNN_TEST(gemm_packed_column_ranges) {
  Rng rng(9);
  const size_t nr = frnn::gemm_config().nr;
  const float nan = frnn_test::qnan();
  frnn::PackedMatrix pk;
  const size_t shapes[][3] = {{9, 3 * nr + 5, 20}, {4, 2 * nr, 7}, {17, nr + 1, 33}, {3, nr - 1, 5}, {1, 1, 1}};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const auto& s : shapes)
        for (int acc = 0; acc < 2; ++acc) {
          const size_t m = s[0], n = s[1], k = s[2];
          FRNN_SCOPE("gemm_packed trans_a=%d trans_b=%d m=%zu n=%zu k=%zu accumulate=%d NR=%zu", ta, tb, m, n, k, acc, nr);
          frnn_test::count_case();
          Mat A(ta ? k : m, ta ? m : k, nan), B(tb ? n : k, tb ? k : n, nan), C0(m, n, kSentinel);
          A.fill(rng, -1.0f, 1.0f);
          B.fill(rng, -1.0f, 1.0f);
          C0.fill(rng, -1.0f, 1.0f);
          pk.pack(tb, k, n, B.v.data(), B.ld);
          Mat whole = C0;
          frnn::gemm_packed(ta, m, k, A.v.data(), A.ld, pk, whole.v.data(), whole.ld, acc);
          std::vector<double> ref(m * C0.ld), mag(m * C0.ld);
          frnn_ref::gemm_ref(ta, tb, m, n, k, A.v.data(), A.ld, B.v.data(), B.ld, C0.v.data(), ref.data(), C0.ld, acc,
                             mag.data());
          size_t bad = 0;
          for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j)
              bad += !frnn_test::near(whole.at(i, j), ref[i * C0.ld + j], gemm_tol(k, mag[i * C0.ld + j]));
          CHECK_MSG(bad == 0, "%zu of %zu elements differ from the reference", bad, m * n);
          // Panel by panel, each call must leave the other columns alone.
          Mat split = C0;
          for (size_t j0 = 0; j0 < n; j0 += nr) {
            Mat one = C0;
            frnn::gemm_packed(ta, m, k, A.v.data(), A.ld, pk, one.v.data(), one.ld, acc, j0, j0 + nr);
            bool outside_ok = true;
            for (size_t i = 0; i < m; ++i)
              for (size_t j = 0; j < n; ++j)
                if (j < j0 || j >= j0 + nr)
                  outside_ok &= std::memcmp(&one.at(i, j), &C0.at(i, j), sizeof(float)) == 0;
            CHECK_MSG(outside_ok && one.padding_is(kSentinel), "gemm_packed [%zu, %zu) wrote outside its columns", j0,
                      j0 + nr);
            frnn::gemm_packed(ta, m, k, A.v.data(), A.ld, pk, split.v.data(), split.ld, acc, j0, j0 + nr);
          }
          CHECK_MSG(std::memcmp(whole.v.data(), split.v.data(), whole.v.size() * sizeof(float)) == 0,
                    "gemm_packed panel by panel differs from one call");
        }
}

// Two outputs sharing A (dW and dR share dZᵀ): each gets the bits of its own call, across
// the k and row blocks (A is packed once for both) and with k = 0; the row sums of op(A)
// (bias gradients) get the bits of a plain loop.
FRNN_TEST(gemm_packed_shared_a) {
  Rng rng(11);
  const frnn::GemmConfig& g = frnn::gemm_config();
  const float nan = frnn_test::qnan();
  frnn::PackedMatrix pk1, pk2;
  const size_t shapes[][4] = {{9, g.nr + 5, 2, 20}, {g.mc + 3, 2 * g.nr, g.nr + 1, 2 * g.kc_packed + 7}, {3, 1, 5, 0}};
  for (int ta = 0; ta < 2; ++ta)
    for (const auto& s : shapes)
      for (int acc = 0; acc < 2; ++acc) {
        const size_t m = s[0], n1 = s[1], n2 = s[2], k = s[3];
        FRNN_SCOPE("gemm_packed shared A trans_a=%d m=%zu n=%zu,%zu k=%zu accumulate=%d", ta, m, n1, n2, k, acc);
        frnn_test::count_case();
        Mat A(ta ? k : m, ta ? m : k, nan), B1(k, n1, nan), B2(k, n2, nan), C1(m, n1, kSentinel), C2(m, n2, kSentinel);
        A.fill(rng, -1.0f, 1.0f);
        B1.fill(rng, -1.0f, 1.0f);
        B2.fill(rng, -1.0f, 1.0f);
        C1.fill(rng, -1.0f, 1.0f);
        C2.fill(rng, -1.0f, 1.0f);
        pk1.pack(false, k, n1, B1.v.data(), B1.ld);
        pk2.pack(false, k, n2, B2.v.data(), B2.ld);
        Mat one1 = C1, one2 = C2;
        frnn::gemm_packed(ta, m, k, A.v.data(), A.ld, pk1, one1.v.data(), one1.ld, acc);
        frnn::gemm_packed(ta, m, k, A.v.data(), A.ld, pk2, one2.v.data(), one2.ld, acc);
        // Row sums of op(A) ride along: the bits of a plain loop in increasing p.
        std::vector<float> sums = rng.vec(m, -1.0f, 1.0f), want = sums;
        for (size_t i = 0; i < m; ++i)
          for (size_t p = 0; p < k; ++p) want[i] += ta ? A.at(p, i) : A.at(i, p);
        const frnn::GemmOutput outs[2] = {{&pk1, C1.v.data(), C1.ld}, {&pk2, C2.v.data(), C2.ld}};
        frnn::gemm_packed(ta, m, k, A.v.data(), A.ld, outs, 2, acc, sums.data());
        CHECK_MSG(std::memcmp(one1.v.data(), C1.v.data(), C1.v.size() * sizeof(float)) == 0, "first output differs");
        CHECK_MSG(std::memcmp(one2.v.data(), C2.v.data(), C2.v.size() * sizeof(float)) == 0, "second output differs");
        CHECK_MSG(std::memcmp(want.data(), sums.data(), m * sizeof(float)) == 0, "row sums differ");
      }
}

FRNN_TEST(add_row_vector_matches_ref) {
  Rng rng(5);
  const float nan = frnn_test::qnan();
  for (size_t m : kDims)
    for (size_t n : kDims)
      for (int acc = 0; acc < 2; ++acc) {
        FRNN_SCOPE("add_row_vector m=%zu n=%zu accumulate=%d", m, n, acc);
        frnn_test::count_case();
        Mat C(m, n, kSentinel);
        if (acc)
          C.fill(rng, -1.0f, 1.0f);
        else
          for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j) C.at(i, j) = nan;
        std::vector<float> bias = rng.vec(n, -1.0f, 1.0f);
        bias.push_back(nan);  // one past the end: must not be read
        const std::vector<float> c_in = C.v;
        std::vector<double> ref(m * C.ld);
        frnn_ref::add_row_vector_ref(m, n, bias.data(), c_in.data(), ref.data(), C.ld, acc);
        frnn::add_row_vector(m, n, bias.data(), C.v.data(), C.ld, acc);
        size_t bad = 0;
        for (size_t i = 0; i < m; ++i)
          for (size_t j = 0; j < n; ++j)
            bad += !frnn_test::near(C.at(i, j), ref[i * C.ld + j], 1e-6 * std::fmax(1.0, std::fabs(ref[i * C.ld + j])));
        CHECK_MSG(bad == 0, "%zu of %zu elements differ from the reference", bad, m * n);
        CHECK_MSG(C.padding_is(kSentinel), "add_row_vector wrote outside the m×n block of C");
      }
}

FRNN_TEST(accumulate_column_sums_matches_ref) {
  Rng rng(6);
  const float nan = frnn_test::qnan();
  std::vector<size_t> ms(std::begin(kDims), std::end(kDims));
  ms.push_back(0);
  ms.push_back(130);
  for (size_t m : ms)
    for (size_t n : kDims) {
      FRNN_SCOPE("accumulate_column_sums m=%zu n=%zu", m, n);
      frnn_test::count_case();
      Mat A(m, n, nan);
      A.fill(rng, -1.0f, 1.0f);
      std::vector<float> sums = rng.vec(n, -1.0f, 1.0f);
      sums.push_back(kSentinel);
      const std::vector<float> sums_in = sums;
      std::vector<double> ref(n), mag(n);
      frnn_ref::accumulate_column_sums_ref(m, n, A.v.data(), A.ld, sums_in.data(), ref.data(), mag.data());
      frnn::accumulate_column_sums(m, n, A.v.data(), A.ld, sums.data());
      size_t bad = 0;
      for (size_t j = 0; j < n; ++j) bad += !frnn_test::near(sums[j], ref[j], gemm_tol(m, mag[j]));
      CHECK_MSG(bad == 0, "%zu of %zu sums differ from the reference", bad, n);
      CHECK_MSG(sums[n] == kSentinel, "accumulate_column_sums wrote past n");
    }
}

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("gemm_test", argc, argv); }
