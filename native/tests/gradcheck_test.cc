// frnn::backward against central differences of frnn::forward (in float64, the way ggml
// checks its gradients).
//
// Loss, in float64 from the float32 outputs of frnn::forward:
//   L = Σ y·gy + Σ hN·ghN + Σ cN·gcN        (gy, ghN, gcN fixed random in ±1)
// so backward(dy = gy, dhN = ghN, dcN = gcN) must return ∂L/∂θ for every parameter
// (kCap sampled entries of each tensor of param_layout()), every x, h0 and c0 entry.
// Each entry is compared with two central differences, the steps measured after rounding
// θ±ε to float:
//
// (F) L from frnn::forward itself (float32): ε = 1e-2, or 1e-3 in cases with kinks.
//     Tolerance |analytic - numeric| <= atol + rtol·max(|analytic|, |numeric|):
//     - float noise: every output carries ~1 ulp (6e-8 relative) of rounding that does not
//       cancel between L(θ+ε) and L(θ-ε); over the ≤ 150 outputs of a case that is ≲ 1e-6
//       in L, i.e. ≲ 5e-5 in the slope at ε = 1e-2 and ≲ 5e-4 at ε = 1e-3;
//     - truncation: ε²/6·|L'''| ≈ 2e-5·|L'''| at ε = 1e-2 (these tiny nets have |L'''| ≲ 10);
//     so atol 5e-4, rtol 5e-3 at ε = 1e-2 and atol 2e-3, rtol 1e-2 at ε = 1e-3.
// (R) L from the float64 reference ref/rnn_ref.h on the same float inputs, ε = 1e-6: no
//     float noise (≲ 1e-9 in the slope), no truncation to speak of, so what is left is the
//     float32 rounding inside backward: atol 5e-5, rtol 5e-4. This is the sharp check;
//     (F) ties backward to the library's own forward, as the JS layers see it.
// Measured worst err/tol per case is printed by `gradcheck_test -v` (smooth (F) ≲ 0.1).
// A real bug (a wrong or missing term) shows at the scale of the gradient itself.
//
// Kinks (relu, leakyRelu, hardSigmoid, elu, softsign, gate_clip, cell_clip): a central
// difference that straddles a kink errs by O(ε) (slope kinks; softsign and elu also have
// a jump in curvature at 0). In such cases an (F) miss is forgiven when (R), whose bracket
// is 1000x narrower, matches; an (R) miss is forgiven only when its own one-sided slopes
// disagree (a kink within ±1e-6). Forgiven entries are counted; more than a quarter of a
// case's entries forgiven fails the case.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "fused_rnn.h"
#include "ref/rnn_ref.h"
#include "rnn_case.h"
#include "test_util.h"

namespace {

using frnn::ActKind;
using frnn::CellType;
using frnn_test::act;
using frnn_test::make_config;
using frnn_test::Rng;
using frnn_test::RnnCase;
using frnn_test::same_bits;

constexpr double kEpsSmooth = 1e-2, kEpsKink = 1e-3, kEpsRef = 1e-6;
// {atol, rtol} of (F) smooth, (F) with kinks, and (R); see the top of the file.
constexpr double kAtolSmooth = 5e-4, kRtolSmooth = 5e-3, kAtolKink = 2e-3, kRtolKink = 1e-2;
constexpr double kAtolRef = 5e-5, kRtolRef = 5e-4;
constexpr size_t kCap = 12;  // sampled entries per parameter tensor

// Kinks in the slope (relu, leakyRelu, hardSigmoid, elu with alpha != 1, clips) or in the
// curvature (softsign and elu at 0: there a central difference straddling 0 errs by O(ε)
// instead of O(ε²), ~1e-2 at ε = 1e-2).
bool has_kinks(const frnn::RnnConfig& c) {
  if (c.gate_clip > 0 || c.cell_clip > 0) return true;
  for (int d = 0; d < c.num_directions; ++d)
    for (const frnn::Activation& a : c.act[d])
      if (a.kind == ActKind::kRelu || a.kind == ActKind::kLeakyRelu || a.kind == ActKind::kHardSigmoid ||
          a.kind == ActKind::kThresholdedRelu || a.kind == ActKind::kElu || a.kind == ActKind::kSoftsign)
        return true;
  return false;
}

// Everything one case needs: inputs, upstream gradients, and the loss.
struct Problem {
  RnnCase k;
  frnn_test::RnnData d;
  std::vector<float> gy, ghN, gcN;
  std::vector<float> h0_buf, c0_buf;  // explicit states used when differentiating a null h0/c0
  bool force_h0 = false, force_c0 = false;

  Problem(const RnnCase& kase, Rng& rng) : k(kase), d(frnn_test::make_data(kase, rng)) {
    gy = rng.vec(k.y_size(), -1.0f, 1.0f);
    ghN = rng.vec(k.h_size(), -1.0f, 1.0f);
    gcN = rng.vec(k.c_size(), -1.0f, 1.0f);
    h0_buf = d.h0.empty() ? std::vector<float>(k.h_size(), 0.0f) : d.h0;
    c0_buf = d.c0.empty() ? std::vector<float>(k.c_size(), 0.0f) : d.c0;
  }
  const float* h0() const { return force_h0 || k.h0 ? h0_buf.data() : nullptr; }
  const float* c0() const { return (force_c0 || k.c0) && k.lstm() ? c0_buf.data() : nullptr; }

  double loss() {
    std::vector<float> y(k.y_size()), hN(k.h_size()), cN(k.c_size());
    const frnn::Status st = frnn::forward(k.cfg, d.params.data(), k.dims(), d.x.data(), d.len_ptr(), h0(), c0(),
                                          y.data(), hN.data(), k.lstm() ? cN.data() : nullptr, nullptr);
    if (!st.ok) return std::nan("");
    double L = 0;
    for (size_t i = 0; i < y.size(); ++i) L += (double)y[i] * gy[i];
    for (size_t i = 0; i < hN.size(); ++i) L += (double)hN[i] * ghN[i];
    for (size_t i = 0; i < cN.size(); ++i) L += (double)cN[i] * gcN[i];
    return L;
  }

  // The same loss from the float64 reference.
  double loss_ref() const {
    std::vector<double> y, hN, cN;
    frnn_ref::forward_ref(k.cfg, d.params.data(), k.dims(), d.x.data(), d.len_ptr(), h0(), c0(), y, hN, cN);
    double L = 0;
    for (size_t i = 0; i < y.size(); ++i) L += y[i] * gy[i];
    for (size_t i = 0; i < hN.size(); ++i) L += hN[i] * ghN[i];
    for (size_t i = 0; i < cN.size(); ++i) L += cN[i] * gcN[i];
    return L;
  }
};

struct Grads {
  std::vector<float> dparams, dx, dh0, dc0;
};

// Training forward + backward; dparams starts from `dparams0` (accumulation).
bool analytic(Problem& p, Grads& g, const std::vector<float>& dparams0) {
  const RnnCase& k = p.k;
  const frnn::SeqDims dims = k.dims();
  std::vector<float> y(k.y_size()), hN(k.h_size()), cN(k.c_size()), saved(frnn::saved_size(k.cfg, dims));
  if (!CHECK_OK(frnn::forward(k.cfg, p.d.params.data(), dims, p.d.x.data(), p.d.len_ptr(), p.h0(), p.c0(), y.data(),
                              hN.data(), k.lstm() ? cN.data() : nullptr, saved.data())))
    return false;
  const float nan = frnn_test::qnan();
  g.dparams = dparams0;
  g.dx.assign(k.x_size(), nan);
  g.dh0.assign(k.h_size(), nan);
  g.dc0.assign(k.c_size(), nan);
  return CHECK_OK(frnn::backward(k.cfg, p.d.params.data(), dims, p.d.x.data(), p.d.len_ptr(), p.h0(), p.c0(),
                                 saved.data(), p.gy.data(), p.ghN.data(), k.lstm() ? p.gcN.data() : nullptr,
                                 g.dx.data(), g.dh0.data(), k.lstm() ? g.dc0.data() : nullptr, g.dparams.data()));
}

struct Tally {
  size_t entries = 0, forgiven = 0;
  double worst_f = 0, worst_r = 0;  // largest err/tol of (F) and (R) among entries they passed
};

// Central and one-sided differences of a loss in *v (steps as rounded to float).
struct Diff {
  double central, right, left;
};

template <typename Loss>
Diff differentiate(float* v, double eps, double L0, Loss loss) {
  const float orig = *v;
  *v = (float)(orig + eps);
  const double step_p = (double)*v - orig;
  const double Lp = loss();
  *v = (float)(orig - eps);
  const double step_m = orig - (double)*v;
  const double Lm = loss();
  *v = orig;
  return {(Lp - Lm) / (step_p + step_m), (Lp - L0) / step_p, (L0 - Lm) / step_m};
}

struct Losses {
  double f, r;  // L at the unperturbed inputs: float forward (F), float64 reference (R)
};

// Checks the analytic derivative `ana` of one input entry *v by (F) and (R).
void check_entry(Problem& p, float* v, double ana, const Losses& L0, double eps, bool kinks, Tally& t,
                 const char* what, size_t index) {
  ++t.entries;
  const Diff f = differentiate(v, eps, L0.f, [&] { return p.loss(); });
  const Diff r = differentiate(v, kEpsRef, L0.r, [&] { return p.loss_ref(); });
  const double scale_f = std::fmax(std::fabs(ana), std::fabs(f.central));
  const double tol_f = kinks ? kAtolKink + kRtolKink * scale_f : kAtolSmooth + kRtolSmooth * scale_f;
  const double tol_r = kAtolRef + kRtolRef * std::fmax(std::fabs(ana), std::fabs(r.central));
  const double err_f = std::fabs(ana - f.central), err_r = std::fabs(ana - r.central);
  bool ok_f = err_f <= tol_f, ok_r = err_r <= tol_r, forgiven = false;
  if (ok_f) t.worst_f = std::fmax(t.worst_f, err_f / tol_f);
  if (ok_r) t.worst_r = std::fmax(t.worst_r, err_r / tol_r);
  if (!ok_r && std::fabs(r.right - r.left) > tol_r) ok_r = forgiven = true;  // a kink within ±1e-6
  if (!ok_f && kinks && ok_r) ok_f = forgiven = true;                        // (F) straddled a kink
  t.forgiven += forgiven;
  CHECK_MSG(ok_f && ok_r,
            "d%s[%zu]: analytic %.7g | (F) float forward %.7g (err %.3g, tol %.3g, one-sided %.7g / %.7g) | "
            "(R) float64 reference %.7g (err %.3g, tol %.3g)",
            what, index, ana, f.central, err_f, tol_f, f.right, f.left, r.central, err_r, tol_r);
  frnn_test::State& st = frnn_test::state();
  st.margin = std::fmax(st.margin, std::fmax(t.worst_f, t.worst_r));
}

const char* kind_name(frnn::ParamKind k) {
  static const char* n[] = {"W", "R", "bW", "bR", "P", "Wp"};
  return n[(int)k];
}

void gradcheck(const RnnCase& kase, uint64_t seed) {
  Rng rng(seed);
  Problem p(kase, rng);
  const RnnCase& k = p.k;
  FRNN_SCOPE("%s (seed %llu)", frnn_test::describe(k, p.d.lengths).c_str(), (unsigned long long)seed);
  frnn_test::count_case();
  Grads g;
  if (!analytic(p, g, std::vector<float>(p.d.params.size(), 0.0f))) return;

  // dx, dh0, dc0 are written in full (they started as NaN).
  auto finite = [](const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float f) { return std::isfinite(f); });
  };
  CHECK_MSG(finite(g.dx) && finite(g.dh0) && finite(g.dc0) && finite(g.dparams),
            "backward left a gradient unwritten or non-finite");
  // x past a sequence's length is never read: its gradient is exactly 0.
  if (k.lengths) {
    bool zero = true;
    for (int t = 0; t < k.T; ++t)
      for (int b = 0; b < k.B; ++b) {
        if (t < p.d.lengths[b]) continue;
        const size_t row = k.batch_first ? (size_t)b * k.T + t : (size_t)t * k.B + b;
        for (int i = 0; i < k.cfg.input_size; ++i) zero &= g.dx[row * k.cfg.input_size + i] == 0.0f;
      }
    CHECK_MSG(zero, "dx is not 0 at steps past a sequence's length");
  }

  const bool kinks = has_kinks(k.cfg);
  const double eps = kinks ? kEpsKink : kEpsSmooth;
  p.force_h0 = p.force_c0 = false;
  const Losses L0{p.loss(), p.loss_ref()};
  Tally t;
  // Parameters: up to kCap random entries of every tensor.
  for (const frnn::ParamEntry& e : frnn::param_layout(k.cfg)) {
    FRNN_SCOPE("param %s layer %d direction %d [%d x %d]", kind_name(e.kind), e.layer, e.direction, e.rows, e.cols);
    std::vector<size_t> idx((size_t)e.rows * e.cols);
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    rng.shuffle(idx);
    idx.resize(std::min(idx.size(), kCap));
    for (size_t i : idx)
      check_entry(p, &p.d.params[e.offset + i], g.dparams[e.offset + i], L0, eps, kinks, t, kind_name(e.kind), i);
  }
  for (size_t i = 0; i < p.d.x.size(); ++i) check_entry(p, &p.d.x[i], g.dx[i], L0, eps, kinks, t, "x", i);
  // States: differentiate through an explicit buffer even when the case passes nullptr
  // (zeros), so the nullptr path's dh0/dc0 are checked too.
  p.force_h0 = true;
  for (size_t i = 0; i < p.h0_buf.size(); ++i) check_entry(p, &p.h0_buf[i], g.dh0[i], L0, eps, kinks, t, "h0", i);
  p.force_h0 = false;
  p.force_c0 = true;
  for (size_t i = 0; i < p.c0_buf.size(); ++i) check_entry(p, &p.c0_buf[i], g.dc0[i], L0, eps, kinks, t, "c0", i);
  p.force_c0 = false;
  frnn_test::detail(frnn_test::fmt("%-52.52s %4zu entries, %3zu forgiven, worst err/tol (F) %.3f (R) %.3f",
                                    k.name.c_str(), t.entries, t.forgiven, t.worst_f, t.worst_r));
  CHECK_MSG(t.forgiven * 4 <= t.entries, "%zu of %zu entries forgiven at kinks", t.forgiven, t.entries);
}

RnnCase small(CellType cell, const char* name) {
  RnnCase k;
  k.cfg = make_config(cell, 2, 3);
  k.T = 3;
  k.B = 2;
  k.name = name;
  return k;
}

// Adds structure: lengths (B = 3), 2 layers, bidirectional, batch_first, h0/c0.
RnnCase structured(RnnCase k) {
  k.name += " +structure";
  k.B = 3;
  k.lengths = true;
  k.cfg.num_layers = 2;
  k.cfg.num_directions = 2;
  k.batch_first = true;
  k.h0 = k.c0 = true;
  return k;
}

std::vector<RnnCase> cases() {
  std::vector<RnnCase> v;
  auto both = [&](const RnnCase& k) {
    v.push_back(k);
    v.push_back(structured(k));
  };
  // LSTM options, one at a time, then each with lengths + 2 layers + bidirectional + batch_first.
  RnnCase k = small(CellType::kLstm, "plain");
  both(k);
  k = small(CellType::kLstm, "peephole"), k.cfg.peephole = true, k.c0 = true, both(k);
  k = small(CellType::kLstm, "projection"), k.cfg.proj_size = 2, k.h0 = true, both(k);
  k = small(CellType::kLstm, "input_forget"), k.cfg.input_forget = true, both(k);
  k = small(CellType::kLstm, "gate_clip"), k.cfg.gate_clip = 0.5f, both(k);
  k = small(CellType::kLstm, "cell_clip"), k.cfg.cell_clip = 0.3f, k.c0 = true, both(k);
  k = small(CellType::kLstm, "forget_bias"), k.cfg.forget_bias = 1.0f, both(k);
  k = small(CellType::kLstm, "no bias reverse"), k.cfg.bias = false, k.cfg.reverse = true, k.lengths = true;
  k.B = 3, v.push_back(k);
  // Non-default activations (ONNX f, g, h), different in each direction.
  k = small(CellType::kLstm, "hardSigmoid/leakyRelu/elu | sigmoid/softplus/softsign");
  k.cfg.num_directions = 2, k.lengths = true, k.B = 3;
  k.cfg.act[0][0] = act(ActKind::kHardSigmoid, 0.2f, 0.5f), k.cfg.act[0][1] = act(ActKind::kLeakyRelu, 0.1f);
  k.cfg.act[0][2] = act(ActKind::kElu, 0.7f);
  k.cfg.act[1][1] = act(ActKind::kSoftplus), k.cfg.act[1][2] = act(ActKind::kSoftsign), v.push_back(k);
  k = small(CellType::kLstm, "affine/scaledTanh/elu(1)");
  k.cfg.act[0][0] = act(ActKind::kAffine, 0.3f, 0.5f), k.cfg.act[0][1] = act(ActKind::kScaledTanh, 0.8f, 1.3f);
  k.cfg.act[0][2] = act(ActKind::kElu, 1.0f), both(k);
  k = small(CellType::kLstm, "all LSTM options");
  k.cfg.peephole = k.cfg.input_forget = true, k.cfg.proj_size = 2, k.cfg.gate_clip = 0.9f, k.cfg.cell_clip = 0.5f;
  k.cfg.forget_bias = 0.5f, v.push_back(structured(k));
  k = small(CellType::kLstm, "peephole projection no input_forget");
  k.cfg.peephole = true, k.cfg.proj_size = 1, v.push_back(structured(k));
  // GRU, both forms.
  for (bool ra : {true, false}) {
    k = small(CellType::kGru, ra ? "reset_after" : "reset_before"), k.cfg.reset_after = ra, both(k);
    k.name += " gate_clip", k.cfg.gate_clip = 0.5f, both(k);
    k = small(CellType::kGru, ra ? "reset_after softsign/hardSigmoid" : "reset_before softsign/hardSigmoid");
    k.cfg.reset_after = ra, k.cfg.act[0][0] = act(ActKind::kHardSigmoid, 0.2f, 0.5f);
    k.cfg.act[0][1] = act(ActKind::kSoftsign), k.cfg.bias = false, k.h0 = true, v.push_back(k);
  }
  // RNN.
  k = small(CellType::kRnn, "tanh"), both(k);
  k = small(CellType::kRnn, "relu"), k.cfg.act[0][0] = k.cfg.act[1][0] = act(ActKind::kRelu), both(k);
  k = small(CellType::kRnn, "reverse gate_clip"), k.cfg.reverse = true, k.cfg.gate_clip = 0.4f, k.lengths = true;
  k.B = 3, v.push_back(k);
  return v;
}

FRNN_TEST(backward_matches_central_differences) {
  uint64_t seed = 500;
  for (const RnnCase& k : cases()) gradcheck(k, seed++);
}

// The same over random combinations of every option (rnn_case.h random_case, tiny sizes).
FRNN_TEST(backward_matches_central_differences_random) {
  Rng rng(77);
  for (int i = 0; i < 40; ++i) gradcheck(frnn_test::random_case(rng, true), 2000 + i);
}

// backward ACCUMULATES into dparams (from any starting value, twice = double) and WRITES
// dx, dh0, dc0 (same bits on a repeat call).
FRNN_TEST(backward_accumulates_dparams) {
  uint64_t seed = 900;
  std::vector<RnnCase> ks;
  for (CellType cell : {CellType::kLstm, CellType::kGru, CellType::kRnn}) ks.push_back(structured(small(cell, "accumulate")));
  RnnCase k = structured(small(CellType::kLstm, "accumulate peephole projection"));
  k.cfg.peephole = true, k.cfg.proj_size = 1, ks.push_back(k);
  for (const RnnCase& kase : ks) {
    Rng rng(seed++);
    Problem p(kase, rng);
    FRNN_SCOPE("%s", frnn_test::describe(p.k, p.d.lengths).c_str());
    frnn_test::count_case();
    const size_t n = p.d.params.size();
    Grads once, twice, from_p0;
    if (!analytic(p, once, std::vector<float>(n, 0.0f))) continue;
    if (!analytic(p, twice, once.dparams)) continue;
    const std::vector<float> p0 = rng.vec(n, -3.0f, 3.0f);
    if (!analytic(p, from_p0, p0)) continue;
    std::vector<double> want2(n), want_p0(n);
    for (size_t i = 0; i < n; ++i) {
      want2[i] = 2.0 * once.dparams[i];
      want_p0[i] = (double)p0[i] + once.dparams[i];
    }
    const double scale = frnn_test::max_abs(want2.data(), n, 1.0);
    CHECK_ALL_CLOSE(twice.dparams.data(), want2.data(), n, 1e-5 * scale);
    CHECK_ALL_CLOSE(from_p0.dparams.data(), want_p0.data(), n, 1e-5 * (scale + 3.0));
    CHECK_MSG(same_bits(once.dx, twice.dx) && same_bits(once.dh0, twice.dh0) && same_bits(once.dc0, twice.dc0),
              "dx/dh0/dc0 changed on a second backward: they must be written, not accumulated");
  }
}

// nullptr upstream gradients mean zeros; nullptr dx/dh0/dc0 are allowed.
FRNN_TEST(backward_null_arguments) {
  uint64_t seed = 950;
  for (CellType cell : {CellType::kLstm, CellType::kGru, CellType::kRnn}) {
    Rng rng(seed++);
    Problem p(structured(small(cell, "null arguments")), rng);
    const RnnCase& k = p.k;
    FRNN_SCOPE("%s", frnn_test::describe(k, p.d.lengths).c_str());
    frnn_test::count_case();
    const frnn::SeqDims dims = k.dims();
    std::vector<float> y(k.y_size()), hN(k.h_size()), cN(k.c_size()), saved(frnn::saved_size(k.cfg, dims));
    CHECK_OK(frnn::forward(k.cfg, p.d.params.data(), dims, p.d.x.data(), p.d.len_ptr(), p.h0(), p.c0(), y.data(),
                           hN.data(), k.lstm() ? cN.data() : nullptr, saved.data()));
    const size_t n = p.d.params.size();
    auto run = [&](const float* dy, const float* dhN, const float* dcN, bool outs, std::vector<float>& dparams,
                   std::vector<float>& dx) {
      dparams.assign(n, 0.0f);
      dx.assign(k.x_size(), frnn_test::qnan());
      std::vector<float> dh0(k.h_size()), dc0(k.c_size());
      return frnn::backward(k.cfg, p.d.params.data(), dims, p.d.x.data(), p.d.len_ptr(), p.h0(), p.c0(), saved.data(),
                            dy, dhN, dcN, outs ? dx.data() : nullptr, outs ? dh0.data() : nullptr,
                            outs && k.lstm() ? dc0.data() : nullptr, dparams.data());
    };
    std::vector<float> dp_null, dx_null, dp_zero, dx_zero, dp_y, dx_y, dp_y0, dx_y0, dp_noout, dx_noout;
    const std::vector<float> zh(k.h_size(), 0.0f), zc(k.c_size(), 0.0f), zy(k.y_size(), 0.0f);
    CHECK_OK(run(nullptr, nullptr, nullptr, true, dp_null, dx_null));
    CHECK_OK(run(zy.data(), zh.data(), k.lstm() ? zc.data() : nullptr, true, dp_zero, dx_zero));
    CHECK_MSG(dp_null == dp_zero && dx_null == dx_zero, "nullptr upstream gradients differ from zero buffers");
    CHECK_MSG(std::all_of(dp_null.begin(), dp_null.end(), [](float v) { return v == 0.0f; }) &&
                  std::all_of(dx_null.begin(), dx_null.end(), [](float v) { return v == 0.0f; }),
              "zero upstream gradients give non-zero gradients");
    CHECK_OK(run(p.gy.data(), nullptr, nullptr, true, dp_y, dx_y));
    CHECK_OK(run(p.gy.data(), zh.data(), k.lstm() ? zc.data() : nullptr, true, dp_y0, dx_y0));
    CHECK_MSG(dp_y == dp_y0 && dx_y == dx_y0, "dhN = dcN = nullptr differs from zero buffers");
    CHECK_OK(run(p.gy.data(), nullptr, nullptr, false, dp_noout, dx_noout));
    CHECK_MSG(dp_noout == dp_y, "dparams changes when dx/dh0/dc0 are nullptr");
  }
}

// fused_rnn.h: "results are bitwise identical for any [thread] count" (work is split by
// output, in hidden blocks, never by a reduction: K is never split). Forward and backward
// with 2 and 3 threads against 1 thread, at sizes where every thread gets a block.
FRNN_TEST(threads_give_identical_bits) {
  const int threads0 = frnn::num_threads();
  std::vector<RnnCase> ks;
  RnnCase k = structured(small(CellType::kLstm, "threads LSTM"));
  k.cfg.input_size = 5, k.cfg.hidden_size = 40, k.T = 3, k.B = 6, ks.push_back(k);
  k.name = "threads LSTM peephole projection", k.cfg.peephole = true, k.cfg.proj_size = 17, k.cfg.num_layers = 1;
  ks.push_back(k);
  k = structured(small(CellType::kGru, "threads GRU reset_before"));
  k.cfg.reset_after = false, k.cfg.input_size = 4, k.cfg.hidden_size = 33, k.T = 3, k.B = 5, k.cfg.num_layers = 1;
  ks.push_back(k);
  k.name = "threads GRU reset_after", k.cfg.reset_after = true, ks.push_back(k);
  // Fused forward steps (H a multiple of every NR), backward strips split by hidden units.
  k = structured(small(CellType::kLstm, "threads LSTM fused step"));
  k.cfg.input_size = 5, k.cfg.hidden_size = 64, k.T = 3, k.B = 11, k.cfg.num_layers = 1, ks.push_back(k);
  k.name = "threads GRU fused step", k.cfg.cell = CellType::kGru, ks.push_back(k);
  k = small(CellType::kLstm, "threads LSTM fused step, one direction");  // threads share a direction
  k.cfg.input_size = 5, k.cfg.hidden_size = 64, k.B = 11, ks.push_back(k);
  k.name = "threads GRU fused step, one direction", k.cfg.cell = CellType::kGru, ks.push_back(k);
  k = structured(small(CellType::kRnn, "threads RNN"));
  k.cfg.hidden_size = 50, k.T = 3, k.B = 7, k.cfg.num_layers = 1, ks.push_back(k);
  uint64_t seed = 990;
  for (const RnnCase& kase : ks) {
    Rng rng(seed++);
    Problem p(kase, rng);
    FRNN_SCOPE("%s", frnn_test::describe(p.k, p.d.lengths).c_str());
    frnn_test::count_case();
    struct Run {
      std::vector<float> y, hN, cN;
      Grads g;
    };
    auto run = [&](int nth) {
      frnn::set_num_threads(nth);
      const RnnCase& c = p.k;
      Run r;
      r.y.assign(c.y_size(), 0.0f), r.hN.assign(c.h_size(), 0.0f), r.cN.assign(c.c_size(), 0.0f);
      CHECK_OK(frnn::forward(c.cfg, p.d.params.data(), c.dims(), p.d.x.data(), p.d.len_ptr(), p.h0(), p.c0(),
                             r.y.data(), r.hN.data(), c.lstm() ? r.cN.data() : nullptr, nullptr));
      analytic(p, r.g, std::vector<float>(p.d.params.size(), 0.0f));
      return r;
    };
    const Run one = run(1);
    for (int nth : {2, 3}) {
      const Run many = run(nth);
      CHECK_MSG(same_bits(many.y, one.y) && same_bits(many.hN, one.hN) && same_bits(many.cN, one.cN),
                "forward with %d threads differs", nth);
      CHECK_MSG(same_bits(many.g.dparams, one.g.dparams) && same_bits(many.g.dx, one.g.dx) &&
                    same_bits(many.g.dh0, one.g.dh0) && same_bits(many.g.dc0, one.g.dc0),
                "backward with %d threads differs", nth);
    }
  }
  frnn::set_num_threads(threads0);
}

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("gradcheck_test", argc, argv); }
