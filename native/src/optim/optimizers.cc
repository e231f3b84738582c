// SGD, Adam, AdamW, RMSprop, Adagrad: one pass over a parameter buffer per update.
//
// Each loop body is torch 1.13's _single_tensor_<name>() read element by element; the torch line
// is quoted beside each statement. Rules that make the bits agree (see fused_rnn_optim.h):
//   * a Python float reaching a float32 kernel is rounded to float once (the f_* locals);
//   * `x.add(y, alpha=a)` is fma(y, a, x) (ATen's vectorised add is vec::fmadd);
//   * `x.addcmul(y, z, value=c)` is fma(c*y, z, x) (GCC contracts ATen's `x + c*y*z`);
//   * `x.addcdiv(y, z, value=c)` is x + (c*y)/z, in that order;
//   * `torch.maximum` propagates NaN.
// The file builds with -ffp-contract=off like every other, so nothing else is fused.
// It is memory bound: plain loops, no SIMD intrinsics.
#include <algorithm>
#include <cmath>
#include <string>

#include "fused_rnn_optim.h"

namespace frnn {
namespace {

// g = grad * scale, clamped to [-clip, clip] when clip is on (NaN passes through, as in torch's clamp_).
struct GradIn {
  const float* grad;
  float scale;
  float clip;
  bool clamp;
  float operator()(size_t i) const {
    float g = grad[i] * scale;
    if (clamp) g = std::min(std::max(g, -clip), clip);
    return g;
  }
};

inline float maximum_nan(float a, float b) {  // torch.maximum: NaN wins
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  return a > b ? a : b;
}

// torch/optim/sgd.py _single_tensor_sgd
void sgd(const OptimHyper& h, float* p, const GradIn& gin, float* const* st, size_t n, bool fresh) {
  const bool wd = h.weight_decay != 0, mom = h.momentum != 0;
  const float f_wd = float(h.weight_decay), f_mu = float(h.momentum);
  const float f_one_minus_damp = float(1.0 - h.dampening), f_neg_lr = float(-h.lr);
  float* buf = mom ? st[0] : nullptr;
  for (size_t i = 0; i < n; ++i) {
    float g = gin(i);
    if (wd) g = std::fma(p[i], f_wd, g);  // d_p = d_p.add(param, alpha=weight_decay)
    if (mom) {
      if (fresh)
        buf[i] = g;  // buf = torch.clone(d_p)
      else
        buf[i] = std::fma(g, f_one_minus_damp, buf[i] * f_mu);  // buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
      g = h.nesterov ? std::fma(buf[i], f_mu, g) : buf[i];  // d_p = d_p.add(buf, alpha=momentum) / d_p = buf
    }
    p[i] = std::fma(g, f_neg_lr, p[i]);  // param.add_(d_p, alpha=-lr)
  }
}

// torch/optim/adam.py _single_tensor_adam and adamw.py _single_tensor_adamw (capturable=False)
void adam(const OptimHyper& h, bool decoupled, int64_t step, float* p, const GradIn& gin, float* const* st,
          size_t n) {
  const double t = double(step);
  const double bias_correction1 = 1 - std::pow(h.beta1, t);
  const double bias_correction2 = 1 - std::pow(h.beta2, t);
  const double step_size = h.lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  const bool l2 = !decoupled && h.weight_decay != 0;
  const float f_wd = float(h.weight_decay), f_decay = float(1 - h.lr * h.weight_decay);
  const float f_b1 = float(h.beta1), f_1mb1 = float(1 - h.beta1);
  const float f_b2 = float(h.beta2), f_1mb2 = float(1 - h.beta2);
  const float f_bc2_sqrt = float(bias_correction2_sqrt), f_eps = float(h.eps), f_neg_step = float(-step_size);
  float* m = st[0];
  float* v = st[1];
  float* vmax = h.amsgrad ? st[2] : nullptr;
  for (size_t i = 0; i < n; ++i) {
    float g = gin(i);
    if (decoupled) p[i] = p[i] * f_decay;  // param.mul_(1 - lr * weight_decay)
    if (l2) g = std::fma(p[i], f_wd, g);  // grad = grad.add(param, alpha=weight_decay)
    m[i] = std::fma(g, f_1mb1, m[i] * f_b1);  // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    v[i] = std::fma(f_1mb2 * g, g, v[i] * f_b2);  // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    float vv = v[i];
    if (vmax) vv = vmax[i] = maximum_nan(vmax[i], v[i]);  // torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=...)
    const float denom = std::sqrt(vv) / f_bc2_sqrt + f_eps;  // (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    p[i] = p[i] + (f_neg_step * m[i]) / denom;  // param.addcdiv_(exp_avg, denom, value=-step_size)
  }
}

// torch/optim/rmsprop.py _single_tensor_rmsprop
void rmsprop(const OptimHyper& h, float* p, const GradIn& gin, float* const* st, size_t n) {
  const bool wd = h.weight_decay != 0, mom = h.momentum > 0;
  const float f_wd = float(h.weight_decay), f_alpha = float(h.alpha), f_1ma = float(1 - h.alpha);
  const float f_eps = float(h.eps), f_mu = float(h.momentum), f_neg_lr = float(-h.lr);
  float* sq = st[0];
  float* buf = mom ? st[1] : nullptr;
  float* ga = h.centered ? st[mom ? 2 : 1] : nullptr;
  for (size_t i = 0; i < n; ++i) {
    float g = gin(i);
    if (wd) g = std::fma(p[i], f_wd, g);  // grad = grad.add(param, alpha=weight_decay)
    sq[i] = std::fma(f_1ma * g, g, sq[i] * f_alpha);  // square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
    float avg;
    if (ga) {
      ga[i] = std::fma(g, f_1ma, ga[i] * f_alpha);  // grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
      avg = std::sqrt(std::fma(-ga[i], ga[i], sq[i]));  // square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
    } else {
      avg = std::sqrt(sq[i]);  // square_avg.sqrt()
    }
    avg = avg + f_eps;  // avg.add_(eps)
    if (buf) {
      buf[i] = buf[i] * f_mu + g / avg;  // buf.mul_(momentum).addcdiv_(grad, avg)
      p[i] = std::fma(buf[i], f_neg_lr, p[i]);  // param.add_(buf, alpha=-lr)
    } else {
      p[i] = p[i] + (f_neg_lr * g) / avg;  // param.addcdiv_(grad, avg, value=-lr)
    }
  }
}

// torch/optim/adagrad.py _single_tensor_adagrad (dense gradients)
void adagrad(const OptimHyper& h, int64_t step, float* p, const GradIn& gin, float* const* st, size_t n) {
  const double clr = h.lr / (1 + (double(step) - 1) * h.lr_decay);  // clr = lr / (1 + (step - 1) * lr_decay)
  const bool wd = h.weight_decay != 0;
  const float f_wd = float(h.weight_decay), f_eps = float(h.eps), f_neg_clr = float(-clr);
  float* sum = st[0];
  for (size_t i = 0; i < n; ++i) {
    float g = gin(i);
    if (wd) g = std::fma(p[i], f_wd, g);  // grad = grad.add(param, alpha=weight_decay)
    sum[i] = std::fma(g, g, sum[i]);  // state_sum.addcmul_(grad, grad, value=1)
    const float std_ = std::sqrt(sum[i]) + f_eps;  // std = state_sum.sqrt().add_(eps)
    p[i] = p[i] + (f_neg_clr * g) / std_;  // param.addcdiv_(grad, std, value=-clr)
  }
}

bool finite(double x) { return std::isfinite(x); }

}  // namespace

const char* optim_kind_name(OptimKind kind) {
  switch (kind) {
    case OptimKind::kSgd: return "sgd";
    case OptimKind::kAdam: return "adam";
    case OptimKind::kAdamW: return "adamw";
    case OptimKind::kRmsprop: return "rmsprop";
    case OptimKind::kAdagrad: return "adagrad";
    default: return "unknown";
  }
}

const char* optim_state_name(OptimKind kind, const OptimHyper& h, size_t index) {
  const char* names[3] = {nullptr, nullptr, nullptr};
  size_t k = 0;
  switch (kind) {
    case OptimKind::kSgd:
      if (h.momentum != 0) names[k++] = "momentum_buffer";
      break;
    case OptimKind::kAdam:
    case OptimKind::kAdamW:
      names[k++] = "exp_avg";
      names[k++] = "exp_avg_sq";
      if (h.amsgrad) names[k++] = "max_exp_avg_sq";
      break;
    case OptimKind::kRmsprop:
      names[k++] = "square_avg";
      if (h.momentum > 0) names[k++] = "momentum_buffer";
      if (h.centered) names[k++] = "grad_avg";
      break;
    case OptimKind::kAdagrad:
      names[k++] = "sum";
      break;
    default:
      break;
  }
  return index < k ? names[index] : nullptr;
}

size_t optim_state_count(OptimKind kind, const OptimHyper& h) {
  size_t k = 0;
  while (optim_state_name(kind, h, k) != nullptr) ++k;
  return k;
}

Status validate_optim(OptimKind kind, const OptimHyper& h) {
  if (!(static_cast<int32_t>(kind) >= 0 && kind < OptimKind::kCount)) return Status::Error("Expected a known optimizer kind");
  struct Field {
    const char* name;
    double value;
    bool non_negative;  // torch's constructors refuse < 0 (dampening may be anything; betas: below)
  };
  const Field fields[] = {{"lr", h.lr, true},
                          {"momentum", h.momentum, true},
                          {"dampening", h.dampening, false},
                          {"weightDecay", h.weight_decay, true},
                          {"betas[0]", h.beta1, false},
                          {"betas[1]", h.beta2, false},
                          {"eps", h.eps, true},
                          {"alpha", h.alpha, true},
                          {"lrDecay", h.lr_decay, true},
                          {"initialAccumulatorValue", h.initial_accumulator_value, true}};
  for (const Field& f : fields) {
    if (!finite(f.value)) return Status::Error(std::string("Expected finite number for ") + f.name);
    if (f.non_negative && f.value < 0) return Status::Error(std::string("Expected finite number >= 0 for ") + f.name);
  }
  if (kind == OptimKind::kAdam || kind == OptimKind::kAdamW) {
    if (!(h.beta1 >= 0 && h.beta1 < 1)) return Status::Error("Expected number in [0, 1) for betas[0]");
    if (!(h.beta2 >= 0 && h.beta2 < 1)) return Status::Error("Expected number in [0, 1) for betas[1]");
  }
  if (kind == OptimKind::kSgd && h.nesterov && (h.momentum <= 0 || h.dampening != 0))
    return Status::Error("Expected momentum > 0 and dampening 0 for nesterov");
  return Status::Ok();
}

void optim_init_state(OptimKind kind, const OptimHyper& h, float* const* state, size_t n) {
  const size_t count = optim_state_count(kind, h);
  const float init = kind == OptimKind::kAdagrad ? float(h.initial_accumulator_value) : 0.0f;
  for (size_t s = 0; s < count; ++s) std::fill(state[s], state[s] + n, init);
}

void optim_step(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad,
                float* const* state, size_t n, float grad_scale, float clip_value, bool fresh_state) {
  const GradIn gin{grad, grad_scale, clip_value, clip_value > 0 && std::isfinite(clip_value)};
  switch (kind) {
    case OptimKind::kSgd: sgd(h, param, gin, state, n, fresh_state); break;
    case OptimKind::kAdam: adam(h, false, step, param, gin, state, n); break;
    case OptimKind::kAdamW: adam(h, true, step, param, gin, state, n); break;
    case OptimKind::kRmsprop: rmsprop(h, param, gin, state, n); break;
    case OptimKind::kAdagrad: adagrad(h, step, param, gin, state, n); break;
    default: break;
  }
}

void optim_step(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad,
                float* const* state, size_t n, float grad_scale, float clip_value) {
  optim_step(kind, h, step, param, grad, state, n, grad_scale, clip_value, step == 1);
}

double sum_squares(const float* x, size_t n) {
  // Eight partial sums (lane j takes i = j mod 8), added pairwise at the end: a fixed order the
  // compiler can keep in vector registers without reassociating anything.
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j) {
      const double v = x[i + j];
      acc[j] += v * v;
    }
  for (size_t j = 0; i < n; ++i, ++j) {
    const double v = x[i];
    acc[j] += v * v;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace frnn
