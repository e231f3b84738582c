// Optimizers (native/src/optim/optimizers.cc) against a reference written the way torch 1.13
// runs them: one whole-buffer tensor op after another (mul_, add_(alpha), addcmul_, addcdiv_,
// sqrt, maximum), each op rounding to float, fused multiply-adds exactly where ATen's CPU
// kernels fuse them. The fused one-pass loops must give the same bits. Also: grad is never
// written, grad_scale and clip_value act on g before anything else, state names and counts,
// hyper-parameter validation, sum_squares.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "fused_rnn_optim.h"
#include "test_util.h"

namespace {

using frnn::OptimHyper;
using frnn::OptimKind;
using Vec = std::vector<float>;

// ---- torch-style tensor ops on float buffers (the reference) ------------------------------
// Python scalars reach a float32 kernel as float: every scalar argument below is a float.
void mul_(Vec& x, float s) {
  for (float& v : x) v = v * s;
}
Vec add(const Vec& x, const Vec& y, float alpha) {  // x.add(y, alpha=alpha): ATen vec::fmadd(y, alpha, x)
  Vec r(x.size());
  for (size_t i = 0; i < x.size(); ++i) r[i] = std::fma(y[i], alpha, x[i]);
  return r;
}
void add_(Vec& x, const Vec& y, float alpha) { x = add(x, y, alpha); }
void add_scalar_(Vec& x, float s) {
  for (float& v : x) v = v + s;
}
Vec addcmul(const Vec& x, const Vec& y, const Vec& z, float value) {  // x + value*y*z, last step fused
  Vec r(x.size());
  for (size_t i = 0; i < x.size(); ++i) r[i] = std::fma(value * y[i], z[i], x[i]);
  return r;
}
void addcdiv_(Vec& x, const Vec& y, const Vec& z, float value) {  // x + (value*y)/z
  for (size_t i = 0; i < x.size(); ++i) x[i] = x[i] + (value * y[i]) / z[i];
}
Vec sqrt_of(const Vec& x) {
  Vec r(x.size());
  for (size_t i = 0; i < x.size(); ++i) r[i] = std::sqrt(x[i]);
  return r;
}
void div_scalar_(Vec& x, float s) {
  for (float& v : x) v = v / s;
}
void maximum_(Vec& x, const Vec& y) {
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::isnan(x[i]) ? x[i] : std::isnan(y[i]) ? y[i] : (x[i] > y[i] ? x[i] : y[i]);
}

// torch's _single_tensor_<kind> for one parameter; state as optim_state_name() orders it.
// `g` is the gradient after clip_grad_norm_ / clip_grad_value_.
void ref_step(OptimKind kind, const OptimHyper& h, int64_t step, Vec& p, Vec g, std::vector<Vec>& st, bool fresh) {
  switch (kind) {
    case OptimKind::kSgd: {
      if (h.weight_decay != 0) g = add(g, p, float(h.weight_decay));
      if (h.momentum != 0) {
        Vec& buf = st[0];
        if (fresh) {
          buf = g;
        } else {
          mul_(buf, float(h.momentum));
          add_(buf, g, float(1 - h.dampening));
        }
        g = h.nesterov ? add(g, buf, float(h.momentum)) : buf;
      }
      add_(p, g, float(-h.lr));
      break;
    }
    case OptimKind::kAdam:
    case OptimKind::kAdamW: {
      if (kind == OptimKind::kAdamW) mul_(p, float(1 - h.lr * h.weight_decay));
      else if (h.weight_decay != 0) g = add(g, p, float(h.weight_decay));
      Vec &m = st[0], &v = st[1];
      mul_(m, float(h.beta1));
      add_(m, g, float(1 - h.beta1));
      mul_(v, float(h.beta2));
      v = addcmul(v, g, g, float(1 - h.beta2));
      const double bc1 = 1 - std::pow(h.beta1, double(step)), bc2 = 1 - std::pow(h.beta2, double(step));
      const double step_size = h.lr / bc1, bc2_sqrt = std::sqrt(bc2);
      Vec denom;
      if (h.amsgrad) {
        maximum_(st[2], v);
        denom = sqrt_of(st[2]);
      } else {
        denom = sqrt_of(v);
      }
      div_scalar_(denom, float(bc2_sqrt));
      add_scalar_(denom, float(h.eps));
      addcdiv_(p, m, denom, float(-step_size));
      break;
    }
    case OptimKind::kRmsprop: {
      if (h.weight_decay != 0) g = add(g, p, float(h.weight_decay));
      Vec& sq = st[0];
      mul_(sq, float(h.alpha));
      sq = addcmul(sq, g, g, float(1 - h.alpha));
      Vec avg;
      if (h.centered) {
        Vec& ga = st[h.momentum > 0 ? 2 : 1];
        mul_(ga, float(h.alpha));
        add_(ga, g, float(1 - h.alpha));
        avg = sqrt_of(addcmul(sq, ga, ga, -1.0f));
      } else {
        avg = sqrt_of(sq);
      }
      add_scalar_(avg, float(h.eps));
      if (h.momentum > 0) {
        Vec& buf = st[1];
        mul_(buf, float(h.momentum));
        addcdiv_(buf, g, avg, 1.0f);
        add_(p, buf, float(-h.lr));
      } else {
        addcdiv_(p, g, avg, float(-h.lr));
      }
      break;
    }
    case OptimKind::kAdagrad: {
      if (h.weight_decay != 0) g = add(g, p, float(h.weight_decay));
      const double clr = h.lr / (1 + (double(step) - 1) * h.lr_decay);
      st[0] = addcmul(st[0], g, g, 1.0f);
      Vec sd = sqrt_of(st[0]);
      add_scalar_(sd, float(h.eps));
      addcdiv_(p, g, sd, float(-clr));
      break;
    }
    default:
      break;
  }
}

struct Case {
  const char* name;
  OptimKind kind;
  OptimHyper h;
};

std::vector<Case> cases() {
  std::vector<Case> cs;
  auto add_case = [&](const char* name, OptimKind kind, auto&& set) {
    OptimHyper h;
    set(h);
    cs.push_back({name, kind, h});
  };
  add_case("sgd", OptimKind::kSgd, [](OptimHyper& h) { h.lr = 0.1; });
  add_case("sgd_wd", OptimKind::kSgd, [](OptimHyper& h) { h.lr = 0.1, h.weight_decay = 0.01; });
  add_case("sgd_momentum", OptimKind::kSgd, [](OptimHyper& h) { h.lr = 0.05, h.momentum = 0.9; });
  add_case("sgd_dampening", OptimKind::kSgd, [](OptimHyper& h) { h.lr = 0.05, h.momentum = 0.8, h.dampening = 0.3, h.weight_decay = 0.02; });
  add_case("sgd_nesterov", OptimKind::kSgd, [](OptimHyper& h) { h.lr = 0.05, h.momentum = 0.9, h.nesterov = true; });
  add_case("adam", OptimKind::kAdam, [](OptimHyper&) {});
  add_case("adam_wd", OptimKind::kAdam, [](OptimHyper& h) { h.lr = 0.01, h.beta1 = 0.8, h.beta2 = 0.95, h.eps = 1e-6, h.weight_decay = 0.05; });
  add_case("adam_amsgrad", OptimKind::kAdam, [](OptimHyper& h) { h.lr = 0.02, h.amsgrad = true; });
  add_case("adamw", OptimKind::kAdamW, [](OptimHyper& h) { h.weight_decay = 0.01; });
  add_case("adamw_amsgrad", OptimKind::kAdamW, [](OptimHyper& h) { h.lr = 0.01, h.weight_decay = 0.1, h.amsgrad = true; });
  add_case("rmsprop", OptimKind::kRmsprop, [](OptimHyper& h) { h.lr = 0.01; });
  add_case("rmsprop_momentum_wd", OptimKind::kRmsprop, [](OptimHyper& h) { h.lr = 0.005, h.alpha = 0.9, h.momentum = 0.7, h.weight_decay = 0.01; });
  add_case("rmsprop_centered", OptimKind::kRmsprop, [](OptimHyper& h) { h.lr = 0.003, h.centered = true; });
  add_case("rmsprop_centered_momentum", OptimKind::kRmsprop, [](OptimHyper& h) { h.lr = 0.003, h.centered = true, h.momentum = 0.5; });
  add_case("adagrad", OptimKind::kAdagrad, [](OptimHyper& h) { h.lr = 0.01, h.eps = 1e-10; });
  add_case("adagrad_all", OptimKind::kAdagrad, [](OptimHyper& h) { h.lr = 0.05, h.lr_decay = 0.1, h.weight_decay = 0.01, h.initial_accumulator_value = 0.1; });
  return cs;
}

std::vector<float*> ptrs(std::vector<Vec>& st) {
  std::vector<float*> p;
  for (Vec& v : st) p.push_back(v.data());
  return p;
}

// Fused steps against the tensor-op reference over `steps` updates, same bits required.
void check_against_ref(const Case& c, size_t n, float grad_scale, float clip_value, int steps) {
  FRNN_SCOPE("%s n=%zu grad_scale=%g clip_value=%g", c.name, n, (double)grad_scale, (double)clip_value);
  frnn_test::count_case();
  frnn_test::Rng rng(n * 131 + 7);
  const size_t ns = frnn::optim_state_count(c.kind, c.h);
  Vec p = rng.vec(n, -1.5f, 1.5f), p_ref = p;
  std::vector<Vec> st(ns, Vec(n)), st_ref;
  std::vector<float*> sp = ptrs(st);
  frnn::optim_init_state(c.kind, c.h, sp.data(), n);
  st_ref = st;
  const bool clamp = clip_value > 0 && std::isfinite(clip_value);
  for (int t = 1; t <= steps; ++t) {
    FRNN_SCOPE("step %d", t);
    const Vec grad = rng.vec(n, -2.0f, 2.0f);
    const Vec grad_copy = grad;
    Vec g = grad;  // clip_grad_norm_'s g.mul_(coef), then clip_grad_value_'s clamp_
    for (float& v : g) {
      v = v * grad_scale;
      if (clamp) v = std::fmin(std::fmax(v, -clip_value), clip_value);
    }
    frnn::optim_step(c.kind, c.h, t, p.data(), grad.data(), sp.data(), n, grad_scale, clip_value);
    ref_step(c.kind, c.h, t, p_ref, g, st_ref, t == 1);
    CHECK(frnn_test::same_bits(grad, grad_copy));  // grad is read only
    CHECK_MSG(frnn_test::same_bits(p, p_ref), "param differs from the tensor-op reference");
    for (size_t k = 0; k < ns; ++k) CHECK_MSG(frnn_test::same_bits(st[k], st_ref[k]), "state %s differs", frnn::optim_state_name(c.kind, c.h, k));
  }
}

FRNN_TEST(every_optimizer_matches_the_tensor_op_reference_bitwise) {
  for (const Case& c : cases())
    for (size_t n : {size_t(0), size_t(1), size_t(37), size_t(200)}) check_against_ref(c, n, 1.0f, 0.0f, 5);
}

FRNN_TEST(grad_scale_and_clip_value_apply_to_g_first) {
  for (const Case& c : cases()) {
    check_against_ref(c, 37, 0.37f, 0.0f, 4);                                       // norm clip coefficient
    check_against_ref(c, 37, 1.0f, 0.5f, 4);                                        // value clip
    check_against_ref(c, 37, 0.8f, 0.25f, 4);                                       // both
    check_against_ref(c, 37, 1.0f, std::numeric_limits<float>::infinity(), 2);     // inf: no clamp
    check_against_ref(c, 37, 1.0f, -1.0f, 2);                                       // <= 0: no clamp
  }
}

// Stepping with grad_scale s and clip c equals stepping with a gradient already scaled and clamped.
FRNN_TEST(clipping_on_the_fly_equals_clipping_the_gradient) {
  OptimHyper h;
  h.lr = 0.01;
  frnn_test::Rng rng(3);
  const size_t n = 64;
  const Vec p0 = rng.vec(n, -1, 1), grad = rng.vec(n, -5, 5);
  Vec clipped = grad;
  for (float& v : clipped) v = std::fmin(std::fmax(v * 0.5f, -1.0f), 1.0f);
  Vec p1 = p0, p2 = p0;
  std::vector<Vec> s1(2, Vec(n)), s2(2, Vec(n));
  std::vector<float*> sp1 = ptrs(s1), sp2 = ptrs(s2);
  frnn::optim_step(OptimKind::kAdam, h, 1, p1.data(), grad.data(), sp1.data(), n, 0.5f, 1.0f);
  frnn::optim_step(OptimKind::kAdam, h, 1, p2.data(), clipped.data(), sp2.data(), n, 1.0f, 0.0f);
  frnn_test::count_case();
  CHECK(frnn_test::same_bits(p1, p2));
  CHECK(frnn_test::same_bits(s1[1], s2[1]));
}

// SGD with momentum: the first update of a fresh buffer copies g (torch's `buf is None`), so
// dampening does not apply to it; later updates dampen. fresh_state makes it explicit.
FRNN_TEST(sgd_momentum_buffer_starts_as_g) {
  OptimHyper h;
  h.lr = 1.0, h.momentum = 0.9, h.dampening = 0.5;
  const Vec grad = {2.0f, -4.0f};
  Vec p = {0.0f, 0.0f}, buf = {0.0f, 0.0f};
  float* sp[1] = {buf.data()};
  frnn::optim_step(OptimKind::kSgd, h, 1, p.data(), grad.data(), sp, 2, 1.0f, 0.0f);
  frnn_test::count_case();
  CHECK_EQ(buf[0], 2.0f);
  CHECK_EQ(p[1], 4.0f);
  frnn::optim_step(OptimKind::kSgd, h, 2, p.data(), grad.data(), sp, 2, 1.0f, 0.0f);
  CHECK_EQ(buf[0], std::fma(2.0f, 0.5f, 2.0f * 0.9f));  // 0.9*2 + 0.5*2
  // A buffer created at step 7 (a parameter seen for the first time) also starts as g.
  Vec buf2 = {123.0f, 456.0f};
  float* sp2[1] = {buf2.data()};
  frnn::optim_step(OptimKind::kSgd, h, 7, p.data(), grad.data(), sp2, 2, 1.0f, 0.0f, true);
  CHECK_EQ(buf2[1], -4.0f);
}

FRNN_TEST(state_names_and_counts) {
  OptimHyper h;
  frnn_test::count_case();
  CHECK_EQ(frnn::optim_state_count(OptimKind::kSgd, h), size_t(0));
  h.momentum = 0.9;
  CHECK_EQ(frnn::optim_state_count(OptimKind::kSgd, h), size_t(1));
  CHECK_EQ(std::string(frnn::optim_state_name(OptimKind::kSgd, h, 0)), std::string("momentum_buffer"));
  CHECK_EQ(frnn::optim_state_count(OptimKind::kAdam, h), size_t(2));
  h.amsgrad = true;
  CHECK_EQ(frnn::optim_state_count(OptimKind::kAdamW, h), size_t(3));
  CHECK_EQ(std::string(frnn::optim_state_name(OptimKind::kAdamW, h, 2)), std::string("max_exp_avg_sq"));
  CHECK_EQ(frnn::optim_state_count(OptimKind::kRmsprop, h), size_t(2));  // square_avg, momentum_buffer
  h.centered = true;
  CHECK_EQ(frnn::optim_state_count(OptimKind::kRmsprop, h), size_t(3));
  CHECK_EQ(std::string(frnn::optim_state_name(OptimKind::kRmsprop, h, 2)), std::string("grad_avg"));
  h.momentum = 0;
  CHECK_EQ(std::string(frnn::optim_state_name(OptimKind::kRmsprop, h, 1)), std::string("grad_avg"));
  CHECK_EQ(frnn::optim_state_count(OptimKind::kAdagrad, h), size_t(1));
  CHECK(frnn::optim_state_name(OptimKind::kAdagrad, h, 1) == nullptr);

  h.initial_accumulator_value = 0.25;
  Vec sum(5, -1.0f);
  float* sp[1] = {sum.data()};
  frnn::optim_init_state(OptimKind::kAdagrad, h, sp, sum.size());
  for (float v : sum) CHECK_EQ(v, 0.25f);
}

FRNN_TEST(validate_optim_names_the_field) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  OptimHyper ok;
  frnn_test::count_case();
  for (int k = 0; k < int(OptimKind::kCount); ++k) CHECK_OK(frnn::validate_optim(OptimKind(k), ok));
  OptimHyper h = ok;
  h.lr = -1;
  CHECK_ERROR(frnn::validate_optim(OptimKind::kAdam, h), "lr");
  h = ok, h.lr = nan;
  CHECK_ERROR(frnn::validate_optim(OptimKind::kSgd, h), "finite number for lr");
  h = ok, h.beta2 = 1.0;
  CHECK_ERROR(frnn::validate_optim(OptimKind::kAdamW, h), "betas[1]");
  h = ok, h.eps = -1e-8;
  CHECK_ERROR(frnn::validate_optim(OptimKind::kRmsprop, h), "eps");
  h = ok, h.weight_decay = std::numeric_limits<double>::infinity();
  CHECK_ERROR(frnn::validate_optim(OptimKind::kAdagrad, h), "weightDecay");
  h = ok, h.nesterov = true;
  CHECK_ERROR(frnn::validate_optim(OptimKind::kSgd, h), "nesterov");
  h.momentum = 0.9;
  CHECK_OK(frnn::validate_optim(OptimKind::kSgd, h));
  h.dampening = 0.1;
  CHECK_ERROR(frnn::validate_optim(OptimKind::kSgd, h), "nesterov");
  CHECK_ERROR(frnn::validate_optim(OptimKind::kCount, ok), "kind");
}

FRNN_TEST(sum_squares_is_float64_and_deterministic) {
  frnn_test::Rng rng(11);
  for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(9), size_t(1001)}) {
    FRNN_SCOPE("n=%zu", n);
    frnn_test::count_case();
    const Vec x = rng.vec(n, -3, 3);
    double want = 0;
    for (float v : x) want += double(v) * double(v);
    const double got = frnn::sum_squares(x.data(), n);
    CHECK_NEAR(got, want, 1e-13 * (want + 1));
    CHECK_EQ(frnn::sum_squares(x.data(), n), got);
  }
  // Beyond float32's range per element squared: float64 does not overflow.
  const Vec big = {3e30f, 4e30f};
  const double want = std::sqrt(double(big[0]) * big[0] + double(big[1]) * big[1]);
  CHECK(std::isfinite(want));
  CHECK_NEAR(std::sqrt(frnn::sum_squares(big.data(), 2)), want, 1e-15 * want);
}

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("optim_test", argc, argv); }
