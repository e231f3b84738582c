// Vector math kernels (vmath/vmath.inc) against a double-precision reference.
//
// Every registry entry the CPU can run is checked on ~4.5M points of [-100, 100]: a dense
// grid, uniform and log-uniform random points (down to the subnormals), 2048 consecutive
// floats around each branch / saturation boundary, and the special values. Errors are
// measured in ulps of the float nearest the reference (2^-149 on the subnormals; +inf
// counts as 2^128), in absolute and in relative terms, and asserted against the bounds
// stated on each op in simd/f32_<isa>.h. Then every tail length n = 0..2*kLanes+3 at odd
// offsets, on exact-size heap buffers (ASan flags any read or write past them) and on
// guarded buffers (canaries must survive), in place, and bitwise against the full-vector
// result. Last, every SIMD kernel against the others of its op (bitwise) and against the scalar
// one (within the sum of their ulp bounds). Throughput: bench_rnn's "vector math alone" line.
//
//   vmath_test -v          per-test lines
//   vmath_test accuracy    only the accuracy sweep
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cpu/isa.h"
#include "test_util.h"
#include "vmath/vmath.h"

using frnn::Isa;
using frnn_test::fmt;
using frnn_test::note;

namespace {

enum class Op { exp, sigmoid, tanh };

struct Entry {
  Isa isa;
  const char* name;
  frnn::VmathFn fn;
  Op op;
};

const Entry kEntries[] = {
#define FRNN_VMATH(isa, name, op) {Isa::isa, #name, frnn::name, Op::op},
#include "vmath/vmath.inc"
#undef FRNN_VMATH
};

int lanes(Isa isa) { return isa == Isa::kAvx512 ? 16 : isa == Isa::kAvx2 ? 8 : isa == Isa::kNeon ? 4 : 1; }

// Whether the CPU runs `isa`; otherwise *why names the missing feature.
bool available(Isa isa, std::string* why) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  const char* need[3] = {nullptr, nullptr, nullptr};
  if (isa == Isa::kAvx2) need[0] = "avx2", need[1] = "fma";
  if (isa == Isa::kAvx512) need[0] = "avx512f", need[1] = "avx2", need[2] = "fma";
  for (const char* f : need) {
    if (!f) continue;
    const bool has = std::strcmp(f, "avx2") == 0      ? __builtin_cpu_supports("avx2")
                     : std::strcmp(f, "fma") == 0     ? __builtin_cpu_supports("fma")
                                                      : __builtin_cpu_supports("avx512f");
    if (!has) {
      *why = fmt("CPU lacks %s", f);
      return false;
    }
  }
  return isa != Isa::kNeon;
#else
  if (!frnn::cpu_supports(isa)) *why = fmt("CPU lacks %s", frnn::isa_to_string(isa));
  return frnn::cpu_supports(isa);
#endif
}

// The entries to test, logging each skipped one once per test.
std::vector<const Entry*> runnable() {
  std::vector<const Entry*> out;
  for (const Entry& e : kEntries) {
    std::string why;
    if (available(e.isa, &why))
      out.push_back(&e);
    else
      note(fmt("skipped: %s (%s)", e.name, why.c_str()));
  }
  return out;
}

double ref(Op op, float xf) {
  const double x = xf;
  switch (op) {
    case Op::exp: return std::exp(x);
    case Op::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case Op::tanh: return std::tanh(x);
  }
  return 0.0;
}

// ---- Error measures ------------------------------------------------------------------------
const double kTwo128 = std::ldexp(1.0, 128);

// The spacing of floats around |r| (r exactly representable or not): 2^-149 below 2^-126.
double ulp_of(double r) {
  r = std::fabs(r);
  if (r < std::ldexp(1.0, -126)) return std::ldexp(1.0, -149);
  int e;
  std::frexp(std::min(r, kTwo128 / 2), &e);  // r in [2^(e-1), 2^e)
  return std::ldexp(1.0, e - 24);
}

// Past the float range both sides count as +-2^128, so exp(100) = inf is exact.
double clamp_range(double v) { return std::fmax(-kTwo128, std::fmin(kTwo128, v)); }

struct Worst {
  double err = 0.0;
  float x = 0.0f;
  float got = 0.0f;
  double want = 0.0;
  void update(double e, float xi, float g, double w) {
    if (e > err) err = e, x = xi, got = g, want = w;
  }
  std::string at() const { return fmt("x=%.9g got %.9g want %.12g", (double)x, (double)got, want); }
};

struct Stats {
  Worst ulp, abs, rel;  // rel only where the reference is a normal float
  long nan_mismatch = 0;
  float nan_x = 0.0f;
};

// Accumulates the errors of got[i] against want[i] for the x[i] that pass `in`.
template <class In>
Stats measure(const std::vector<float>& x, const std::vector<float>& got, const std::vector<double>& want, In in) {
  Stats s;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!in(x[i])) continue;
    const double w = want[i];
    const float g = got[i];
    if (std::isnan(w) || std::isnan(g)) {
      if (std::isnan(w) != std::isnan(g)) ++s.nan_mismatch, s.nan_x = x[i];
      continue;
    }
    const double gw = clamp_range(g), ww = clamp_range(w);
    const double d = std::fabs(gw - ww);
    s.ulp.update(d / ulp_of(ww), x[i], g, w);
    s.abs.update(d, x[i], g, w);
    if (std::fabs(ww) >= std::ldexp(1.0, -126) && std::fabs(ww) < kTwo128) s.rel.update(d / std::fabs(ww), x[i], g, w);
  }
  return s;
}

// ---- Inputs ------------------------------------------------------------------------------
float next_up(float v, int k) {
  for (int i = 0; i < k; ++i) v = std::nextafter(v, std::numeric_limits<float>::infinity());
  for (int i = 0; i > k; --i) v = std::nextafter(v, -std::numeric_limits<float>::infinity());
  return v;
}

std::vector<float> sweep_points() {
  std::vector<float> x;
  // Dense grid over [-100, 100].
  const int kGrid = 1 << 21;
  for (int i = 0; i <= kGrid; ++i) x.push_back((float)(-100.0 + 200.0 * i / kGrid));
  // Uniform random, and log-uniform random (random bit patterns with |x| <= 100).
  frnn_test::Rng rng(20240611);
  for (int i = 0; i < (1 << 20); ++i) x.push_back(rng.uniform(-100.0f, 100.0f));
  for (int i = 0; i < (1 << 20);) {
    const uint32_t bits = (uint32_t)rng.next();
    float v;
    std::memcpy(&v, &bits, 4);
    if (std::fabs(v) <= 100.0f) x.push_back(v), ++i;
  }
  // 2048 consecutive floats around each boundary, both signs: the tanh branch switch and
  // saturation, sigmoid's exact-1 point, exp's subnormal / zero / overflow thresholds and
  // the input clamps, and the reduction's half-ln2 switch points.
  const float kBounds[] = {0.3465736f, 0.625f, 1.0397208f, 9.0109f, 9.1f, 16.6355f, 17.33f, 87.33655f, 88.72284f,
                           89.0f,      103.97208f, 104.0f, 1e-3f, 1e-30f, 1e-38f};
  for (float b : kBounds)
    for (float s : {1.0f, -1.0f})
      for (int k = -1024; k < 1024; ++k) x.push_back(next_up(s * b, k));
  // Special values.
  const float inf = std::numeric_limits<float>::infinity();
  const float kSpecial[] = {0.0f, -0.0f, inf, -inf, frnn_test::qnan(), -frnn_test::qnan(),
                            std::numeric_limits<float>::min(), -std::numeric_limits<float>::min(),
                            std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                            1e-30f, -1e-30f, 1e30f, -1e30f, 1e-8f, -1e-8f, 1.0f, -1.0f, 0.5f, -0.5f};
  for (float v : kSpecial) x.push_back(v);
  return x;
}

std::vector<float>& points() {
  static std::vector<float> x = sweep_points();
  return x;
}

const std::vector<double>& reference(Op op) {
  static std::vector<double> cache[3];
  std::vector<double>& r = cache[(int)op];
  if (r.empty())
    for (float v : points()) r.push_back(ref(op, v));
  return r;
}

// Runs e over all points with one call on an exact-size heap buffer.
std::vector<float> run(const Entry& e, const std::vector<float>& x) {
  std::unique_ptr<float[]> in(new float[x.size()]), out(new float[x.size()]);
  std::memcpy(in.get(), x.data(), x.size() * sizeof(float));
  e.fn(x.size(), in.get(), out.get());
  return std::vector<float>(out.get(), out.get() + x.size());
}

bool bits_equal(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// ---- Bounds ----------------------------------------------------------------------------------
// The accuracy comments in simd/f32_*.h, measured over every float with 2^-30 <= |x| <= 104,
// plus a small margin (the scalar entries use glibc, whose tanhf reaches 2.1 ulp / 1.0e-7 abs).
struct Bounds {
  double ulp;  // everywhere, subnormal results included
  double rel;  // where the reference is a normal float, within [rel_lo, rel_hi]
  float rel_lo, rel_hi;
  double abs;  // everywhere (0 = not checked)
};

Bounds bounds(Op op) {
  switch (op) {
    case Op::exp: return {1.0, 1.0e-7, -100.0f, 100.0f, 0.0};        // 0.91 ulp, 7.7e-8 rel
    case Op::sigmoid: return {2.5, 2.0e-7, -87.0f, 100.0f, 1.0e-7};  // 2.4 ulp, 1.8e-7 rel, 8.9e-8 abs
    case Op::tanh: return {2.5, 2.0e-7, -100.0f, 100.0f, 1.2e-7};    // 1.4 ulp, 1.5e-7 rel, 8.2e-8 abs
  }
  return {};
}

// SIMD kernel against the scalar (glibc) one, in ulps of the scalar result: at most the sum of
// the two kernels' own bounds above (each is that close to the reference), exp / sigmoid / tanh.
const double kCrossUlp[3] = {2.0, 5.0, 5.0};

}  // namespace

// ---- Accuracy sweep --------------------------------------------------------------------------
FRNN_TEST(accuracy) {
  const std::vector<float>& x = points();
  std::printf("vmath accuracy over %zu points of [-100, 100] plus specials (x at the worst error):\n", x.size());
  for (const Entry* e : runnable()) {
    FRNN_SCOPE("%s", e->name);
    frnn_test::count_case();
    const std::vector<double>& want = reference(e->op);
    const std::vector<float> got = run(*e, x);
    const Bounds b = bounds(e->op);
    const Stats all = measure(x, got, want, [](float) { return true; });
    const Stats rel = measure(x, got, want, [&](float v) { return v >= b.rel_lo && v <= b.rel_hi; });
    std::printf("  %-26s max %.2f ulp (%s)\n  %-26s max abs %.3g (%s)\n  %-26s max rel %.3g on [%g, %g] (%s)\n",
                e->name, all.ulp.err, all.ulp.at().c_str(), "", all.abs.err, all.abs.at().c_str(), "", rel.rel.err,
                (double)b.rel_lo, (double)b.rel_hi, rel.rel.at().c_str());
    CHECK_MSG(all.nan_mismatch == 0, "%ld NaN mismatches, e.g. x=%.9g", all.nan_mismatch, (double)all.nan_x);
    CHECK_MSG(all.ulp.err <= b.ulp, "max %.3f ulp > %.1f at %s", all.ulp.err, b.ulp, all.ulp.at().c_str());
    CHECK_MSG(rel.rel.err <= b.rel, "max rel %.3g > %.3g at %s", rel.rel.err, b.rel, rel.rel.at().c_str());
    if (b.abs > 0)
      CHECK_MSG(all.abs.err <= b.abs, "max abs %.3g > %.3g at %s", all.abs.err, b.abs, all.abs.at().c_str());
    if (e->op == Op::sigmoid) {
      const Stats mid = measure(x, got, want, [](float v) { return v >= -30.0f && v <= 30.0f; });
      std::printf("  %-26s max rel %.3g on [-30, 30] (%s)\n", "", mid.rel.err, mid.rel.at().c_str());
      CHECK_MSG(mid.rel.err <= 2.0e-7, "max rel on [-30, 30] %.3g at %s", mid.rel.err, mid.rel.at().c_str());
    }
    if (e->op == Op::tanh) {
      const Stats small = measure(x, got, want, [](float v) { return std::fabs(v) < 0.625f; });
      std::printf("  %-26s max rel %.3g on |x| < 0.625 (%s)\n", "", small.rel.err, small.rel.at().c_str());
    }
  }
}

// Saturation, signs and special values, exactly.
FRNN_TEST(special_values) {
  const float inf = std::numeric_limits<float>::infinity(), nan = frnn_test::qnan();
  const float tiny = std::numeric_limits<float>::denorm_min();
  for (const Entry* e : runnable()) {
    FRNN_SCOPE("%s", e->name);
    frnn_test::count_case();
    auto f = [&](float v) {
      float y;
      e->fn(1, &v, &y);
      return y;
    };
    CHECK(std::isnan(f(nan)));
    CHECK(std::isnan(f(-nan)));
    switch (e->op) {
      case Op::exp:
        CHECK_EQ(f(0.0f), 1.0f);
        CHECK_EQ(f(-0.0f), 1.0f);
        CHECK_EQ(f(tiny), 1.0f);
        CHECK_EQ(f(-inf), 0.0f);
        CHECK_EQ(f(-104.0f), 0.0f);
        CHECK_EQ(f(-1e30f), 0.0f);
        CHECK_EQ(f(inf), inf);
        CHECK_EQ(f(88.73f), inf);
        CHECK_EQ(f(1e30f), inf);
        CHECK(f(88.72f) < inf);
        CHECK(f(-103.9f) > 0.0f);  // the smallest subnormal, not 0
        CHECK_EQ(f(1.0f), 2.71828183f);
        break;
      case Op::sigmoid:
        CHECK_EQ(f(0.0f), 0.5f);
        CHECK_EQ(f(-0.0f), 0.5f);
        CHECK_EQ(f(inf), 1.0f);
        CHECK_EQ(f(-inf), 0.0f);
        for (float v : {16.64f, 17.4f, 20.0f, 88.8f, 100.0f, 1e30f}) CHECK_EQ(f(v), 1.0f);
        for (float v : {-104.0f, -200.0f, -1e30f}) CHECK_EQ(f(v), 0.0f);
        CHECK(f(-100.0f) > 0.0f);  // subnormal e^-100, not flushed
        break;
      case Op::tanh:
        CHECK(f(0.0f) == 0.0f && !std::signbit(f(0.0f)));
        CHECK(f(-0.0f) == 0.0f && std::signbit(f(-0.0f)));
        CHECK_EQ(f(tiny), tiny);
        CHECK_EQ(f(-tiny), -tiny);
        CHECK_EQ(f(1e-30f), 1e-30f);
        CHECK_EQ(f(inf), 1.0f);
        CHECK_EQ(f(-inf), -1.0f);
        for (float v : {9.012f, 9.1f, 9.5f, 20.0f, 100.0f, 1e30f, std::numeric_limits<float>::max()}) {
          CHECK_EQ(f(v), 1.0f);
          CHECK_EQ(f(-v), -1.0f);
        }
        break;
    }
  }
}

// tanh is odd bitwise; sigmoid(-x) = 1 - sigmoid(x) within the accuracy.
FRNN_TEST(symmetry) {
  frnn_test::Rng rng(7);
  std::vector<float> x = rng.vec(4096, 0.0f, 30.0f), nx(x.size()), y(x.size()), ny(x.size());
  for (size_t i = 0; i < x.size(); ++i) nx[i] = -x[i];
  for (const Entry* e : runnable()) {
    if (e->op == Op::exp) continue;
    FRNN_SCOPE("%s", e->name);
    frnn_test::count_case();
    e->fn(x.size(), x.data(), y.data());
    e->fn(x.size(), nx.data(), ny.data());
    long bad = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      if (e->op == Op::tanh) bad += !bits_equal(ny[i], -y[i]);
      if (e->op == Op::sigmoid) bad += !(std::fabs((double)ny[i] + y[i] - 1.0) <= 2.5e-7);
    }
    CHECK_EQ(bad, 0L);
  }
}

// Every tail length at odd offsets: exact-size heap buffers (ASan), guarded buffers
// (canaries), in place, and bitwise against the same values inside a full vector.
FRNN_TEST(tails) {
  frnn_test::Rng rng(99);
  const float kCanary = -12345.678f;
  for (const Entry* e : runnable()) {
    const int L = lanes(e->isa);
    FRNN_SCOPE("%s (kLanes %d)", e->name, L);
    for (size_t off : {0, 1, 3}) {
      for (size_t n = 0; n <= (size_t)(2 * L + 3); ++n) {
        FRNN_SCOPE("n=%zu offset=%zu", n, off);
        frnn_test::count_case();
        // Values, with a NaN and an inf in the mix when there is room.
        std::vector<float> v = rng.vec(n, -20.0f, 20.0f);
        if (n > 2) v[n / 2] = frnn_test::qnan(), v[n - 1] = -std::numeric_limits<float>::infinity();
        // Expected: each value in lane 0 of its own full-width call (128 elements).
        std::vector<float> want(n);
        for (size_t i = 0; i < n; ++i) {
          std::vector<float> xi(128, v[i]), yi(128);
          e->fn(128, xi.data(), yi.data());
          want[i] = yi[0];
        }
        // Exact-size heap buffers: the kernel must stay inside [off, off + n).
        std::unique_ptr<float[]> x(new float[off + n]), y(new float[off + n]);
        for (size_t i = 0; i < off; ++i) x[i] = y[i] = kCanary;
        std::copy(v.begin(), v.end(), x.get() + off);
        e->fn(n, x.get() + off, y.get() + off);
        long bad = 0;
        for (size_t i = 0; i < n; ++i) bad += !bits_equal(y[off + i], want[i]) || !bits_equal(x[off + i], v[i]);
        CHECK_EQ(bad, 0L);
        // Guarded output: 2*kLanes canaries after the end (and `off` before) stay put.
        std::vector<float> g(off + n + 2 * L, kCanary);
        e->fn(n, x.get() + off, g.data() + off);
        bad = 0;
        for (size_t i = 0; i < g.size(); ++i) {
          const bool inside = i >= off && i < off + n;
          bad += inside ? !bits_equal(g[i], want[i - off]) : !bits_equal(g[i], kCanary);
        }
        CHECK_EQ(bad, 0L);
        // In place.
        e->fn(n, x.get() + off, x.get() + off);
        bad = 0;
        for (size_t i = 0; i < n; ++i) bad += !bits_equal(x[off + i], want[i]);
        CHECK_EQ(bad, 0L);
      }
    }
    e->fn(0, nullptr, nullptr);  // n = 0 touches nothing
  }
}

// Every pair of kernels of one op on all sweep points: the SIMD kernels share the polynomial and
// round the final scaling once, so they must agree bitwise; each SIMD kernel against the scalar
// one (glibc) within kCrossUlp ulps of the scalar result (measured on this sweep: 1.0, 2.0, 2.0),
// NaN where it has NaN. (Throughput is
// measured by bench_rnn's "vector math alone" header line, not here: a test asserts no timing.)
FRNN_TEST(cross_isa) {
  const std::vector<float>& x = points();
  const std::vector<const Entry*> es = runnable();
  long pairs = 0;
  for (const Entry* a : es) {
    if (a->isa == Isa::kScalar) continue;
    for (const Entry* b : es) {
      if (b->op != a->op || (int)b->isa >= (int)a->isa) continue;
      FRNN_SCOPE("%s vs %s", a->name, b->name);
      frnn_test::count_case();
      ++pairs;
      const std::vector<float> ya = run(*a, x), yb = run(*b, x);
      long diff = 0, nan_mismatch = 0;
      Worst w;
      for (size_t i = 0; i < x.size(); ++i) {
        diff += !bits_equal(ya[i], yb[i]);
        if (std::isnan(ya[i]) || std::isnan(yb[i])) {
          nan_mismatch += std::isnan(ya[i]) != std::isnan(yb[i]);
          continue;
        }
        const double d = std::fabs(clamp_range(ya[i]) - clamp_range(yb[i]));
        w.update(d / ulp_of(clamp_range(yb[i])), x[i], ya[i], yb[i]);
      }
      std::printf("  %-26s vs %-26s %ld of %zu differ bitwise, max %.2f ulp (%s)\n", a->name, b->name, diff,
                  x.size(), w.err, w.at().c_str());
      CHECK_MSG(nan_mismatch == 0, "%ld results NaN on one side only", nan_mismatch);
      if (b->isa == Isa::kScalar)
        CHECK_MSG(w.err <= kCrossUlp[(int)a->op], "max %.3f ulp > %.1f at %s", w.err, kCrossUlp[(int)a->op],
                  w.at().c_str());
      else
        CHECK_MSG(diff == 0, "%ld of %zu results differ bitwise (max %.3f ulp at %s)", diff, x.size(), w.err,
                  w.at().c_str());
    }
  }
  // On x86 with AVX2, and on AArch64 against scalar, there is at least one pair: not a no-op.
  if (es.size() > 3) CHECK_GT(pairs, 0L);
}

int main(int argc, char** argv) { return frnn_test::run_all("vmath_test", argc, argv); }
