// Softmax cross-entropy with logits over rows (a model's classification head, an LM's vocabulary):
// the loss sum and its gradient in two passes over each row, exp on the active ISA's vector math.
#include <cmath>
#include <string>

#include "cpu/fpmode.h"
#include "cpu/isa.h"
#include "fused_rnn.h"
#include "vmath/vmath.h"

namespace frnn {
namespace {

VmathFn vexp_for_active_isa() {
  switch (active_isa()) {
#if defined(__x86_64__) || defined(_M_X64)
    case Isa::kAvx2: return frnn_f32_vexp__avx2;
    case Isa::kAvx512: return frnn_f32_vexp__avx512;
#endif
#if defined(__aarch64__)
    case Isa::kNeon: return frnn_f32_vexp__neon;
#endif
    default: return frnn_f32_vexp__scalar;
  }
}

// Eight independent lanes (the compiler vectorises them; the order is fixed, so the result is the
// same on every ISA) instead of one long dependency chain per row.
constexpr size_t kLanes = 8;

size_t arg_max(const float* z, size_t n) {
  float best[kLanes];
  size_t at[kLanes];
  for (size_t k = 0; k < kLanes; ++k) best[k] = -INFINITY, at[k] = 0;
  size_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (size_t k = 0; k < kLanes; ++k)
      if (z[c + k] > best[k]) best[k] = z[c + k], at[k] = c + k;
  size_t arg = 0;
  float max = -INFINITY;
  for (size_t k = 0; k < kLanes; ++k)  // the first index among equal maxima, as a plain scan
    if (best[k] > max || (best[k] == max && at[k] < arg)) max = best[k], arg = at[k];
  for (; c < n; ++c)
    if (z[c] > max) max = z[c], arg = c;
  return arg;
}

double sum(const float* x, size_t n) {
  double acc[kLanes] = {};
  size_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (size_t k = 0; k < kLanes; ++k) acc[k] += x[c + k];
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; c < n; ++c) s += x[c];
  return s;
}

}  // namespace

Status softmax_cross_entropy(const float* logits, size_t rows, size_t classes, const float* targets,
                             const uint8_t* valid, float grad_scale, float* grad, CrossEntropySums* sums) {
  // Targets first: a bad class id must not leave a half-written gradient behind.
  for (size_t r = 0; r < rows; ++r) {
    if (valid && !valid[r]) continue;
    const float t = targets[r];
    if (!(t >= 0 && t < static_cast<float>(classes)) || std::floor(t) != t)
      return Status::Error("Expected integer in 0.." + std::to_string(classes - 1) + " for target class of row " +
                           std::to_string(r) + " but received " + std::to_string(t));
  }
  const VmathFn vexp = vexp_for_active_isa();
  const FlushDenormals ftz;
  for (size_t r = 0; r < rows; ++r) {
    float* g = grad + r * classes;
    if (valid && !valid[r]) {
      for (size_t c = 0; c < classes; ++c) g[c] = 0.0f;
      continue;
    }
    const float* z = logits + r * classes;
    const size_t arg = arg_max(z, classes);
    const float max = z[arg];
    for (size_t c = 0; c < classes; ++c) g[c] = z[c] - max;
    vexp(classes, g, g);
    const double se = sum(g, classes);  // float64: a 50k-word vocabulary sums without drift
    const size_t cls = static_cast<size_t>(targets[r]);
    sums->loss += std::log(se) + static_cast<double>(max) - static_cast<double>(z[cls]);
    if (arg == cls) sums->correct += 1;
    const float scale = static_cast<float>(static_cast<double>(grad_scale) / se);
    for (size_t c = 0; c < classes; ++c) g[c] *= scale;
    g[cls] -= grad_scale;
  }
  return Status{};
}

}  // namespace frnn
