// fused-rnn optimizers: one fused update per parameter buffer, in float32, with PyTorch 1.13's
// torch.optim semantics (the single-tensor, non-foreach CPU implementations).
//
// Same formula and operation order as torch, op for op. Scalars (step size, bias corrections,
// 1 - beta, ...) are computed in double, as Python floats are, then rounded to float where torch
// passes them to a float32 kernel. Where torch's CPU kernels fuse a multiply-add (its AVX2,
// AVX-512 and NEON builds: `add(x, alpha=a)` is vec::fmadd, and GCC contracts the last step of
// addcmul), std::fma is called at the same place, so a step gives torch's bits on those builds.
// (torch forced to ATEN_CPU_CAPABILITY=default rounds those twice and differs in the last bit.)
//
// Gradient clipping happens on the fly, without writing to grad: g = grad[i] * grad_scale
// (float), then clamped to [-clip_value, clip_value]. grad_scale is the global-norm clip
// coefficient (torch.nn.utils.clip_grad_norm_ multiplies the gradients by it in float32),
// clip_value torch.nn.utils.clip_grad_value_.
//
// Step counting: torch keeps a step per parameter; callers here usually pass one step per
// optimizer (every parameter updated together). Denormals are NOT flushed (torch does not).
#pragma once

#include <cstddef>
#include <cstdint>

#include "fused_rnn.h"  // Status

namespace frnn {

enum class OptimKind : int32_t { kSgd = 0, kAdam, kAdamW, kRmsprop, kAdagrad, kCount };

// Every hyper-parameter of the five optimizers; each kind reads its own. Defaults are torch's
// for Adam (AdamW's weight decay default 1e-2 is the caller's to set).
struct OptimHyper {
  double lr = 1e-3;                        // all (SGD, RMSprop, Adagrad: torch defaults 1e-2 or required)
  double momentum = 0.0;                   // SGD, RMSprop; 0 = none
  double dampening = 0.0;                  // SGD
  bool nesterov = false;                   // SGD; needs momentum > 0 and dampening == 0
  double weight_decay = 0.0;               // all: L2 (g += wd*p), AdamW: decoupled (p *= 1 - lr*wd)
  double beta1 = 0.9, beta2 = 0.999;       // Adam, AdamW
  double eps = 1e-8;                       // Adam, AdamW, RMSprop (1e-8), Adagrad (torch 1e-10)
  bool amsgrad = false;                    // Adam, AdamW
  double alpha = 0.99;                     // RMSprop smoothing constant
  bool centered = false;                   // RMSprop
  double lr_decay = 0.0;                   // Adagrad
  double initial_accumulator_value = 0.0;  // Adagrad: the value optim_init_state() fills `sum` with
};

// The state buffers of a kind, in the order optim_step() takes them (torch's state names):
//   SGD      momentum_buffer (only if momentum != 0)
//   Adam(W)  exp_avg, exp_avg_sq, max_exp_avg_sq (only if amsgrad)
//   RMSprop  square_avg, momentum_buffer (only if momentum > 0), grad_avg (only if centered)
//   Adagrad  sum
size_t optim_state_count(OptimKind kind, const OptimHyper& h);
const char* optim_state_name(OptimKind kind, const OptimHyper& h, size_t index);  // nullptr past the end
const char* optim_kind_name(OptimKind kind);  // "sgd", "adam", "adamw", "rmsprop", "adagrad"

// Checks the hyper-parameters as torch's constructors do (lr >= 0, 0 <= beta < 1, ...) and that
// every one is finite. The message names the field in camelCase, as the JS options do.
Status validate_optim(OptimKind kind, const OptimHyper& h);

// Fills freshly created state buffers (n floats each): Adagrad's sum with
// initial_accumulator_value, everything else with 0.
void optim_init_state(OptimKind kind, const OptimHyper& h, float* const* state, size_t n);

// One update of one parameter buffer: param[n] updated in place from grad[n] (read only) and
// state[0..optim_state_count) (n floats each, updated in place). `step` is 1-based: the count
// of updates including this one (Adam's bias correction, Adagrad's lr decay). `fresh_state`:
// the state buffers were just created by optim_init_state(), so SGD's momentum buffer starts as
// a copy of g (torch: `buf is None`); the other kinds start from their initial state either way.
// The 9-argument form takes fresh_state = (step == 1). Inputs are not checked (validate_optim).
void optim_step(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad,
                float* const* state, size_t n, float grad_scale, float clip_value, bool fresh_state);
void optim_step(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad,
                float* const* state, size_t n, float grad_scale, float clip_value);

// sum of x[i]^2 accumulated in double, in a fixed order (the same bits on every run and ISA).
// The global gradient norm is sqrt of the sum over all buffers. torch.nn.utils.clip_grad_norm_
// takes the norm of float32 per-tensor norms instead: the two differ in the last bits only.
double sum_squares(const float* x, size_t n);

// The largest |x[i]| as its float bit pattern without the sign (one integer max per element,
// vectorised): >= 0x7f800000 (kNonFiniteBits) when some x[i] is NaN or +-Infinity. 0 for n = 0.
uint32_t max_abs_bits(const float* x, size_t n);
constexpr uint32_t kNonFiniteBits = 0x7f800000u;

}  // namespace frnn
