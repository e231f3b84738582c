// bench_rnn: the standard workloads through the kernel library's public API (fused_rnn.h),
// side by side with oneDNN's RNN primitives when CMake found oneDNN (FRNN_HAVE_DNNL).
//
//   bench_rnn [workload...] [lstm|gru|gru_ra|gru_rb...] [infer|train|bf16|bf16_train|int8] [t1|t2]
//             [--csv] [--budget=SECONDS] [--no-dnnl] [--no-ours] [--no-check] [--prepacked]
//
// First, with oneDNN: its forward and backward on a T6 B3 I5 H7 problem must match ours (every
// output: y, hN, cN, dx, dh0, dc0, dW, dR, dbW, dbR). Then, for every (workload, cell, mode,
// threads): one checked call each (outputs finite, and with oneDNN every output compared again at
// full size; this call is the warm-up and is never timed), then at least 3 timed warm calls each
// until the time budget is spent; reports the median time per call,
// GFLOP/s (FLOPs as bench/shapes.json counts them: 2*T*B*(I+H)*G*H per forward,
// 3x for a training step) and % of the FMA peak measured at startup (threads x 1-core peak).
// With oneDNN, the same row for it on the same weights and inputs, its outputs compared to ours;
// on one thread the two are timed in alternating blocks, so that the host's noise hits both alike.
// Exit status 1 when a call fails or oneDNN disagrees with us (--no-check skips the comparisons).
// Cells: lstm, gru_ra (GRU reset_after=true: PyTorch, oneDNN lbr_gru), gru_rb (reset_after=
// false: ONNX default, oneDNN gru); "gru" selects both GRUs.
// Modes: infer = forward with saved = nullptr (y, hN, cN written); train = forward with saved
// + backward with dy given (dhN = dcN = 0), writing dx, dh0, dc0 and accumulating every weight
// gradient into dparams. h0 = c0 = 0. oneDNN does the same work (see dnnl_peer.cc).
// bf16 = infer with bf16 products (ours: RnnConfig::precision; oneDNN: bf16 data and weights);
// its rows add ours bf16 against ours fp32 (same weights and inputs: max |diff| of y, and the
// speed-up over this run's fp32 infer row when that row ran) and oneDNN's implementation name.
// int8 = infer with int8 products (RnnConfig::precision = kInt8: s8 weights, u8 x and h with
// dynamic per-row scales; oneDNN: u8 data with a static scale, s8 weights, f32 y and hN); its
// rows add ours int8 against ours fp32 and the speed-up over this run's fp32 and bf16 infer rows.
// --prepacked: our inference rows read weights packed (bf16: converted, int8: quantized) once,
// before timing (frnn::pack_weights), as the library's async inference and steps do and as
// oneDNN's primitives do; without it, every call packs its weights (as a sync forward does).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#include <unistd.h>
#endif

#include "cpu/isa.h"
#include "dnnl_peer.h"
#include "fma_peak.h"
#include "gemm/gemm_bf16.h"
#include "gemm/gemm_int8.h"
#include "gemm/ukernel_list.h"
#include "vmath/vmath.h"
#include "fused_rnn.h"

namespace {

using Clock = std::chrono::steady_clock;

// ---- Workloads: mirror bench/shapes.json (and bench/run.js, bench/torch_bench.py) --
struct Workload {
  const char* name;
  int T, B, I, H;
  bool train;  // "modes" includes "train"
};
const Workload kWorkloads[] = {
    {"stream", 1, 1, 64, 128, false},  // one step of online inference, latency-bound
    {"small", 32, 16, 32, 64, true},   // typical small model in a Node service, overhead-bound
    {"medium", 50, 64, 128, 256, true},
    {"large", 50, 128, 512, 512, true},  // GEMM-bound
    {"long", 500, 8, 64, 256, true},     // recurrent-step bound
};

struct Cell {
  const char* name;
  frnn::CellType type;
  bool reset_after;
};
const Cell kCells[] = {
    {"lstm", frnn::CellType::kLstm, true},
    {"gru_ra", frnn::CellType::kGru, true},   // reset_after = true (PyTorch, oneDNN lbr_gru)
    {"gru_rb", frnn::CellType::kGru, false},  // reset_after = false (ONNX default, oneDNN gru)
};
// bf16 = inference with RnnConfig::precision = kBf16 (README, Precision); oneDNN's peer runs its
// bf16 configuration (dnnl_peer.h). bf16_train = train in bf16 (mixed precision), no peer yet.
// int8 = inference with kInt8; oneDNN's peer runs its int8 configuration (dnnl_peer.h).
const char* const kModes[] = {"infer", "train", "bf16", "bf16_train", "int8"};
const int kThreads[] = {1, 2};

double flops_of(const Workload& w, const Cell& c, bool train) {
  const double G = frnn::gate_count(c.type);
  const double f = 2.0 * w.T * w.B * (double)(w.I + w.H) * G * w.H;
  return train ? 3.0 * f : f;
}

// ---- Options --------------------------------------------------------------------------------
struct Options {
  std::vector<std::string> workloads, cells, modes;
  std::vector<int> threads;
  bool csv = false, dnnl = true, ours = true, check = true, prepacked = false;
  double budget = 0.5;  // seconds of timed calls per (config, implementation)
  // --peak=G: the caller measured the 1-core FMA peak already (bench/run.js starts this program once
  // per row and round): skip the ~0.5 s peak loops and the 0.3 s load check.
  double given_peak = 0;
};

bool selected(const std::vector<std::string>& filter, const std::string& name) {
  if (filter.empty()) return true;
  for (const auto& f : filter)
    if (name == f || name.rfind(f + "_", 0) == 0) return true;  // "gru" selects gru_ra, gru_rb
  return false;
}

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: bench_rnn [stream|small|medium|large|long...] [lstm|gru|gru_ra|gru_rb...]\n"
               "                 [infer|train|bf16|bf16_train|int8] [t1|t2] [--csv] [--budget=SECONDS] [--no-dnnl] [--no-ours] [--no-check]\n"
               "                 [--prepacked] [--peak=GFLOPS]\n");
  std::exit(code);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto is = [&](const char* const* b, const char* const* e) {
      return std::any_of(b, e, [&](const char* s) { return a == s; });
    };
    bool workload = false, cell = false;
    for (const auto& w : kWorkloads) workload |= a == w.name;
    for (const auto& c : kCells) cell |= selected({a}, c.name);
    if (a == "--csv") o.csv = true;
    else if (a == "--no-dnnl") o.dnnl = false;
    else if (a == "--no-ours") o.ours = false;
    else if (a == "--no-check") o.check = false;
    else if (a == "--prepacked") o.prepacked = true;
    else if (a.rfind("--budget=", 0) == 0) o.budget = std::atof(a.c_str() + 9);
    else if (a.rfind("--peak=", 0) == 0) o.given_peak = std::atof(a.c_str() + 7);
    else if (a == "-h" || a == "--help") usage(0);
    else if (workload) o.workloads.push_back(a);
    else if (cell) o.cells.push_back(a);
    else if (is(std::begin(kModes), std::end(kModes))) o.modes.push_back(a);
    else if (a.size() >= 2 && a[0] == 't' && std::atoi(a.c_str() + 1) > 0) o.threads.push_back(std::atoi(a.c_str() + 1));
    else {
      std::fprintf(stderr, "bench_rnn: unknown argument '%s'\n", a.c_str());
      usage(2);
    }
  }
  if (!(o.budget > 0)) o.budget = 0.5;
  if (o.threads.empty()) o.threads.assign(std::begin(kThreads), std::end(kThreads));
  return o;
}

// ---- Timing -----------------------------------------------------------------------------------
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Timing {
  double median_s = 0;
  int n = 0;
};

// The median of the samples (sorted in place) and their count.
Timing median_of(std::vector<double>& samples) {
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  return {n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]), static_cast<int>(n)};
}

// Timed calls, all of them warm: the checked first call (see main) is the warm-up and is never
// a sample. At least kMinSamples calls are timed whatever the budget (a call slower than the
// budget makes the run longer, never the sample smaller), so every median is of warm calls and
// two rows' medians are always like for like.
constexpr size_t kMinSamples = 3;

Timing time_calls(const std::function<void()>& fn, double budget) {
  std::vector<double> samples;
  const auto start = Clock::now();
  do {
    const auto t0 = Clock::now();
    fn();
    samples.push_back(seconds_since(t0));
  } while ((seconds_since(start) < budget || samples.size() < kMinSamples) && samples.size() < 200000);
  return median_of(samples);
}

// a and b in alternating blocks of about a tenth of the budget each (a, b, a, b, ...; at least one
// call per block) until each has had the budget and kMinSamples calls: a slow stretch of the
// shared machine then slows both, not whichever ran during it, while each block still runs with
// warm caches. Both must have had their warm-up call already.
std::pair<Timing, Timing> time_alternating(const std::function<void()>& a, const std::function<void()>& b,
                                           double budget) {
  std::vector<double> samples[2];
  double spent[2] = {0, 0};
  const std::function<void()>* fns[2] = {&a, &b};
  auto short_of = [&](int i) { return spent[i] < budget || samples[i].size() < kMinSamples; };
  do {
    for (int i = 0; i < 2; ++i) {
      const double block_end = spent[i] + budget / 10;
      do {
        const auto t0 = Clock::now();
        (*fns[i])();
        samples[i].push_back(seconds_since(t0));
        spent[i] += samples[i].back();
      } while (spent[i] < block_end && samples[i].size() < 200000);
    }
  } while ((short_of(0) || short_of(1)) && samples[0].size() < 200000 && samples[1].size() < 200000);
  return {median_of(samples[0]), median_of(samples[1])};
}

// ---- Micro-kernels alone -------------------------------------------------------------------
// Every GEMM micro-kernel the CPU runs, on one MR-row tile times one NR panel with K = 256
// (A, the panel and C in L1/L2), accumulating: what the kernels reach without the drivers around
// them, one line per ISA. A kernel far below the FMA peak here is broken (session 3: the AVX2
// one had its accumulators on the stack and ran at a third of the rate; nothing else showed it).
std::string measure_ukernels(double peak) {
  constexpr size_t K = 256;
  std::string out;
  for (const frnn::UkernelEntry& e : frnn::kUkernels) {
    if (!frnn::cpu_supports(e.isa)) continue;
    std::vector<float> a(e.mr * K, 0.5f), w(K * e.nr, 0.25f), c(e.mr * e.nr, 0.0f);
    const double flops = 2.0 * e.mr * e.nr * K;
    auto run = [&](int64_t calls) {
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < calls; ++i) e.fn(e.mr, e.nr, K, a.data(), K, w.data(), c.data(), e.nr, true);
      return seconds_since(t0);
    };
    int64_t calls = 256;
    while (run(calls) < 0.01) calls *= 2;  // calibrate to >= 10 ms per run
    double best = 0;
    for (int r = 0; r < 10; ++r) best = std::max(best, flops * calls / run(calls) / 1e9);  // as the FMA peak
    if (!std::isfinite(c[0])) std::fprintf(stderr, "%s diverged\n", e.name);
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s%s %.1f GFLOP/s (%.0f%%)", out.empty() ? "" : ", ", frnn::isa_to_string(e.isa),
                  best, peak > 0 ? 100.0 * best / peak : 0.0);
    out += buf;
  }
  // The bf16 kernels the same way (their % of the fp32 FMA peak: AVX512_BF16 can reach 200%).
  for (const frnn::Bf16UkernelEntry& e : frnn::kBf16Ukernels) {
    if (!frnn::cpu_supports(e.isa) || (e.needs_bf16 && !frnn::cpu_has(frnn::Feature::kAvx512Bf16))) continue;
    std::vector<frnn::bf16> a(e.mr * K, 0x3f00), w(K * e.nr, 0x3e80);  // 0.5, 0.25
    std::vector<float> c(e.mr * e.nr, 0.0f);
    const double flops = 2.0 * e.mr * e.nr * K;
    auto run = [&](int64_t calls) {
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < calls; ++i) e.fn(e.mr, e.nr, K / 2, a.data(), K, w.data(), c.data(), e.nr, c.data(), e.nr);
      return seconds_since(t0);
    };
    int64_t calls = 256;
    while (run(calls) < 0.01) calls *= 2;
    double best = 0;
    for (int r = 0; r < 10; ++r) best = std::max(best, flops * calls / run(calls) / 1e9);
    char buf[160];
    std::snprintf(buf, sizeof buf, ", bf16 %s %.1f GFLOP/s (%.0f%%)", frnn::isa_to_string(e.isa), best,
                  peak > 0 ? 100.0 * best / peak : 0.0);
    out += buf;
  }
  // And the int8 kernels (GOP/s, 2 per multiply-add; % of the fp32 FMA peak: VNNI can reach 400%).
  for (const frnn::Int8UkernelEntry& e : frnn::kInt8Ukernels) {
    const frnn::Feature vnni = e.isa == frnn::Isa::kAvx512 ? frnn::Feature::kAvx512Vnni : frnn::Feature::kAvxVnni;
    if (!frnn::cpu_supports(e.isa) || (e.needs_vnni && !frnn::cpu_has(vnni))) continue;
    std::vector<uint8_t> a(e.mr * K, 200);
    std::vector<int8_t> w(K * e.nr, 3);
    std::vector<int32_t> comp(e.nr, 0);
    std::vector<float> sa(e.mr, 1e-3f), sw(e.nr, 1e-3f), c(e.mr * e.nr, 0.0f);
    const double ops = 2.0 * e.mr * e.nr * K;
    auto run = [&](int64_t calls) {
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < calls; ++i)
        e.fn(e.mr, e.nr, K / 4, a.data(), K, sa.data(), w.data(), comp.data(), sw.data(), c.data(), e.nr, c.data(), e.nr);
      return seconds_since(t0);
    };
    int64_t calls = 256;
    while (run(calls) < 0.01) calls *= 2;
    double best = 0;
    for (int r = 0; r < 10; ++r) best = std::max(best, ops * calls / run(calls) / 1e9);
    char buf[160];
    std::snprintf(buf, sizeof buf, ", int8 %s%s %.1f GOP/s (%.0f%%)", frnn::isa_to_string(e.isa),
                  e.needs_vnni ? "-vnni" : "", best, peak > 0 ? 100.0 * best / peak : 0.0);
    out += buf;
  }
  return out;
}

// ---- Vector math alone -------------------------------------------------------------------------
// Every vmath kernel the CPU runs (exp, sigmoid, tanh per ISA) on 4096 floats in L1, best of 5
// runs of >= 10 ms: ns per element (moved here from vmath_test, which asserts no timing).
std::string measure_vmath() {
  struct V {
    frnn::Isa isa;
    const char* name;
    frnn::VmathFn fn;
  };
  static const V kV[] = {
#define FRNN_VMATH(isa, name, op) {frnn::Isa::isa, #name, frnn::name},
#include "vmath/vmath.inc"
#undef FRNN_VMATH
  };
  constexpr size_t n = 4096;
  std::vector<float> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = -10.0f + 20.0f * float(std::fmod(0.6180339887 * (double)i, 1.0));
  std::string out;
  for (const V& v : kV) {
    if (!frnn::cpu_supports(v.isa)) continue;
    double best = 1e30;
    for (int trial = 0; trial < 5; ++trial) {
      int64_t reps = 0;
      const auto t0 = Clock::now();
      double sec = 0;
      do {
        v.fn(n, x.data(), y.data());
        ++reps;
        sec = seconds_since(t0);
      } while (sec < 0.01);
      best = std::min(best, sec * 1e9 / ((double)reps * n));
    }
    std::string name = v.name;  // frnn_f32_vexp__avx512 -> exp avx512
    const size_t a = name.find("_v"), b = name.find("__");
    if (a != std::string::npos && b != std::string::npos) name = name.substr(a + 2, b - a - 2) + " " + name.substr(b + 2);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s %.3f", out.empty() ? "" : ", ", name.c_str(), best);
    out += buf;
  }
  return out;
}

// ---- FMA peak ---------------------------------------------------------------------------------
double measure_fma(double (*loop)(int64_t, float*)) {
  float sink = 0;
  int64_t iters = 1 << 14;
  for (;;) {  // calibrate to >= 20 ms per run
    const auto t0 = Clock::now();
    loop(iters, &sink);
    if (seconds_since(t0) >= 0.02 || iters > (int64_t(1) << 40)) break;
    iters *= 2;
  }
  double best = 0;
  for (int r = 0; r < 10; ++r) {  // best of 10: the least disturbed run on a shared machine
    const auto t0 = Clock::now();
    const double flops = loop(iters, &sink);
    best = std::max(best, flops / seconds_since(t0) / 1e9);
  }
  if (!std::isfinite(sink)) std::fprintf(stderr, "FMA loop diverged\n");
  return best;
}

// The 1-core peak: the faster of the AVX2 (ymm) and AVX-512 (zmm) FMA loops the CPU runs
// (equal on Zen 4, which splits a zmm FMA in two; zmm ~2x ymm on Intel server cores).
double measure_peak(std::string* log) {
  double peak = 0;
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
  __builtin_cpu_init();
  double avx2 = 0, avx512 = 0;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) avx2 = measure_fma(frnn_bench::fma_loop_avx2);
  if (__builtin_cpu_supports("avx512f")) avx512 = measure_fma(frnn_bench::fma_loop_avx512);
  peak = std::max(avx2, avx512);
  char buf[160];
  std::snprintf(buf, sizeof buf, "avx2 ymm %.1f, avx512 zmm %.1f GFLOP/s", avx2, avx512);
  *log = buf;
#else
  *log = "no FMA loop for this architecture";
#endif
  return peak;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// ---- Data -------------------------------------------------------------------------------------
struct Rng {
  uint64_t s;
  float uniform(float lo, float hi) {  // splitmix64
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return lo + (hi - lo) * float((z >> 40) * (1.0 / 16777216.0));
  }
};

void fill(std::vector<float>& v, Rng& r, float a) {
  for (auto& x : v) x = r.uniform(-a, a);
}

bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// max |a - b| / (1 + max |a|); NaN anywhere counts as a total disagreement (+inf).
double rel_diff(const float* a, const float* b, size_t n) {
  double d = 0, m = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = std::fabs((double)a[i] - b[i]);
    if (!(e <= d)) d = std::isnan(e) ? INFINITY : e;
    if (std::isnan(e)) break;
    m = std::max(m, (double)std::fabs(a[i]));
  }
  return d / (1 + m);
}
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = a.size() == b.size() ? 0 : INFINITY;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, (double)std::fabs(a[i] - b[i]));
  return m;
}
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() ? rel_diff(a.data(), b.data(), a.size()) : INFINITY;
}

frnn::RnnConfig make_config(const Cell& c, int I, int H) {
  frnn::RnnConfig cfg;
  cfg.cell = c.type;
  cfg.input_size = I;
  cfg.hidden_size = H;
  cfg.reset_after = c.reset_after;
  for (auto& d : cfg.act) {
    d[frnn::kActGate] = {frnn::ActKind::kSigmoid, 0, 0};
    d[frnn::kActCell] = {frnn::ActKind::kTanh, 0, 0};
    d[frnn::kActHidden] = {frnn::ActKind::kTanh, 0, 0};
  }
  return cfg;
}

// Buffers of one problem: ours, or a peer's outputs on the same inputs.
struct Problem {
  frnn::RnnConfig cfg;
  frnn::SeqDims dims;
  bool lstm;
  std::vector<float> params, x, dy;                   // inputs
  std::vector<float> y, hN, cN, saved, dx, dh0, dc0, dparams;  // outputs / scratch (ours)
  std::vector<float> py, phN, pcN, pdx;               // the peer's outputs

  Problem(const Cell& c, int T, int B, int I, int H, bool train, frnn::Precision prec = frnn::Precision::kFp32)
      : cfg(make_config(c, I, H)), lstm(c.type == frnn::CellType::kLstm) {
    cfg.precision = prec;
    dims.T = T;
    dims.B = B;
    Rng r{0x5eedull + (uint64_t)T * 131 + (uint64_t)H};
    params.resize(frnn::param_count(cfg));
    x.resize((size_t)T * B * I);
    fill(params, r, 1.0f / std::sqrt((float)H));  // PyTorch's init range
    fill(x, r, 1.0f);
    y.assign((size_t)T * B * H, 0.0f);
    hN.assign((size_t)B * H, 0.0f);
    cN.assign(lstm ? (size_t)B * H : 0, 0.0f);
    py = y, phN = hN, pcN = cN;
    if (train) {
      dy.resize(y.size());
      fill(dy, r, 1.0f);
      saved.assign(frnn::saved_size(cfg, dims), 0.0f);
      dx.assign(x.size(), 0.0f);
      dh0.assign(hN.size(), 0.0f);
      dc0.assign(cN.size(), 0.0f);
      pdx = dx;
      dparams.assign(params.size(), 0.0f);
    }
  }

  float* cN_ptr() { return lstm ? cN.data() : nullptr; }

  // --prepacked: the weights packed once for every inference call of this problem.
  void prepack() {
    if (frnn::forward_packs(cfg, dims)) packed = frnn::pack_weights(cfg, params.data());
  }
  void infer() {
    check(frnn::forward(cfg, params.data(), dims, x.data(), nullptr, nullptr, nullptr, y.data(), hN.data(),
                        cN_ptr(), nullptr, packed.get()));
  }
  std::shared_ptr<const frnn::PackedWeights> packed;
  void train() {
    check(frnn::forward(cfg, params.data(), dims, x.data(), nullptr, nullptr, nullptr, y.data(), hN.data(),
                        cN_ptr(), saved.data()));
    check(frnn::backward(cfg, params.data(), dims, x.data(), nullptr, nullptr, nullptr, saved.data(), dy.data(),
                         nullptr, nullptr, dx.data(), dh0.data(), lstm ? dc0.data() : nullptr, dparams.data()));
  }
  static void check(const frnn::Status& s) {
    if (!s.ok) throw std::runtime_error("fused-rnn: " + s.message);
  }
  frnn_bench::PeerShape peer_shape() const {
    return {lstm, cfg.reset_after, dims.T, dims.B, cfg.input_size, cfg.hidden_size,
            cfg.precision == frnn::Precision::kBf16, cfg.precision == frnn::Precision::kInt8};
  }
  std::unique_ptr<frnn_bench::DnnlRnn> make_dnnl(bool train) {
    return std::make_unique<frnn_bench::DnnlRnn>(peer_shape(), train, params.data(), x.data(), py.data(),
                                                 phN.data(), lstm ? pcN.data() : nullptr,
                                                 train ? dy.data() : nullptr, train ? pdx.data() : nullptr);
  }
};

// ---- Ours against oneDNN: every output, same weights, same inputs --------------------------------
// After exactly one call of each (weight gradients accumulate over calls, in both). Each output
// as max |ours - oneDNN| / (1 + max |ours|): y, hN, cN; with training also dx, dh0, dc0 and the
// four weight-gradient blocks dW, dR, dbW, dbR (oneDNN's one bias block per gate stands for
// bW + bR, so both get its gradient).
struct Agreement {
  double fwd = 0, bwd = 0;  // worst forward output, worst gradient
  std::string detail;
  void add(const char* name, double d, bool grad) {
    double& w = grad ? bwd : fwd;
    w = std::isnan(d) || std::isnan(w) ? INFINITY : std::max(w, d);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%s %.1e", detail.empty() ? "" : " ", name, d);
    detail += buf;
  }
  bool ok(double fwd_tol, double bwd_tol) const { return fwd <= fwd_tol && bwd <= bwd_tol; }
};

Agreement compare_with_peer(Problem& p, frnn_bench::DnnlRnn& d, bool train) {
  Agreement a;
  a.add("y", rel_diff(p.y, p.py), false);
  a.add("hN", rel_diff(p.hN, p.phN), false);
  if (p.lstm) a.add("cN", rel_diff(p.cN, p.pcN), false);
  if (!train) return a;
  const int I = p.cfg.input_size, H = p.cfg.hidden_size;
  const size_t GH = (size_t)frnn::gate_count(p.cfg.cell) * H;
  std::vector<float> dW(GH * I), dR(GH * H), dbW(GH), dbR(GH), dh0(p.dh0.size()), dc0(p.dc0.size());
  d.diff_weights_ours(dW.data(), dR.data());
  d.diff_bias_ours(dbW.data(), dbR.data());
  d.diff_states(dh0.data(), p.lstm ? dc0.data() : nullptr);
  const float* g = p.dparams.data();  // W, R, bW, bR
  a.add("dx", rel_diff(p.dx, p.pdx), true);
  a.add("dh0", rel_diff(p.dh0, dh0), true);
  if (p.lstm) a.add("dc0", rel_diff(p.dc0, dc0), true);
  a.add("dW", rel_diff(g, dW.data(), dW.size()), true);
  a.add("dR", rel_diff(g + GH * I, dR.data(), dR.size()), true);
  a.add("dbW", rel_diff(g + GH * (I + H), dbW.data(), GH), true);
  a.add("dbR", rel_diff(g + GH * (I + H + 1), dbR.data(), GH), true);
  return a;
}

// An odd shape with every dimension distinct, so a transposed or permuted block cannot hide.
bool dnnl_sanity(const Cell& c, std::string* report) {
  const int T = 6, B = 3, I = 5, H = 7;
  Problem p(c, T, B, I, H, true);
  p.train();
  auto d = p.make_dnnl(true);
  d->run_train();
  Agreement a = compare_with_peer(p, *d, true);
  // Inference primitive too: its output must match the training forward.
  std::fill(p.py.begin(), p.py.end(), 0.0f);
  p.make_dnnl(false)->run_infer();
  a.add("y(infer)", rel_diff(p.y, p.py), false);
  const bool ok = a.ok(1e-5, 1e-5);  // measured: <= 1e-7 on every cell
  *report = std::string(c.name) + " T6 B3 I5 H7 max|diff|/(1+max|ours|): " + a.detail + (ok ? " ok" : " MISMATCH");
  return ok;
}

std::string fmt_time(double s) {
  char buf[32];
  if (s < 1e-3) std::snprintf(buf, sizeof buf, "%.1f us", s * 1e6);
  else if (s < 1.0) std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
  else std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

// Cores kept busy by OTHER processes while a measurement ran (the machine is shared): busy
// time of all CPUs from /proc/stat minus this process's CPU time, per wall second. Linux only;
// -1 elsewhere. Rows with bg well above 0 (and any 2-thread row with bg > ~0.3) are noise.
class CpuMeter {
 public:
  CpuMeter() : wall_(Clock::now()), all_(all_busy_s()), self_(self_cpu_s()) {}
  double others() const {
    const double all = all_busy_s();
    const double wall = seconds_since(wall_);
    if (all < 0 || all_ < 0 || wall <= 0) return -1;
    return std::max(0.0, ((all - all_) - (self_cpu_s() - self_)) / wall);
  }

 private:
#if defined(__linux__)
  static double all_busy_s() {
    std::ifstream f("/proc/stat");
    std::string cpu;
    unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (!(f >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu") return -1;
    return double(user + nice + sys + irq + softirq + steal) / double(sysconf(_SC_CLK_TCK));
  }
  static double self_cpu_s() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
#else
  static double all_busy_s() { return -1; }
  static double self_cpu_s() { return 0; }
#endif
  Clock::time_point wall_;
  double all_, self_;
};

struct Result {
  bool ok = false;
  Timing t;
  double gflops = 0, pct = 0;
  double bg = -1;  // CpuMeter::others() over the timed calls
  double diff = -1;  // peer only: max |its outputs - ours| relative to 1 + max |ours|
  std::string error;
};

void print_row_text(const Workload& w, const Cell& c, const char* mode, int thr, const Result* ours,
                    const Result* peer) {
  auto cols = [](const Result& r) {
    char buf[96];
    if (!r.ok) std::snprintf(buf, sizeof buf, "%-36.36s", ("error: " + r.error).c_str());
    else std::snprintf(buf, sizeof buf, "%10s %8.2f %6.1f%% %6d", fmt_time(r.t.median_s).c_str(), r.gflops, r.pct, r.t.n);
    return std::string(buf);
  };
  std::printf("%-7s %-6s %-10s %3d", w.name, c.name, mode, thr);
  if (ours) std::printf(" | %s", cols(*ours).c_str());
  if (peer) std::printf(" | %s", cols(*peer).c_str());
  if (ours && peer) {
    // A ratio only of like measurements: both medians of >= kMinSamples warm calls.
    if (ours->ok && peer->ok && ours->t.n >= (int)kMinSamples && peer->t.n >= (int)kMinSamples)
      std::printf(" | %7.2fx", peer->t.median_s / ours->t.median_s);
    else std::printf(" | %8s", "-");
  }
  double bg = -1;
  for (const Result* r : {ours, peer})
    if (r && r->ok) bg = std::max(bg, r->bg);
  if (bg >= 0) std::printf(" | %4.1f", bg);
  std::printf("\n");
  std::fflush(stdout);
}

void print_row_csv(const Workload& w, const Cell& c, const char* mode, int thr, const char* impl, const Result& r,
                   double gflop, double peak) {
  if (!r.ok) {
    std::printf("# %s %s %s t%d %s: error: %s\n", w.name, c.name, mode, thr, impl, r.error.c_str());
    return;
  }
  std::printf("%s,%s,%s,%d,%s,%d,%d,%d,%d,%.6g,%.6g,%.6g,%.4g,%.6g,%d,%.2f,%.2g\n", w.name, c.name, mode, thr, impl,
              w.T, w.B, w.I, w.H, gflop, r.t.median_s * 1e6, r.gflops, r.pct, peak, r.t.n, r.bg, r.diff);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  std::string peak_log = "given (--peak)";
  const double peak = opt.given_peak > 0 ? opt.given_peak : measure_peak(&peak_log);
  const bool use_dnnl = opt.dnnl && frnn_bench::dnnl_compiled_in();
  const std::string dnnl_desc = !opt.dnnl && frnn_bench::dnnl_compiled_in()
                                    ? "oneDNN skipped (--no-dnnl)"
                                    : frnn_bench::dnnl_description();

  if (opt.csv) {
    std::printf("# fused-rnn isa %s; %s; FMA peak 1 core: %s; cpu %s\n", frnn::isa_name(), dnnl_desc.c_str(),
                peak_log.c_str(), cpu_model().c_str());
  } else {
    std::printf("bench_rnn: %s, %u hardware threads\n", cpu_model().c_str(), std::thread::hardware_concurrency());
    std::printf("fused-rnn: isa %s (FUSED_RNN_ISA overrides), threads via frnn::set_num_threads\n", frnn::isa_name());
    std::printf("FMA peak, 1 core, best of 10: %s -> %%peak = GFLOP/s / (%.1f x threads)\n", peak_log.c_str(), peak);
    std::printf("GEMM micro-kernels alone (one tile, K 256, in cache): %s\n", measure_ukernels(peak).c_str());
    std::printf("vector math alone (4096 floats in L1, ns/element): %s\n", measure_vmath().c_str());
    std::printf("%s\n", dnnl_desc.c_str());
  }
  std::printf("%sour inference rows: %s\n", opt.csv ? "# " : "",
              opt.prepacked ? "weights packed (bf16 converted, int8 quantized) once before timing (--prepacked)"
                            : "every call packs its weights (--prepacked: once, as servers do)");
  if (opt.given_peak <= 0) {
    const CpuMeter m;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const double bg = m.others();
    if (bg >= 0)
      std::printf("%sother processes keep %.1f of %u cores busy right now%s\n", opt.csv ? "# " : "", bg,
                  std::thread::hardware_concurrency(),
                  bg > 0.3 ? ": expect noise, above all in 2-thread rows (see the bg column)" : "");
  }

  // oneDNN sanity check first: a peer that computes something else is not a peer.
  int failures = 0;  // errors and disagreements with oneDNN: the exit status is 1 if any
  if (use_dnnl && opt.check) {
    for (const Cell& c : kCells) {
      if (!selected(opt.cells, c.name)) continue;
      std::string rep;
      bool ok = false;
      try {
        frnn::set_num_threads(1);
        frnn_bench::dnnl_set_num_threads(1);
        ok = dnnl_sanity(c, &rep);
      } catch (const std::exception& e) {
        rep = std::string(c.name) + " error: " + e.what();
      }
      std::printf(opt.csv ? "# check vs oneDNN: %s\n" : "check vs oneDNN: %s\n", rep.c_str());
      if (!ok) {
        std::printf("%sFAIL: oneDNN disagrees with fused-rnn for %s (exit status 1; --no-check skips the checks)\n",
                    opt.csv ? "# " : "", c.name);
        ++failures;
      }
    }
  }

  if (opt.csv)
    std::printf("workload,cell,mode,threads,impl,T,B,I,H,gflop,us_per_call,gflops,pct_peak,peak_gflops,n,bg,diff\n");
  else {
    std::printf("\nmedian time per call; GFLOP/s = 2*T*B*(I+H)*G*H per forward (x3 train); %%peak of threads x 1-core "
                "FMA peak;\nn = timed calls; ours/oneDNN = oneDNN time / ours (>1: ours faster); bg = cores busy "
                "with other processes\n");
    std::printf("%-7s %-6s %-10s %3s", "", "", "", "");
    if (opt.ours) std::printf(" | %-36s", "fused-rnn");
    if (use_dnnl) std::printf(" | %-36s", "oneDNN");
    if (opt.ours && use_dnnl) std::printf(" | %-8s", "ours/");
    std::printf("\n%-7s %-6s %-10s %3s", "shape", "cell", "mode", "thr");
    for (int i = 0; i < int(opt.ours) + int(use_dnnl); ++i)
      std::printf(" | %10s %8s %7s %6s", "time", "GFLOP/s", "%peak", "n");
    if (opt.ours && use_dnnl) std::printf(" | %-8s", "oneDNN");
    std::printf(" | %4s\n", "bg");
  }

  for (const Workload& w : kWorkloads) {
    if (!selected(opt.workloads, w.name)) continue;
    for (const Cell& c : kCells) {
      if (!selected(opt.cells, c.name)) continue;
      std::vector<double> fp32_s[2] = {std::vector<double>(opt.threads.size(), 0.0),
                                       std::vector<double>(opt.threads.size(), 0.0)};  // this run's fp32 [infer, train] medians, per thr
      std::vector<double> bf16_s(opt.threads.size(), 0.0);  // this run's bf16 infer medians, per thr
      for (const char* mode : kModes) {
        const bool bf16 = std::strncmp(mode, "bf16", 4) == 0;
        const bool int8 = std::strcmp(mode, "int8") == 0;
        const frnn::Precision prec = bf16 ? frnn::Precision::kBf16 : int8 ? frnn::Precision::kInt8 : frnn::Precision::kFp32;
        const bool train = std::strcmp(mode, "train") == 0 || std::strcmp(mode, "bf16_train") == 0;
        if (!selected(opt.modes, mode) || (train && !w.train)) continue;
        const double gflop = flops_of(w, c, train) / 1e9;
        size_t thr_index = 0;
        for (int thr : opt.threads) {
          const double peak_t = peak * thr;
          auto finish = [&](Result& r) {
            r.ok = true;
            r.gflops = gflop / r.t.median_s;
            r.pct = peak_t > 0 ? 100.0 * r.gflops / peak_t : 0.0;
          };
          Problem p(c, w.T, w.B, w.I, w.H, train, prec);
          if (opt.prepacked && !train) p.prepack();
          Result ours, peer;
          const std::function<void()> run_ours = [&] { train ? p.train() : p.infer(); };
          std::unique_ptr<frnn_bench::DnnlRnn> d;
          std::function<void()> run_peer;
          // Checked warm-up calls, never timed: fused-rnn then oneDNN on the same weights and
          // inputs, one call each, then every output of the two compared.
          bool ours_ready = false, peer_ready = false;
          if (opt.ours) try {
            frnn::set_num_threads(thr);
            run_ours();
            if (!all_finite(p.y) || !all_finite(p.hN) || !all_finite(p.cN) || !all_finite(p.dx) ||
                !all_finite(p.dparams))
              throw std::runtime_error("non-finite output");
            ours_ready = true;
          } catch (const std::exception& e) {
            ours.error = e.what();
            ++failures;
          }
          if (use_dnnl && bf16 && train) peer.error = "n/a (no bf16 training peer yet)";
          else if (use_dnnl && int8 && c.type == frnn::CellType::kGru && c.reset_after)
            peer.error = "n/a (oneDNN 2.6: no int8 lbr_gru)";
          else if (use_dnnl) try {
            frnn_bench::dnnl_set_num_threads(thr);
            d = p.make_dnnl(train);
            run_peer = [&] { train ? d->run_train() : d->run_infer(); };
            run_peer();
            if (!all_finite(p.py) || !all_finite(p.phN) || !all_finite(p.pcN) || !all_finite(p.pdx))
              throw std::runtime_error("non-finite output");
            peer_ready = true;
          } catch (const std::exception& e) {
            peer.error = e.what();
            ++failures;
          }
          if (ours_ready && peer_ready && opt.check) {
            // Same inputs, same weights: every output must agree at full size too. In bf16 the
            // two round differently (oneDNN also rounds y and h to bf16): 2e-2.
            if (bf16 || int8) d->outputs_to_f32();
            const Agreement a = compare_with_peer(p, *d, train);
            peer.diff = std::max(a.fwd, a.bwd);
            // int8: oneDNN quantizes with static data scales (ours: per row, per call): 1e-1.
            const double tol = int8 ? 1e-1 : bf16 ? 2e-2 : 1e-4;
            if (!a.ok(tol, tol)) {  // measured: <= 3.1e-6 on every train row of large and long
              std::printf("%sFAIL: %s %s %s t%d: oneDNN's outputs differ from ours (max|diff|/(1+max|ours|) over "
                          "1e-4): %s\n",
                          opt.csv ? "# " : "", w.name, c.name, mode, thr, a.detail.c_str());
              ++failures;
            }
          }
          // bf16: ours against ours in fp32 on the same problem (one untimed fp32 call).
          std::string bf16_note;
          if ((bf16 || int8) && ours_ready) {
            Problem f(c, w.T, w.B, w.I, w.H, false);
            f.infer();
            char buf[256];
            std::snprintf(buf, sizeof buf, "ours %s vs ours fp32: max|diff| y %.1e hN %.1e%s%s%s%s", mode, max_abs_diff(f.y, p.y),
                          max_abs_diff(f.hN, p.hN), peer_ready ? "; oneDNN " : "", peer_ready ? mode : "", peer_ready ? " impl: " : "",
                          peer_ready ? d->impl_name().c_str() : "");
            bf16_note = buf;
          }
          // Timed calls. One thread: the two in alternating blocks. More: each in one block,
          // since a pool's idle workers spin for a while after a call (ours and OpenMP's alike)
          // and would take the other's cores.
          if (ours_ready && peer_ready && thr == 1) {
            const CpuMeter meter;
            std::tie(ours.t, peer.t) = time_alternating(run_ours, run_peer, opt.budget);
            ours.bg = peer.bg = meter.others();
          } else {
            if (ours_ready) {
              const CpuMeter meter;
              ours.t = time_calls(run_ours, opt.budget);
              ours.bg = meter.others();
            }
            if (peer_ready) {
              const CpuMeter meter;
              peer.t = time_calls(run_peer, opt.budget);
              peer.bg = meter.others();
            }
          }
          if (ours_ready) finish(ours);
          if (peer_ready) finish(peer);
          if (!bf16 && !int8 && ours_ready) fp32_s[train][thr_index] = ours.t.median_s;
          if (bf16 && !train && ours_ready) bf16_s[thr_index] = ours.t.median_s;
          if (int8 && ours_ready && fp32_s[0][thr_index] > 0) {
            char buf[128];
            std::snprintf(buf, sizeof buf, "ours int8 %.2fx ours fp32", fp32_s[0][thr_index] / ours.t.median_s);
            std::string s = buf;
            if (bf16_s[thr_index] > 0) {
              std::snprintf(buf, sizeof buf, ", %.2fx ours bf16", bf16_s[thr_index] / ours.t.median_s);
              s += buf;
            }
            bf16_note = s + " (this run's infer rows); " + bf16_note;
          }
          if (bf16 && ours_ready && fp32_s[train][thr_index] > 0) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "ours bf16 %.2fx ours fp32 (this run's %s row); ",
                          fp32_s[train][thr_index] / ours.t.median_s, train ? "train" : "infer");
            bf16_note = buf + bf16_note;
          }
          ++thr_index;
          if (opt.csv) {
            if (opt.ours) print_row_csv(w, c, mode, thr, "fused-rnn", ours, gflop, peak_t);
            if (use_dnnl) print_row_csv(w, c, mode, thr, "onednn", peer, gflop, peak_t);
          } else {
            print_row_text(w, c, mode, thr, opt.ours ? &ours : nullptr, use_dnnl ? &peer : nullptr);
          }
          if (!bf16_note.empty()) std::printf("%s  %s\n", opt.csv ? "#" : "       ", bf16_note.c_str());
        }
      }
    }
  }
  return failures ? 1 : 0;
}
