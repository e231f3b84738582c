// Activation functions and their derivatives (scalar reference).
#pragma once

#include <cstddef>

#include "fused_rnn.h"

namespace frnn {

// y = act(x)
float activate(const Activation& a, float x);

// d act / dx at x, given y = act(x) (sigmoid and tanh use y, the others x).
float activate_grad(const Activation& a, float x, float y);

// ONNX clip on a gate pre-activation: clamp to [-clip, clip] when clip > 0.
inline float clip_value(float x, float clip) {
  if (clip <= 0.0f) return x;
  return x < -clip ? -clip : (x > clip ? clip : x);
}
// Derivative of clip_value: 0 where the clamp was active.
inline float clip_grad(float x, float clip) { return clip <= 0.0f || (x >= -clip && x <= clip) ? 1.0f : 0.0f; }

}  // namespace frnn
