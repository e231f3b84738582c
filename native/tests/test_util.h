// Tiny test harness for the native tests: no framework, nothing to download.
//
//   FRNN_TEST(gemm_all_shapes) { CHECK_NEAR(got, want, 1e-5); }
//   int main(int argc, char** argv) { return frnn_test::run_all("gemm_test", argc, argv); }
//
// Every CHECK prints file:line, the expression, the values and the current FRNN_SCOPE
// context on failure (the first kMaxPrinted failures of each test; all are counted).
// run_all runs every registered test (or those whose name contains argv[1]), prints one
// summary line and returns non-zero when anything failed. `-v` prints one line per test.
// With FUSED_RNN_ISA set, run_all first checks that the library really runs that path: an ISA
// this CPU lacks exits with kSkipCode (ctest: SKIP_RETURN_CODE, "Skipped") and says why; an
// unknown name, or a supported one that is not the active path, fails before any test runs.
// Rng is a deterministic splitmix64, so every run sees the same data on every platform.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "cpu/isa.h"

namespace frnn_test {

// ---- Registry and counters ---------------------------------------------------------------
struct TestInfo {
  const char* name;
  void (*fn)();
};

inline std::vector<TestInfo>& registry() {
  static std::vector<TestInfo> tests;
  return tests;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

constexpr int kMaxPrinted = 12;

struct State {
  const char* test = "";
  long checks = 0, failures = 0, cases = 0, notes = 0;
  long test_failures = 0;  // failures of the running test
  bool verbose = false;    // -v
  double margin = 0.0;     // largest error/tolerance ratio seen by the running test's all_close
  std::vector<std::string> context;
};

inline State& state() {
  static State s;
  return s;
}

#if defined(__GNUC__)
#define FRNN_PRINTF_LIKE __attribute__((format(printf, 1, 2)))
#else
#define FRNN_PRINTF_LIKE
#endif

// printf into a std::string.
inline std::string fmt(const char* f, ...) FRNN_PRINTF_LIKE;
inline std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// Context lines printed under every failure while the scope lives.
class Scope {
 public:
  explicit Scope(std::string what) { state().context.push_back(std::move(what)); }
  ~Scope() { state().context.pop_back(); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};

// One unit of work the summary counts (a config, a shape, ...).
inline void count_case(long n = 1) { state().cases += n; }

// Records one check. `what` is built only on failure.
template <typename F>
inline bool report(bool ok, const char* file, int line, F&& what) {
  State& s = state();
  ++s.checks;
  if (ok) return true;
  ++s.failures;
  if (++s.test_failures <= kMaxPrinted) {
    std::fprintf(stderr, "%s:%d: FAIL [%s] %s\n", file, line, s.test, what().c_str());
    for (const std::string& c : s.context) std::fprintf(stderr, "    in: %s\n", c.c_str());
  } else if (s.test_failures == kMaxPrinted + 1) {
    std::fprintf(stderr, "    [%s] ... further failures of this test are counted, not printed\n", s.test);
  }
  return false;
}

// Detail printed only with -v.
inline void detail(const std::string& msg) {
  if (state().verbose) std::printf("    %s\n", msg.c_str());
}

// A note that is not a failure (e.g. a skipped ISA), always printed.
inline void note(const std::string& msg) {
  ++state().notes;
  std::fprintf(stderr, "note [%s]: %s\n", state().test, msg.c_str());
}

inline std::string show(double v) { return fmt("%.9g", v); }
inline std::string show(float v) { return fmt("%.9g", (double)v); }
inline std::string show(bool v) { return v ? "true" : "false"; }
inline std::string show(const std::string& v) { return "\"" + v + "\""; }
inline std::string show(const char* v) { return v ? show(std::string(v)) : "(null)"; }
template <typename T, typename std::enable_if<std::is_integral<T>::value, int>::type = 0>
inline std::string show(T v) {
  return std::is_signed<T>::value ? fmt("%lld", (long long)v) : fmt("%llu", (unsigned long long)v);
}
template <typename T, typename std::enable_if<std::is_enum<T>::value, int>::type = 0>
inline std::string show(T v) {
  return fmt("%lld", (long long)v);
}

// |got - want| <= tol, false for NaN.
inline bool near(double got, double want, double tol) { return std::fabs(got - want) <= tol; }

// Every element of got (n floats, stride 1) within tol of want; one check, one report
// naming how many elements failed, the worst one and the largest error.
inline bool all_close(const char* file, int line, const char* what, const float* got,
                      const double* want, size_t n, double tol) {
  size_t bad = 0, worst = 0;
  double worst_err = -1.0;
  for (size_t i = 0; i < n; ++i) {
    const double err = std::fabs((double)got[i] - want[i]);
    const bool ok = err <= tol;  // NaN fails
    if (ok && tol > 0) state().margin = std::fmax(state().margin, err / tol);
    if (!ok) ++bad;
    if (!ok && (worst_err < 0 || !(err <= worst_err))) {
      worst = i;
      worst_err = err;
    }
  }
  return report(bad == 0, file, line, [&] {
    return fmt("%s: %zu of %zu elements off by more than %.3g; worst [%zu] got %.9g want %.9g (err %.3g)",
               what, bad, n, tol, worst, (double)got[worst], want[worst], worst_err);
  });
}

// Same length and the same bits (unlike ==, tells -0 from +0 and NaN from NaN).
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Largest |v| (at least `floor`), for tolerances relative to a tensor's scale.
inline double max_abs(const double* v, size_t n, double floor = 0.0) {
  double m = floor;
  for (size_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(v[i]));
  return m;
}

// ---- Deterministic PRNG --------------------------------------------------------------------
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  float uniform(float lo, float hi) { return (float)(lo + (hi - lo) * uniform()); }
  int range(int lo, int hi) { return lo + (int)(next() % (uint64_t)(hi - lo + 1)); }  // [lo, hi]
  bool coin() { return (next() >> 63) != 0; }
  void fill(float* p, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; ++i) p[i] = uniform(lo, hi);
  }
  std::vector<float> vec(size_t n, float lo, float hi) {
    std::vector<float> v(n);
    fill(v.data(), n, lo, hi);
    return v;
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
  }

 private:
  uint64_t s_;
};

inline float qnan() { return std::numeric_limits<float>::quiet_NaN(); }

// ---- Runner --------------------------------------------------------------------------------
constexpr int kSkipCode = 77;  // CMakeLists.txt: SKIP_RETURN_CODE

// FUSED_RNN_ISA against the path the library chose: 0 = go on (unset, or honoured), else the
// exit code (kSkipCode: the CPU lacks it; 1: unknown name, or not the active path).
inline int check_forced_isa(const char* exe) {
  const char* forced = std::getenv("FUSED_RNN_ISA");
  if (!forced || !*forced) return 0;
  const frnn::Isa all[] = {frnn::Isa::kScalar, frnn::Isa::kAvx2, frnn::Isa::kAvx512, frnn::Isa::kNeon};
  const frnn::Isa active = frnn::active_isa();
  for (frnn::Isa isa : all) {
    if (std::strcmp(forced, frnn::isa_to_string(isa)) != 0) continue;
    if (!frnn::cpu_supports(isa)) {
      std::printf("%s: SKIPPED - FUSED_RNN_ISA=%s but this CPU lacks %s (the library would run %s)\n", exe, forced,
                  forced, frnn::isa_to_string(active));
      return kSkipCode;
    }
    if (active != isa) {
      std::printf("%s: FAIL - FUSED_RNN_ISA=%s is supported but the active path is %s\n", exe, forced,
                  frnn::isa_to_string(active));
      return 1;
    }
    std::printf("%s: isa %s (FUSED_RNN_ISA)\n", exe, forced);
    return 0;
  }
  std::printf("%s: FAIL - unknown FUSED_RNN_ISA=%s (scalar, avx2, avx512, neon)\n", exe, forced);
  return 1;
}

inline int run_all(const char* exe, int argc, char** argv) {
  if (const int rc = check_forced_isa(exe)) return rc;
  bool verbose = false;
  const char* filter = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-v") == 0)
      verbose = true;
    else
      filter = argv[i];
  }
  State& s = state();
  s.verbose = verbose;
  const auto t0 = std::chrono::steady_clock::now();
  int ran = 0, failed_tests = 0;
  for (const TestInfo& t : registry()) {
    if (filter && !std::strstr(t.name, filter)) continue;
    s.test = t.name;
    s.test_failures = 0;
    s.margin = 0.0;
    const long checks0 = s.checks, cases0 = s.cases;
    const auto a = std::chrono::steady_clock::now();
    t.fn();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
    ++ran;
    if (s.test_failures) ++failed_tests;
    if (verbose || s.test_failures)
      std::printf("  %-36s %s  %ld cases, %ld checks, %ld failed, worst err/tol %.3f (%.1f ms)\n", t.name,
                  s.test_failures ? "FAIL" : "ok  ", s.cases - cases0, s.checks - checks0, s.test_failures, s.margin, ms);
  }
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %s - %d tests (%d failed), %ld cases, %ld checks, %ld failed checks (%.2f s)\n", exe,
              s.failures ? "FAIL" : "OK", ran, failed_tests, s.cases, s.checks, s.failures, sec);
  if (ran == 0) {
    std::printf("%s: no test matches \"%s\"\n", exe, filter ? filter : "");
    return 1;
  }
  return s.failures ? 1 : 0;
}

}  // namespace frnn_test

#define FRNN_TEST(name)                                                        \
  static void frnn_test_##name();                                              \
  static ::frnn_test::Registrar frnn_test_registrar_##name(#name, frnn_test_##name); \
  static void frnn_test_##name()

#define FRNN_CAT2(a, b) a##b
#define FRNN_CAT(a, b) FRNN_CAT2(a, b)
// FRNN_SCOPE("cell %d", k): context printed under failures until the end of the block.
#define FRNN_SCOPE(...) ::frnn_test::Scope FRNN_CAT(frnn_scope_, __LINE__)(::frnn_test::fmt(__VA_ARGS__))

#define CHECK(cond) ::frnn_test::report(static_cast<bool>(cond), __FILE__, __LINE__, [&] { return std::string("CHECK(" #cond ")"); })

#define CHECK_MSG(cond, ...) \
  ::frnn_test::report(static_cast<bool>(cond), __FILE__, __LINE__, [&] { return ::frnn_test::fmt(__VA_ARGS__); })

#define FRNN_CHECK_OP(a, b, op)                                                                  \
  [&](const auto& frnn_a_, const auto& frnn_b_) {                                                \
    return ::frnn_test::report(frnn_a_ op frnn_b_, __FILE__, __LINE__, [&] {                     \
      return "CHECK(" #a " " #op " " #b "): " + ::frnn_test::show(frnn_a_) + " vs " + ::frnn_test::show(frnn_b_); \
    });                                                                                          \
  }((a), (b))

#define CHECK_EQ(a, b) FRNN_CHECK_OP(a, b, ==)
#define CHECK_NE(a, b) FRNN_CHECK_OP(a, b, !=)
#define CHECK_LT(a, b) FRNN_CHECK_OP(a, b, <)
#define CHECK_LE(a, b) FRNN_CHECK_OP(a, b, <=)
#define CHECK_GT(a, b) FRNN_CHECK_OP(a, b, >)

#define CHECK_NEAR(got, want, tol)                                                                \
  [&](double frnn_g_, double frnn_w_, double frnn_t_) {                                           \
    return ::frnn_test::report(::frnn_test::near(frnn_g_, frnn_w_, frnn_t_), __FILE__, __LINE__, [&] { \
      return ::frnn_test::fmt("CHECK_NEAR(%s, %s): got %.9g want %.9g err %.3g tol %.3g", #got, #want, \
                              frnn_g_, frnn_w_, std::fabs(frnn_g_ - frnn_w_), frnn_t_);             \
    });                                                                                           \
  }((got), (want), (tol))

#define CHECK_ALL_CLOSE(got, want, n, tol) ::frnn_test::all_close(__FILE__, __LINE__, #got, (got), (want), (n), (tol))

// Status checks: print the library's message.
#define CHECK_OK(expr)                                                                             \
  [&](const ::frnn::Status& frnn_s_) {                                                             \
    return ::frnn_test::report(frnn_s_.ok, __FILE__, __LINE__,                                     \
                               [&] { return "CHECK_OK(" #expr "): " + frnn_s_.message; });         \
  }(expr)

// Must fail with a non-empty message that contains `needle` ("" = any message).
#define CHECK_ERROR(expr, needle)                                                                  \
  [&](const ::frnn::Status& frnn_s_, const char* frnn_n_) {                                        \
    return ::frnn_test::report(!frnn_s_.ok && !frnn_s_.message.empty() &&                          \
                                   frnn_s_.message.find(frnn_n_) != std::string::npos,             \
                               __FILE__, __LINE__, [&] {                                           \
                                 return ::frnn_test::fmt("CHECK_ERROR(%s, \"%s\"): ok=%d message \"%s\"", #expr, \
                                                         frnn_n_, (int)frnn_s_.ok, frnn_s_.message.c_str()); \
                               });                                                                 \
  }((expr), (needle))
