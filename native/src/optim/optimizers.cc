// SGD, Adam, AdamW, RMSprop, Adagrad: names, validation, state, and one pass over a parameter
// buffer per update. The loops (torch 1.13's operation order) are in optim/update_loops.h; the
// AVX2 / AVX-512 builds of them run when the CPU has FMA, the baseline build otherwise, with
// the same bits either way.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "cpu/isa.h"
#include "fused_rnn_optim.h"
#include "optim/update_loops.h"

namespace frnn {

#if defined(__x86_64__) || defined(_M_X64)
void optim_update__avx2(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad,
                        float* const* state, size_t n, float grad_scale, float clip_value, bool fresh_state);
void optim_update__avx512(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad,
                          float* const* state, size_t n, float grad_scale, float clip_value, bool fresh_state);
#endif

namespace {
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
  switch (active_isa()) {
#if defined(__x86_64__) || defined(_M_X64)
    case Isa::kAvx2: return optim_update__avx2(kind, h, step, param, grad, state, n, grad_scale, clip_value, fresh_state);
    case Isa::kAvx512:
      return optim_update__avx512(kind, h, step, param, grad, state, n, grad_scale, clip_value, fresh_state);
#endif
    default: return run_update(kind, h, step, param, grad, state, n, grad_scale, clip_value, fresh_state);
  }
}

void optim_step(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad,
                float* const* state, size_t n, float grad_scale, float clip_value) {
  optim_step(kind, h, step, param, grad, state, n, grad_scale, clip_value, step == 1);
}

uint32_t max_abs_bits(const float* x, size_t n) {
  // The bit patterns of |x| order like the values, and every NaN or infinity lies above all
  // finite floats: an unsigned max over (bits & 0x7fffffff) finds both at once.
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, x + i, sizeof b);
    b &= 0x7fffffffu;
    m = b > m ? b : m;
  }
  return m;
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
