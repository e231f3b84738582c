// The update loops of every optimizer, for optimizers.cc (baseline flags) and
// optim_update_{avx2,avx512}.cc (compiled with FMA: std::fma inlines and the loops vectorise).
// Everything here has internal linkage, so each ISA's copy stays its own.
//
// Each loop body is torch 1.13's _single_tensor_<name>() read element by element; the torch line
// is quoted beside each statement. Rules that make the bits agree (see fused_rnn_optim.h):
//   * a Python float reaching a float32 kernel is rounded to float once (the f_* locals);
//   * `x.add(y, alpha=a)` is fma(y, a, x) (ATen's vectorised add is vec::fmadd);
//   * `x.addcmul(y, z, value=c)` is fma(c*y, z, x) (GCC contracts ATen's `x + c*y*z`);
//   * `x.addcdiv(y, z, value=c)` is x + (c*y)/z, in that order;
//   * `torch.maximum` propagates NaN.
// Every file builds with -ffp-contract=off, so nothing else is fused; vectorising changes no bit
// (fma, sqrt and division are correctly rounded in every lane).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

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

// One update of one parameter buffer.
void run_update(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad, float* const* state,
                size_t n, float grad_scale, float clip_value, bool fresh_state) {
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

}  // namespace
}  // namespace frnn
