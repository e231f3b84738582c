// Scalar activation functions in float, with std:: transcendentals (correctly rounded to
// within an ulp or two in glibc), so the scalar path is the accuracy reference.
#include "vmath/activations.h"

#include <cmath>

namespace frnn {

static float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

float activate(const Activation& a, float x) {
  switch (a.kind) {
    case ActKind::kSigmoid: return sigmoid(x);
    case ActKind::kTanh: return std::tanh(x);
    case ActKind::kRelu: return x > 0.0f ? x : 0.0f;
    case ActKind::kIdentity: return x;
    case ActKind::kHardSigmoid: {
      const float v = a.alpha * x + a.beta;
      return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case ActKind::kAffine: return a.alpha * x + a.beta;
    case ActKind::kLeakyRelu: return x >= 0.0f ? x : a.alpha * x;
    case ActKind::kThresholdedRelu: return x > a.alpha ? x : 0.0f;
    case ActKind::kScaledTanh: return a.alpha * std::tanh(a.beta * x);
    case ActKind::kElu: return x >= 0.0f ? x : a.alpha * std::expm1(x);
    case ActKind::kSoftsign: return x / (1.0f + std::fabs(x));
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x.
    case ActKind::kSoftplus: return (x > 0.0f ? x : 0.0f) + std::log1p(std::exp(-std::fabs(x)));
    case ActKind::kCount: break;
  }
  return x;
}

float activate_grad(const Activation& a, float x, float y) {
  switch (a.kind) {
    case ActKind::kSigmoid: return y * (1.0f - y);
    case ActKind::kTanh: return 1.0f - y * y;
    case ActKind::kRelu: return x > 0.0f ? 1.0f : 0.0f;
    case ActKind::kIdentity: return 1.0f;
    case ActKind::kHardSigmoid: {
      const float v = a.alpha * x + a.beta;
      return v > 0.0f && v < 1.0f ? a.alpha : 0.0f;
    }
    case ActKind::kAffine: return a.alpha;
    case ActKind::kLeakyRelu: return x >= 0.0f ? 1.0f : a.alpha;
    case ActKind::kThresholdedRelu: return x > a.alpha ? 1.0f : 0.0f;
    case ActKind::kScaledTanh: {
      const float t = std::tanh(a.beta * x);
      return a.alpha * a.beta * (1.0f - t * t);
    }
    case ActKind::kElu: return x >= 0.0f ? 1.0f : a.alpha * std::exp(x);
    case ActKind::kSoftsign: {
      const float d = 1.0f + std::fabs(x);
      return 1.0f / (d * d);
    }
    case ActKind::kSoftplus: return sigmoid(x);
    case ActKind::kCount: break;
  }
  return 1.0f;
}

}  // namespace frnn
